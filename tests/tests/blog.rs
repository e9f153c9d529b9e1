//! End-to-end tests of the blog's public side (app/src/blog): pages, the OG image, the
//! newsletter's subscribe → confirm → unsubscribe flow with the mail stub, the contact form and
//! the abuse guard. Run through `cargo xtask test` (see tests/tests/common/run.rs for the setup).
//!
//! Each test sends its own `cf-connecting-ip` (a documentation address unique to the test), so
//! the abuse guard's per-address windows of different tests never meet.

mod common;

use std::sync::atomic::{AtomicU32, Ordering};

use common::*;

const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");

/// A client address no other test (or earlier run in the same window) uses.
fn fresh_ip() -> String {
    static N: AtomicU32 = AtomicU32::new(1);
    let n = N.fetch_add(1, Ordering::Relaxed);
    format!("2001:db8:{:x}:{n:x}::1", std::process::id() & 0xffff)
}

/// A Turnstile token the stub passes exactly once.
fn pass_token() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let token = format!(
        "pass-blog-{}-{}",
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    sensitive(&token);
    token
}

fn subscribe(ip: &str, email: &str, token: Option<&str>) -> Resp {
    let mut body = format!("email={}", enc(email));
    if let Some(t) = token {
        body.push_str(&format!("&cf-turnstile-response={}", enc(t)));
    }
    send("POST", "/api/subscribe", &[FORM, ("cf-connecting-ip", ip)], Some(&body))
}

fn contact(ip: &str, name: &str, email: &str, message: &str, token: Option<&str>) -> Resp {
    let mut body = format!("name={}&email={}&message={}", enc(name), enc(email), enc(message));
    if let Some(t) = token {
        body.push_str(&format!("&cf-turnstile-response={}", enc(t)));
    }
    send("POST", "/api/contact", &[FORM, ("cf-connecting-ip", ip)], Some(&body))
}

/// The rows for `email` in `GET /api/subscribers` (API key).
fn rows_of(email: &str) -> Vec<String> {
    let k = key();
    let r = send("GET", "/api/subscribers?limit=1000", &[("x-api-key", &k)], None);
    assert_eq!(r.status, 200, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    v["subscribers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["email"] == email)
        .map(|s| s["status"].as_str().unwrap().to_owned())
        .collect()
}

/// The messages the mail stub received for `to`.
fn mails_to(to: &str) -> Vec<serde_json::Value> {
    let all: serde_json::Value = serde_json::from_str(&stub("GET", "/__control/mail", None)).expect("mail stub JSON");
    all.as_array().unwrap().iter().filter(|m| m["to"] == to).cloned().collect()
}

/// The path of the first link in `text` whose path starts with `prefix`.
fn link(text: &str, prefix: &str) -> String {
    let start = text.find(prefix).unwrap_or_else(|| panic!("no {prefix} link in {text}"));
    text[start..].split_whitespace().next().unwrap().to_owned()
}

fn log_text() -> String {
    std::fs::read_to_string(log_path()).expect("wrangler log")
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn blog_home_lists_published_posts_escaped() {
    let r = get("/");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    for title in ["Hello, layers", "Why Claims are a type", "Drawing Open Graph images at the edge"] {
        assert!(r.body.contains(title), "{title}: {}", r.body);
    }
    assert!(r.body.contains("<a href=\"/blog/og-images-at-the-edge\">"), "{}", r.body);
    // A title with markup in it is shown as text.
    assert!(r.body.contains("Escaping &lt;script&gt; &amp; friends"), "{}", r.body);
    assert!(!r.body.contains("<script>"), "{}", r.body);
    // Drafts are not listed; newest first.
    assert!(!r.body.contains("draft-search-that-works"));
    let newest = r.body.find("Rate limits with Durable Objects").unwrap();
    let oldest = r.body.find("Hello, layers</a>").unwrap();
    assert!(newest < oldest);
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn blog_post_pages_escape_and_missing_ones_are_404() {
    let r = get("/blog/escaping-html-in-templates");
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("&lt;img src=x onerror=alert(1)&gt;"), "{}", r.body);
    assert!(!r.body.contains("<img src=x") && !r.body.contains("<script>"), "{}", r.body);
    assert!(r.body.contains("<title>Escaping &lt;script&gt; &amp; friends"), "{}", r.body);
    assert!(r.body.contains("content=\"/og/escaping-html-in-templates.png\""), "{}", r.body);
    assert!(r.body.contains(" views</p>"));
    for missing in ["/blog/nope", "/blog/draft-search-that-works", "/blog/Hello-Layers", "/posts/hello-layers"] {
        let r = get(missing);
        assert_eq!(r.status, 404, "{missing}");
    }
    let r = get("/blog/nope");
    assert!(r.header("content-type").unwrap_or_default().starts_with("text/html"), "404 page");
    assert!(r.body.contains("Not found"), "{}", r.body);
}

/// The seed's "page views" in D1: each view of a post counts once, after the response.
#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn blog_post_views_are_counted_in_d1() {
    let views = |body: &str| -> u64 {
        let end = body.find(" views</p>").expect("a view count");
        let start = body[..end].rfind('>').expect("the count's element") + 1;
        body[start..end].parse().expect("a number")
    };
    let before = views(&get("/blog/why-claims").body);
    for _ in 0..3 {
        assert_eq!(get("/blog/why-claims").status, 200);
    }
    // The counter runs after each response: wait until the last three landed. A page shows the
    // count before its own view, and each read here is a view too.
    let start = std::time::Instant::now();
    for reads in 0u64.. {
        let now = views(&get("/blog/why-claims").body);
        if now >= before + 4 {
            assert!(now <= before + 4 + reads, "{before} then {now} after {reads} reads: views counted more than once");
            break;
        }
        assert!(start.elapsed() < std::time::Duration::from_secs(10), "views stayed at {now} (from {before})");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// Checks the PNG structure natively: signature, chunk CRCs, IHDR, and that the image data is
/// a zlib stream whose Adler-32 trailer is present (decoding is tested natively in app's tests).
fn check_png(b: &[u8]) -> (u32, u32) {
    fn crc32(data: &[u8]) -> u32 {
        let mut c = 0xFFFF_FFFFu32;
        for &x in data {
            c ^= u32::from(x);
            for _ in 0..8 {
                c = if c & 1 == 1 { (c >> 1) ^ 0xEDB8_8320 } else { c >> 1 };
            }
        }
        !c
    }
    assert_eq!(&b[..8], b"\x89PNG\r\n\x1a\n", "signature");
    let mut at = 8;
    let mut kinds = Vec::new();
    let mut size = (0, 0);
    while at < b.len() {
        let len = u32::from_be_bytes(b[at..at + 4].try_into().unwrap()) as usize;
        let kind = &b[at + 4..at + 8];
        let data = &b[at + 8..at + 8 + len];
        let crc = u32::from_be_bytes(b[at + 8 + len..at + 12 + len].try_into().unwrap());
        assert_eq!(crc, crc32(&b[at + 4..at + 8 + len]), "CRC of {}", String::from_utf8_lossy(kind));
        if kind == b"IHDR" {
            assert_eq!(len, 13);
            size =
                (u32::from_be_bytes(data[..4].try_into().unwrap()), u32::from_be_bytes(data[4..8].try_into().unwrap()));
            assert_eq!(&data[8..], &[8, 3, 0, 0, 0], "8-bit indexed, deflate, no interlace");
        }
        if kind == b"IDAT" {
            assert_eq!(data[0] & 0x0F, 8, "zlib: deflate");
            assert_eq!((u32::from(data[0]) << 8 | u32::from(data[1])) % 31, 0, "zlib header check");
        }
        kinds.push(String::from_utf8_lossy(kind).into_owned());
        at += 12 + len;
    }
    assert_eq!(at, b.len());
    assert_eq!(kinds, ["IHDR", "PLTE", "IDAT", "IEND"]);
    size
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn blog_og_image_is_a_valid_png_cached_after_the_first_request() {
    let first = get("/og/og-images-at-the-edge.png");
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.header("content-type"), Some("image/png"));
    assert_eq!(first.header("x-cache"), Some("miss"));
    assert!(first.header("cache-control").unwrap_or_default().contains("max-age="), "{:?}", first.headers);
    assert_eq!(check_png(&first.bytes), (1200, 630));
    let second = get("/og/og-images-at-the-edge.png");
    assert_eq!(second.status, 200);
    assert_eq!(second.header("x-cache"), Some("hit"));
    assert_eq!(second.header("content-type"), Some("image/png"));
    assert_eq!(second.bytes, first.bytes);
    // Another post, another image.
    let other = get("/og/hello-layers.png");
    assert_eq!(other.status, 200);
    assert_ne!(other.bytes, first.bytes);
    for missing in
        ["/og/nope.png", "/og/hello-layers.jpg", "/og/hello-layers", "/og/draft-search-that-works.png", "/og/.png"]
    {
        assert_eq!(get(missing).status, 404, "{missing}");
    }
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn blog_subscribe_needs_a_fresh_turnstile_token() {
    let ip = fresh_ip();
    let email = unique("blog-ts");
    assert_eq!(subscribe(&ip, &email, None).status, 401);
    assert_eq!(subscribe(&ip, &email, Some("fail-token")).status, 403);
    assert_eq!(subscribe(&ip, &email, Some("spent-token")).status, 403);
    let t = pass_token();
    assert_eq!(subscribe(&ip, &email, Some(&t)).status, 202);
    assert_eq!(subscribe(&ip, &email, Some(&t)).status, 403, "a token verifies once");
    assert_eq!(rows_of(&email), ["pending"]);
    // Denied requests wrote nothing and mailed nothing beyond the one accepted request.
    assert_eq!(mails_to(&email).len(), 1);
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn blog_subscribe_confirm_unsubscribe_flow() {
    let ip = fresh_ip();
    let email = unique("blog-flow");
    let r = subscribe(&ip, &email, Some(&pass_token()));
    assert_eq!(r.status, 202, "{}", r.body);
    assert!(!r.body.contains("/api/confirm") && !r.body.contains("v1."), "no link in the response: {}", r.body);
    assert_eq!(rows_of(&email), ["pending"]);
    let mails = mails_to(&email);
    assert_eq!(mails.len(), 1, "{mails:?}");
    let text = mails[0]["text"].as_str().unwrap();
    assert!(mails[0]["subject"].as_str().unwrap().contains("Confirm"));
    let confirm = link(text, "/api/confirm/");
    let unsub = link(text, "/api/unsubscribe/");
    let confirm_token = confirm.trim_start_matches("/api/confirm/").to_owned();
    let unsub_token = unsub.trim_start_matches("/api/unsubscribe/").to_owned();
    sensitive(&confirm_token);
    sensitive(&unsub_token);
    // Nothing logged the links before they were used (wrangler's own access log would show the
    // paths once they are requested).
    let log = log_text();
    assert!(!log.contains(&confirm_token) && !log.contains(&unsub_token), "a link token reached the log");

    // Subscribing again: still one row, still pending, no second mail within the resend pause.
    assert_eq!(subscribe(&ip, &email, Some(&pass_token())).status, 202);
    assert_eq!(rows_of(&email), ["pending"]);
    assert_eq!(mails_to(&email).len(), 1);

    // A confirm link is not an unsubscribe link, and the other way round.
    assert_eq!(send("POST", &format!("/api/unsubscribe/{confirm_token}"), &[], Some("")).status, 403);
    assert_eq!(get(&format!("/api/confirm/{unsub_token}")).status, 403);
    assert_eq!(get("/api/confirm/v1.garbage.1.x").status, 403);
    assert_eq!(rows_of(&email), ["pending"]);

    // Opening the link (what a mail scanner's prefetch does) only shows the button.
    let page = get(&confirm);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(&format!("action=\"{confirm}\"")), "{}", page.body);
    assert_eq!(rows_of(&email), ["pending"], "a GET must not confirm");
    assert_eq!(send("POST", &format!("/api/confirm/{unsub_token}"), &[], Some("")).status, 403);
    let r = send("POST", &confirm, &[], Some(""));
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("confirmed"), "{}", r.body);
    assert_eq!(rows_of(&email), ["active"]);
    assert_eq!(send("POST", &confirm, &[], Some("")).status, 200, "confirming twice is fine");
    assert_eq!(rows_of(&email), ["active"]);
    // Subscribing while active changes nothing and mails nothing.
    assert_eq!(subscribe(&ip, &email, Some(&pass_token())).status, 202);
    assert_eq!(rows_of(&email), ["active"]);
    assert_eq!(mails_to(&email).len(), 1);

    assert!(get(&unsub).body.contains("<form"));
    let first = send("POST", &unsub, &[], Some(""));
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(rows_of(&email), ["unsubscribed"]);
    let second = send("POST", &unsub, &[], Some(""));
    assert_eq!(second.status, 200, "{}", second.body);
    assert_eq!(rows_of(&email), ["unsubscribed"]);
    assert!(get(&unsub).body.contains("You are unsubscribed"));
    // The old confirm link no longer resubscribes.
    assert_eq!(send("POST", &confirm, &[], Some("")).status, 409);
    assert_eq!(rows_of(&email), ["unsubscribed"]);

    // Subscribing again after unsubscribing: pending again, a new mail, still one row.
    assert_eq!(subscribe(&ip, &email, Some(&pass_token())).status, 202);
    assert_eq!(rows_of(&email), ["pending"]);
    assert_eq!(mails_to(&email).len(), 2);

    // The framework's log lines never hold the address; no line at all holds it.
    let log = log_text();
    assert!(!log.contains(&email), "the email address reached the log");
    let lines: Vec<serde_json::Value> = log.lines().filter_map(|l| serde_json::from_str(l.trim()).ok()).collect();
    assert!(lines.iter().any(|v| v["route"] == "/api/subscribe"), "subscribe was logged");
    for v in &lines {
        let s = v.to_string();
        assert!(!s.contains(&confirm_token) && !s.contains(&unsub_token), "token in a log line: {s}");
    }
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn blog_subscribe_validates_and_normalizes_the_email() {
    for bad in ["", "not-an-email", "a@localhost", "a b@example.com", "a@[127.0.0.1]", "<x@example.com>"] {
        let r = subscribe(&fresh_ip(), bad, Some(&pass_token()));
        assert_eq!(r.status, 400, "{bad:?}: {}", r.body);
        assert_eq!(r.header("content-type"), Some("application/problem+json"), "{bad:?}");
        if !bad.is_empty() {
            assert!(!r.body.contains(bad), "the input is not echoed: {}", r.body);
        }
    }
    let ip = fresh_ip();
    let local = unique("Blog-Case");
    let (name, domain) = local.split_once('@').unwrap();
    let mixed = format!("{name}@{}", domain.to_ascii_uppercase());
    assert_eq!(subscribe(&ip, &mixed, Some(&pass_token())).status, 202);
    // The whole address is lower-cased (app/src/email.rs): one person, one row.
    let folded = format!("{name}@{domain}").to_ascii_lowercase();
    assert_eq!(rows_of(&folded), ["pending"], "address lower-cased");
    assert!(rows_of(&format!("{name}@{domain}")).is_empty(), "no row keeps the local part's case");
    assert_eq!(subscribe(&ip, &format!("{name}@{domain}"), Some(&pass_token())).status, 202);
    assert_eq!(subscribe(&ip, &folded, Some(&pass_token())).status, 202);
    assert_eq!(rows_of(&folded).len(), 1);
    // The API routes normalize the same way: the same person, still one row.
    let k = key();
    let upper = format!("{}@{domain}", name.to_ascii_uppercase());
    let body = serde_json::json!({ "email": upper }).to_string();
    let r = send("POST", "/api/subscribers", &[("x-api-key", &k), ("content-type", "application/json")], Some(&body));
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(rows_of(&folded), ["active"]);
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn blog_abuse_guard_limits_each_address() {
    // ABUSE_LIMIT is 4 in the e2e run (tests/tests/common/run.rs).
    let ip = fresh_ip();
    for i in 0..4 {
        let r = subscribe(&ip, &unique(&format!("blog-guard{i}")), Some(&pass_token()));
        assert_eq!(r.status, 202, "call {i}: {}", r.body);
    }
    let r = subscribe(&ip, &unique("blog-guard-over"), Some(&pass_token()));
    assert_eq!(r.status, 429, "{}", r.body);
    let retry: u64 = r.header("retry-after").expect("retry-after").parse().unwrap();
    assert!((1..=600).contains(&retry), "{retry}");
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    // Another address (and the contact form, counted apart) are not affected.
    assert_eq!(subscribe(&fresh_ip(), &unique("blog-guard-other"), Some(&pass_token())).status, 202);
    assert_eq!(contact(&ip, "Ada", "ada@example.com", "still fine", Some(&pass_token())).status, 201);
    // Same /64, other host: the same bucket.
    let sibling = ip.replace("::1", "::2");
    assert_eq!(subscribe(&sibling, &unique("blog-guard-sib"), Some(&pass_token())).status, 429);
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn blog_contact_form_flow() {
    let ip = fresh_ip();
    assert_eq!(contact(&ip, "Ada", "ada@example.com", "hi", None).status, 401);
    assert_eq!(contact(&ip, "Ada", "ada@example.com", "hi", Some("fail-token")).status, 403);
    let sender = unique("Blog-Contact");
    let (local, domain) = sender.split_once('@').unwrap();
    let mixed = format!("{local}@{}", domain.to_ascii_uppercase());
    let note = format!("Hello <b>there</b> {}", now());
    let r = contact(&ip, "Ada Lovelace", &mixed, &note, Some(&pass_token()));
    assert_eq!(r.status, 201, "{}", r.body);
    // Stored in D1, as an admin sees it (Access key a, an allowlisted address).
    stub("POST", "/__control/jwks", Some("a"));
    let admin = access_token("a", &kid("a"), &user_claims("admin@example.com"));
    let r = send(
        "GET",
        "/admin/contacts?limit=50",
        &[("cf-access-jwt-assertion", &admin), ("accept", "application/json")],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    let row = v["items"].as_array().unwrap().iter().find(|c| c["message"] == note.as_str()).expect("stored");
    assert_eq!(row["name"], "Ada Lovelace");
    assert_eq!(row["email"], format!("{local}@{domain}").to_ascii_lowercase().as_str(), "address lower-cased");
    assert!(!log_text().contains(local), "the sender's address reached the log");
    let long = "x".repeat(10_001);
    let long_name = "n".repeat(201);
    for (name, email, message) in [
        ("", "ada@example.com", "hi"),
        (long_name.as_str(), "ada@example.com", "hi"),
        ("Ada", "nope", "hi"),
        ("Ada", "ada@example.com", ""),
        ("Ada", "ada@example.com", long.as_str()),
    ] {
        let ip = fresh_ip();
        let r = contact(&ip, name, email, message, Some(&pass_token()));
        assert_eq!(r.status, 400, "{name:.10} {email} {message:.10}: {}", r.body);
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
    }
    // JSON works as well as a form.
    let token = pass_token();
    let body = serde_json::json!({ "name": "Grace", "email": "grace@example.com", "message": "JSON too", "cf-turnstile-response": token }).to_string();
    let r = send(
        "POST",
        "/api/contact",
        &[("content-type", "application/json"), ("cf-connecting-ip", &fresh_ip()), ("cf-turnstile-response", &token)],
        Some(&body),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    // The guard: after ABUSE_LIMIT (4) accepted calls from one address, 429.
    let ip = fresh_ip();
    for _ in 0..4 {
        assert_eq!(contact(&ip, "Ada", "ada@example.com", "again", Some(&pass_token())).status, 201);
    }
    let r = contact(&ip, "Ada", "ada@example.com", "again", Some(&pass_token()));
    assert_eq!(r.status, 429);
    assert!(r.header("retry-after").is_some());
}
