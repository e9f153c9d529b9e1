//! End-to-end tests of the subscriber API behind an API key, in real workerd (run through
//! `cargo xtask test`, see tests/tests/common/run.rs for the setup): keyset pagination, writes visible
//! afterwards and idempotent, bad bodies refused, an all-or-nothing D1 batch import, and the KV
//! list of unsubscribed addresses with deletion.

mod common;

use common::*;

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn subscriber_list_pages_with_a_keyset_cursor() {
    let k = key();
    for n in 0..5 {
        assert_eq!(add_subscriber(&format!("page-{n}@example.com")).status, 201);
    }
    let page = |query: &str| {
        let r = send("GET", &format!("/api/subscribers{query}"), &[("x-api-key", &k)], None);
        assert_eq!(r.status, 200, "{query}: {}", r.body);
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        let emails: Vec<String> =
            v["subscribers"].as_array().unwrap().iter().map(|s| s["email"].as_str().unwrap().to_owned()).collect();
        (emails, v["next"].as_str().map(str::to_owned))
    };
    let (all, next) = page("?limit=1000");
    assert!(next.is_none(), "fewer than 1000 rows, yet a next page");
    assert!(all.windows(2).all(|w| w[0] < w[1]), "not in email order: {all:?}");
    // Walk the whole list two rows at a time: the same rows, each once, in order.
    let (mut walked, mut cursor, mut pages) = (Vec::new(), None::<String>, 0);
    loop {
        let q = match &cursor {
            Some(c) => format!("?limit=2&cursor={}", c.replace('@', "%40").replace('+', "%2B")),
            None => "?limit=2".to_owned(),
        };
        let (rows, next) = page(&q);
        assert!(rows.len() <= 2);
        walked.extend(rows);
        pages += 1;
        match next {
            Some(n) => cursor = Some(n),
            None => break,
        }
        assert!(pages <= all.len(), "the cursor does not advance");
    }
    assert_eq!(walked, all);
    assert!(pages >= 3, "5 rows in pages of 2 took {pages} page(s)");
    // The default page is bounded, and a cursor past the end is an empty last page.
    assert!(page("").0.len() <= 100);
    assert_eq!(page("?cursor=%7E"), (Vec::new(), None));
    for bad in ["?limit=0", "?limit=1001", "?limit=ten", "?limit=-1"] {
        let r = send("GET", &format!("/api/subscribers{bad}"), &[("x-api-key", &k)], None);
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
    }
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn write_with_key_is_visible_afterwards_and_idempotent() {
    let r = send(
        "POST",
        "/api/subscribers",
        &[("content-type", "application/json")],
        Some("{\"email\":\"x@example.com\"}"),
    );
    assert_eq!(r.status, 401);
    assert_eq!(status_of("x@example.com"), None, "a denied write must not land");
    let r = add_subscriber("Writer@Example.com");
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(status_of("writer@example.com").as_deref(), Some("active"));
    assert_eq!(add_subscriber("writer@example.com").status, 201);
    let all = subscribers();
    let n = all["subscribers"].as_array().unwrap().iter().filter(|s| s["email"] == "writer@example.com").count();
    assert_eq!(n, 1);
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn bad_json_and_content_type() {
    let k = key();
    let r = send("POST", "/api/subscribers", &[("x-api-key", &k), ("content-type", "application/json")], Some("{nope"));
    assert_eq!(r.status, 400);
    let r = send("POST", "/api/subscribers", &[("x-api-key", &k), ("content-type", "text/plain")], Some("{}"));
    assert_eq!(r.status, 415);
    let r = add_subscriber("not-an-email");
    assert_eq!(r.status, 400);
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn batch_import_is_all_or_nothing() {
    let k = key();
    let (a, b) = (unique("batch-a"), unique("batch-b"));
    let body = format!("{{\"emails\":[\"{a}\",\"{b}\",\"not an email\"]}}");
    let r = send(
        "POST",
        "/api/subscribers/import",
        &[("x-api-key", &k), ("content-type", "application/json")],
        Some(&body),
    );
    assert_eq!(r.status, 400);
    assert_eq!(status_of(&a), None);
    let body = format!("{{\"emails\":[\"{a}\",\"{b}\",\"{a}\"]}}");
    let r = send(
        "POST",
        "/api/subscribers/import",
        &[("x-api-key", &k), ("content-type", "application/json")],
        Some(&body),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["added"], 2, "{v}");
    assert_eq!(status_of(&a).as_deref(), Some("active"));
    assert_eq!(status_of(&b).as_deref(), Some("active"));
    let r = send("POST", "/api/subscribers/import", &[("content-type", "application/json")], Some(&body));
    assert_eq!(r.status, 401);
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn kv_list_and_delete() {
    let k = key();
    let email = unique("kv");
    assert_eq!(add_subscriber(&email).status, 201);
    let t = unsub_token(&email, now() + 3600);
    assert_eq!(send("POST", &format!("/api/unsubscribe/{t}"), &[], Some("")).status, 200);
    let listed = |k: &str| {
        let r = send("GET", "/api/unsubscribed", &[("x-api-key", k)], None);
        assert_eq!(r.status, 200, "{}", r.body);
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        v["emails"].as_array().unwrap().iter().any(|e| e == email.as_str())
    };
    assert!(listed(&k));
    assert_eq!(get("/api/unsubscribed").status, 401);
    assert_eq!(send("DELETE", &format!("/api/subscribers/{email}"), &[], None).status, 401);
    let r = send("DELETE", &format!("/api/subscribers/{email}"), &[("x-api-key", &k)], None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(status_of(&email), None);
    assert!(!listed(&k));
    assert_eq!(send("DELETE", &format!("/api/subscribers/{email}"), &[("x-api-key", &k)], None).status, 404);
}
