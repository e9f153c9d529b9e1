//! The macros' pure parsers, compiled in from macros/src (a proc-macro crate cannot be linked
//! into a fuzzer): route patterns (`#[route(GET "/a/:b/*")]`) and cron strings
//! (`#[scheduled("0 2 * * SUN")]`), including the error rendering that underlines the bad part.
//!
//! Input: byte 0 picks the parser, the rest is the string.

#![no_main]

#[allow(dead_code, unreachable_pub)]
#[path = "../../macros/src/pattern.rs"]
mod pattern;

#[allow(dead_code, unreachable_pub)]
#[path = "../../macros/src/cron.rs"]
mod cron;

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
            let rest_at = segs.iter().position(|p| *p == pattern::PSeg::Rest);
            assert!(rest_at.is_none_or(|i| i == segs.len() - 1));
        }
    } else if let Err(e) = cron::validate(s) {
        assert!(e.range.start <= e.range.end && e.range.end <= s.len());
        let _ = e.render(s);
    }
});
