//! End-to-end tests of routing as a client meets it, in real workerd (run through
//! `cargo xtask test`, see tests/tests/common/run.rs for the setup): public pages reading D1, `HEAD`,
//! 404 and 405 (with `Allow`, and methods no route declares), and spellings of a protected
//! path that must never reach its handler without credentials.

mod common;

use common::*;

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn public_home_reads_d1() {
    let r = get("/");
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap_or("").starts_with("text/html"));
    assert!(r.body.contains("Hello, layers"), "{}", r.body);
    assert!(r.body.contains("layers demo"), "SITE_NAME var: {}", r.body);
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn public_post_and_missing_post() {
    let r = get("/blog/why-claims");
    assert_eq!(r.status, 200);
    assert!(r.body.contains("Why Claims are a type"));
    assert_eq!(get("/blog/nope").status, 404);
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn head_answers_like_get_without_body() {
    let r = send("HEAD", "/", &[], None);
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn not_found_and_method_not_allowed() {
    assert_eq!(get("/nope").status, 404);
    let r = send("DELETE", "/", &[], None);
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("GET, HEAD"));
    let r = send("PUT", "/api/subscribers", &[], Some(""));
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("GET, HEAD, POST"));
    // Methods the runtime passes on but no route declares are refused, never read as GET
    // (workers-rs's `Method` maps every unknown method to `Get`; layers routes on the raw one).
    for m in ["PROPFIND", "MKCOL", "TRACE", "SEARCH"] {
        let r = send(m, "/", &[], None);
        assert!(!(200..300).contains(&r.status), "{m} / answered {}", r.status);
        if r.header("allow").is_some() {
            assert_eq!((r.status, r.header("allow")), (405, Some("GET, HEAD")), "{m} /");
        }
    }
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn path_tricks_never_reach_a_protected_handler() {
    // Each must be refused (400), not found (404), or meet the verifier (401) — never 200.
    let tricks = [
        "//api/subscribers",
        "/api//subscribers",
        "/%61pi/subscribers",
        "/api/%73ubscribers",
        "/api%2fsubscribers",
        "/api%2Fsubscribers",
        "/api%5csubscribers",
        "/api\\subscribers",
        "/api/./subscribers",
        "/api/x/../subscribers",
        "/api/%2e/subscribers",
        "/api/x/%2e%2e/subscribers",
        "/api/x/%2E%2E/subscribers",
        "/API/subscribers",
        "/api/Subscribers",
        "/api/subscribers/",
        "/api/subscribers%00",
        "/api/subscribers%20",
        "/api/subscribers;x=1",
        "/%2561pi/subscribers",
        "/api/subscribers?x-api-key=whatever",
        "/api/subscribers#frag",
    ];
    for t in tricks {
        let r = get(t);
        assert!(matches!(r.status, 400 | 401 | 404), "{t}: got {} {}", r.status, r.body);
        assert!(!r.body.contains("subscribers\""), "{t} leaked data: {}", r.body);
    }
    // Decoded spellings of the protected path meet its verifier.
    assert_eq!(get("/%61pi/subscribers").status, 401);
    assert_eq!(get("//api/subscribers").status, 400);
    assert_eq!(get("/api%2fsubscribers").status, 400);
}
