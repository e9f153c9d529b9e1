//! The parsers the macros run, from `layers-spec` (which the macros and the runtime share):
//! route patterns (`#[route(GET "/a/:b/*")]`) and cron strings (`#[scheduled("0 2 * * SUN")]`),
//! including the error rendering that underlines the bad part. An accepted pattern must also
//! pass the runtime's own check of hand-built tables (`segments_ok`).
//!
//! Input: byte 0 picks the parser, the rest is the string.

#![no_main]

use layers_spec::{cron, pattern};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let Ok(s) = std::str::from_utf8(rest) else { return };
    if mode % 2 == 0 {
        let (segs, errs) = pattern::parse(s);
        for e in &errs {
            assert!(e.range.start <= e.range.end && e.range.end <= s.len());
            let _ = e.render(s);
        }
        if errs.is_empty() {
            // An accepted pattern is `/` or `/`-joined segments, `*` only last.
            let rest_at = segs.iter().position(|p| *p == pattern::Seg::Rest);
            assert!(rest_at.is_none_or(|i| i == segs.len() - 1));
            assert!(pattern::segments_ok(&segs), "{s:?} parsed but segments_ok refuses it");
        }
    } else if let Err(e) = cron::validate(s) {
        assert!(e.range.start <= e.range.end && e.range.end <= s.len());
        let _ = e.render(s);
    }
});
