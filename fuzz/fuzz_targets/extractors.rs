//! The extractors' decoders: `Json<T>` (`serde_json` into typed structs and values), `Query<T>` /
//! `Form<T>` (`serde_urlencoded`), `Path<T>` (the parameters deserializer), `parse_query` and the
//! redaction of serde's messages. Every failure is a 400 problem.
//!
//! Input: byte 0 picks the decoder, the rest is the text.

#![no_main]

use std::collections::HashMap;

use layers_core::__fuzz::{json_body, path_params, safe_detail, urlencoded};
use layers_core::request::parse_query;
use libfuzzer_sys::fuzz_target;
use serde::Deserialize;

#[allow(dead_code)]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Subscriber {
    email: String,
    name: Option<String>,
    tags: Option<Vec<String>>,
    age: Option<u8>,
    kind: Option<Kind>,
}

#[allow(dead_code)]
#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Kind {
    Weekly,
    Daily,
}

#[allow(dead_code)]
#[derive(Debug, Deserialize)]
struct Page {
    page: Option<u32>,
    tag: Option<String>,
    q: Option<String>,
    draft: Option<bool>,
}

#[allow(dead_code)]
#[derive(Debug, Deserialize)]
struct Params {
    slug: String,
    n: u64,
}

/// Everything a detail may say that does not come from the input: layers' own words, serde's and
/// serde_json's, and what the target types above say of themselves (their names, fields,
/// variants and expectations). These are cut out of a detail; an 8-byte window of the input found
/// in what is left was echoed.
const VOCABULARY: &[&str] = &[
    "JSON body ends too early", "JSON body is not valid JSON", "JSON body: ", "query: ", "path: ",
    "missing field ", "duplicate field ", "unknown field", "unknown variant", "wrong number of values",
    "invalid type", "invalid value", ", expected ", "expected ", "struct Subscriber", "struct Page",
    "struct Params", "enum Kind", "one of ", "variant identifier", "field identifier", "a string",
    "a borrowed string", "a sequence", "a map", "a tuple of size 2", "a boolean", "u8", "u32", "u64",
    "i64", "an integer", "a struct or tuple for several path parameters", "`email`", "`name`", "`tags`",
    "`age`", "`kind`", "`page`", "`tag`", "`q`", "`draft`", "`slug`", "`n`", "`weekly`", "`daily`",
    "value", "`,` or `}`", "`,` or `]`", "`:`", "ident", "key must be a string", ", ", "`\"`",
];

fn check<T>(input: &[u8], r: Result<T, layers_core::Error>) {
    if let Err(e) = r {
        assert_eq!(e.status(), 400);
        let json = e.problem_json().expect("a problem+json body");
        let v: serde_json::Value = serde_json::from_str(&json).expect("valid problem+json");
        let detail = v["detail"].as_str().unwrap_or_default();
        // The position serde_json reports is the server's own count, and what follows the last
        // `, expected ` is the target type's own expectation (`safe_detail` keeps nothing else
        // after it): both are cut, then the words below.
        let head = detail.split(" (line ").next().unwrap_or(detail);
        let head = head.rsplit_once(", expected ").map_or(head, |(h, _)| h);
        let mut rest = head.to_owned();
        let mut words = VOCABULARY.to_vec();
        words.sort_by_key(|w| std::cmp::Reverse(w.len()));
        for w in words {
            rest = rest.replace(w, "\0");
        }
        // What is left, in pieces: a window can only be echoed inside one of them.
        let pieces: Vec<&str> = rest.split('\0').filter(|p| !p.is_empty()).collect();
        for w in input.windows(8) {
            if let Ok(w) = std::str::from_utf8(w) {
                assert!(!pieces.iter().any(|p| p.contains(w)), "the detail {detail:?} echoes {w:?} of the input");
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let text = std::str::from_utf8(rest);
    match mode % 8 {
        0 => check(rest, json_body::<Subscriber>(rest)),
        1 => check(rest, json_body::<serde_json::Value>(rest)),
        2 => check(rest, json_body::<Vec<(String, i64)>>(rest)),
        3 => {
            if let Ok(t) = text {
                check(rest, urlencoded::<Page>(t));
                check(rest, urlencoded::<Subscriber>(t));
            }
        }
        4 => {
            if let Ok(t) = text {
                check(rest, urlencoded::<HashMap<String, String>>(t));
                check(rest, urlencoded::<Vec<(String, String)>>(t));
            }
        }
        5 => {
            if let Ok(t) = text {
                for (k, v) in parse_query(t) {
                    assert!(!k.contains('&') || t.contains('%'));
                    let _ = v;
                }
            }
        }
        6 => {
            if let Ok(t) = text {
                let (a, b) = t.split_once('/').unwrap_or((t, ""));
                let params = [("slug", a.to_owned()), ("n", b.to_owned())];
                check(rest, path_params::<Params>(&params));
                check(rest, path_params::<(String, u64)>(&params));
                check(rest, path_params::<String>(&params[..1]));
                check(rest, path_params::<u64>(&params[1..]));
            }
        }
        _ => {
            if let Ok(t) = text {
                // Whatever serde says around a hostile value, the value never comes back: a
                // message that quotes the text (as serde quotes a client's string) is redacted.
                let quoted = format!("invalid type: string {t:?}, expected u32 at line 1 column 9");
                let d = safe_detail(&quoted);
                for w in t.as_bytes().windows(8) {
                    if let Ok(w) = std::str::from_utf8(w) {
                        assert!(!d.contains(w) || "invalid type, expected u32".contains(w), "{d:?} echoes {w:?}");
                    }
                }
            }
        }
    }
});
