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

fn check<T>(r: Result<T, layers_core::Error>) {
    if let Err(e) = r {
        assert_eq!(e.status(), 400);
        assert!(e.problem_json().is_some());
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let text = std::str::from_utf8(rest);
    match mode % 8 {
        0 => check(json_body::<Subscriber>(rest)),
        1 => check(json_body::<serde_json::Value>(rest)),
        2 => check(json_body::<Vec<(String, i64)>>(rest)),
        3 => {
            if let Ok(t) = text {
                check(urlencoded::<Page>(t));
                check(urlencoded::<Subscriber>(t));
            }
        }
        4 => {
            if let Ok(t) = text {
                check(urlencoded::<HashMap<String, String>>(t));
                check(urlencoded::<Vec<(String, String)>>(t));
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
                check(path_params::<Params>(&params));
                check(path_params::<(String, u64)>(&params));
                check(path_params::<String>(&params[..1]));
                check(path_params::<u64>(&params[1..]));
            }
        }
        _ => {
            if let Ok(t) = text {
                let _ = safe_detail(t);
            }
        }
    }
});
