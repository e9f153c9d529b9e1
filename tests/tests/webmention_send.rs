//! End-to-end: sending webmentions. `POST /admin/posts` publishes a post whose body links to
//! pages of the loopback stubs (`/wt/…`, allowed by `WEBMENTION_ALLOW_ORIGINS=<stubs origin>`);
//! the reindex consumer queues a send per link, the `webmentions` consumer discovers each
//! page's endpoint (a `Link` header, an `<a rel=webmention>`, after a redirect) and posts
//! `source`/`target` to it through the outbound URL guard; failures back off and the weekly cron
//! retries them until they are abandoned. `GET /admin/webmentions` shows every row.
//!
//! Run through `cargo xtask e2e` (it sets `SITE_URL=https://layers.test`,
//! `WEBMENTION_RETRY_SECS=1` and `WEBMENTION_SEND_BACKOFF_SECS=0`).

mod common;
use common::*;

use std::time::{Duration, Instant};

const SITE: &str = "https://layers.test";
const ADMIN: &str = "admin@example.com";

fn publish(token: &str, slug: &str, body: &str) -> serde_json::Value {
    let post = serde_json::json!({ "slug": slug, "title": format!("Links from {slug}"), "body": body });
    let r = as_admin("POST", "/admin/posts", token, Some(&post.to_string()));
    assert_eq!(r.status, 201, "{}", r.body);
    json(&r)
}

/// The send rows of post `slug`, by target.
fn sends(token: &str, slug: &str) -> Vec<serde_json::Value> {
    let v = json(&as_admin("GET", "/admin/webmentions?limit=100", token, None));
    v["items"].as_array().unwrap().iter().filter(|r| r["slug"] == slug).cloned().collect()
}

/// Waits until every send of `slug` (`n` of them) satisfies `done`.
fn wait_sends(
    token: &str,
    slug: &str,
    n: usize,
    what: &str,
    done: impl Fn(&serde_json::Value) -> bool,
) -> Vec<serde_json::Value> {
    let start = Instant::now();
    loop {
        let rows = sends(token, slug);
        if rows.len() == n && rows.iter().all(&done) {
            return rows;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting for {slug}'s sends to be {what}: {rows:?}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

fn row<'a>(rows: &'a [serde_json::Value], target: &str) -> &'a serde_json::Value {
    rows.iter().find(|r| r["target"] == target).unwrap_or_else(|| panic!("no send to {target}: {rows:?}"))
}

fn targets_report() -> serde_json::Value {
    serde_json::from_str(&stub("GET", "/__control/wt", None)).unwrap()
}

fn settled(r: &serde_json::Value) -> bool {
    !matches!(r["status"].as_str(), Some("pending" | "retry"))
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn send_a_publishing_discovers_each_endpoint_and_sends() {
    let token = admin_token_of(ADMIN);
    let slug = format!("send-{}", now());
    let stubs = stubs_url();
    let page = |p: &str| format!("{stubs}/wt/{p}?m={slug}");
    let body = format!(
        "Discovery by header: {}. By an anchor: ({}), after a redirect: {}\n\n\
         Nowhere to send: {} and {}; an endpoint on a private address: {}. \
         Our own posts get none: {SITE}/blog/hello-layers, nor do repeats: {}",
        page("header"),
        page("html"),
        page("redirect"),
        page("none"),
        page("gone"),
        page("ssrf"),
        page("header"),
    );
    let answer = publish(&token, &slug, &body);
    assert_eq!(answer["url"], format!("{SITE}/blog/{slug}"));
    assert_eq!(answer["links"].as_array().map(Vec::len), Some(6), "{answer}");

    let rows = wait_sends(&token, &slug, 6, "settled", settled);
    let endpoint = |via: &str| format!("{stubs}/wt/endpoint?via={via}");
    for (p, via) in [("header", "header"), ("html", "html&x=1"), ("redirect", "html&x=1")] {
        let r = row(&rows, &page(p));
        assert_eq!((r["status"].as_str(), r["reason"].as_str()), (Some("sent"), Some("accepted")), "{p}: {r}");
        assert_eq!(r["endpoint"], endpoint(via), "{p}: {r}");
        assert_eq!(r["endpoint_status"], 201, "{p}: {r}");
        assert_eq!(r["attempts"], 1, "{p}: {r}");
    }
    assert_eq!(row(&rows, &page("none"))["status"], "no_endpoint");
    let gone = row(&rows, &page("gone"));
    assert_eq!((gone["status"].as_str(), gone["reason"].as_str()), (Some("rejected"), Some("status_410")), "{gone}");
    let ssrf = row(&rows, &page("ssrf"));
    assert_eq!(ssrf["status"], "rejected", "{ssrf}");
    assert!(ssrf["reason"].as_str().is_some_and(|r| r.starts_with("refused:")), "{ssrf}");
    assert!(ssrf["endpoint"].is_null(), "a refused endpoint is not recorded as ours: {ssrf}");

    // The endpoints got exactly our post as the source and their page as the target, and the
    // decoys (a comment, a script, a second element, HTML behind a Link header) were ignored.
    let report = targets_report();
    let mine: Vec<&serde_json::Value> = report["received"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["target"].as_str().is_some_and(|t| t.ends_with(&slug)))
        .collect();
    let mut got: Vec<(String, String)> = mine
        .iter()
        .map(|m| (m["via"].as_str().unwrap().to_owned(), m["target"].as_str().unwrap().to_owned()))
        .collect();
    got.sort();
    let mut want = vec![
        ("header".to_owned(), page("header")),
        ("html".to_owned(), page("html")),
        ("html".to_owned(), page("redirect")),
    ];
    want.sort();
    assert_eq!(got, want, "{report}");
    assert!(mine.iter().all(|m| m["source"] == format!("{SITE}/blog/{slug}")), "{report}");

    // The post links to them for real (a receiver verifies that).
    let html = get(&format!("/blog/{slug}")).body;
    assert!(html.contains(&format!("<a href=\"{}\">", page("header"))), "{html}");

    // The admin page shows the rows to a browser too.
    let h = [("cf-access-jwt-assertion", token.as_str()), ("accept", "text/html")];
    let page_html = send("GET", "/admin/webmentions", &h, None);
    assert_eq!(page_html.status, 200);
    assert!(
        page_html.body.contains("<h1>webmentions sent</h1>") && page_html.body.contains("no_endpoint"),
        "{}",
        page_html.body
    );
    let bad = as_admin("GET", "/admin/webmentions?dir=sideways", &token, None);
    assert_eq!(bad.status, 400, "{}", bad.body);
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn send_b_failures_back_off_then_the_weekly_cron_retries_until_abandoned() {
    let token = admin_token_of(ADMIN);
    let slug = format!("flaky-{}", now());
    let target = format!("{}/wt/flaky?m={slug}", stubs_url());
    let hits = || targets_report()["hits"]["/wt/endpoint-500"].as_u64().unwrap_or(0);
    let before = hits();
    let t0 = Instant::now();
    publish(&token, &slug, &format!("This one will not answer well: {target}"));
    let rows = wait_sends(&token, &slug, 1, "failed", |r| r["status"] == "failed");
    // Three attempts, one second then two apart (`WEBMENTION_RETRY_SECS=1`, doubling).
    assert_eq!(
        (rows[0]["attempts"].as_i64(), rows[0]["reason"].as_str()),
        (Some(3), Some("status_500")),
        "{:?}",
        rows[0]
    );
    assert!(t0.elapsed() >= Duration::from_secs(3), "the retries did not back off: {:?}", t0.elapsed());
    assert_eq!(hits() - before, 3);

    // Each weekly run queues the failed send again (a round), up to three rounds; the next run
    // gives up on it.
    for round in 1..=3 {
        let r = get("/__scheduled?cron=0+2+*+*+SUN");
        assert_eq!(r.status, 200, "{}", r.body);
        wait_sends(&token, &slug, 1, &format!("failed in round {round}"), |r| {
            r["status"] == "failed" && r["rounds"] == round
        });
    }
    assert_eq!(hits() - before, 12, "three attempts in each of four rounds");
    assert_eq!(get("/__scheduled?cron=0+2+*+*+SUN").status, 200);
    let rows = wait_sends(&token, &slug, 1, "abandoned", |r| r["status"] == "abandoned");
    assert_eq!(rows[0]["rounds"], 3);
    assert_eq!(get("/__scheduled?cron=0+2+*+*+SUN").status, 200);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(sends(&token, &slug)[0]["status"], "abandoned", "an abandoned send stays abandoned");
    assert_eq!(hits() - before, 12, "and is never tried again");
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn send_c_publishing_checks_its_input() {
    let token = admin_token_of(ADMIN);
    for (body, want) in [
        (r#"{"slug":"Bad Slug","title":"t","body":"b"}"#, 400),
        (r#"{"slug":"ok","title":"","body":"b"}"#, 400),
        (r#"{"slug":"ok","title":"t","body":"  "}"#, 400),
        (r#"{"slug":"ok","title":"t","body":"b","extra":1}"#, 400),
        ("not json", 400),
    ] {
        let r = as_admin("POST", "/admin/posts", &token, Some(body));
        assert_eq!(r.status, want, "{body}: {}", r.body);
        assert!(r.header("content-type").is_some_and(|c| c.starts_with("application/problem+json")), "{body}");
    }
    let h = [("cf-access-jwt-assertion", token.as_str()), ("content-type", "text/plain")];
    assert_eq!(send("POST", "/admin/posts", &h, Some(r#"{"slug":"ok","title":"t","body":"b"}"#)).status, 415);
    let r = send("POST", "/admin/posts", &[("content-type", "application/json")], Some("{}"));
    assert_eq!(r.status, 401, "no identity, no publishing: {}", r.body);
}
