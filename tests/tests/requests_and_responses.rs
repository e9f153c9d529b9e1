//! End-to-end tests of what handlers take and give, in real workerd (run through
//! `cargo xtask test`, see tests/tests/common/run.rs for the setup): the extractors (JSON, form, path,
//! query, `cf`, headers and cookies — their errors are `application/problem+json` without the
//! client's value, and their `Debug` redacts credentials) and the response helpers (escaped
//! HTML, redirects that stay on the origin).

mod common;

use common::*;

fn problem(r: &Resp) -> serde_json::Value {
    assert_eq!(r.header("content-type"), Some("application/problem+json"), "{} {}", r.status, r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body).expect("problem+json");
    assert_eq!(v["type"], "about:blank");
    assert_eq!(v["status"], r.status);
    assert!(v["title"].is_string() && v["detail"].is_string(), "{v}");
    v
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn extract_json_good_input_is_stored() {
    let k = key();
    let email = unique("typed");
    let json = [("x-api-key", k.as_str()), ("content-type", "application/json")];
    let r = send("POST", "/api/subscribers/typed", &json, Some(&format!("{{\"email\":\"{email}\"}}")));
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(status_of(&email).as_deref(), Some("active"));
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn extract_json_errors_are_problem_json_without_the_clients_value() {
    let k = key();
    let json = [("x-api-key", k.as_str()), ("content-type", "application/json")];
    let secret = "jane.secret-value@example.com";
    // Missing field: named.
    let r = send("POST", "/api/subscribers/typed", &json, Some(&format!("{{\"mail\":\"{secret}\"}}")));
    assert_eq!(r.status, 400);
    let v = problem(&r);
    assert_eq!(v["title"], "Bad Request");
    assert!(v["detail"].as_str().unwrap().contains("missing field `email`"), "{v}");
    assert!(!r.body.contains("jane"), "{}", r.body);
    // Wrong type: what was expected, never what was sent.
    let r = send("POST", "/api/subscribers/typed", &json, Some(&format!("{{\"email\":[\"{secret}\"]}}")));
    assert_eq!(r.status, 400);
    problem(&r);
    assert!(!r.body.contains("jane"), "{}", r.body);
    // Not JSON at all.
    let r = send("POST", "/api/subscribers/typed", &json, Some(secret));
    assert_eq!(r.status, 400);
    problem(&r);
    assert!(!r.body.contains("jane"), "{}", r.body);
    // Wrong content type.
    let r = send(
        "POST",
        "/api/subscribers/typed",
        &[("x-api-key", &k), ("content-type", "text/plain")],
        Some(&format!("{{\"email\":\"{secret}\"}}")),
    );
    assert_eq!(r.status, 415);
    assert_eq!(problem(&r)["title"], "Unsupported Media Type");
    // More than 1 MiB.
    let big = format!("{{\"email\":\"{}\"}}", "a".repeat(1024 * 1024 + 100 * 1024));
    let r = send("POST", "/api/subscribers/typed", &json, Some(&big));
    assert_eq!(r.status, 413);
    assert_eq!(problem(&r)["title"], "Content Too Large");
    // The identity still comes first: no key, no parsing.
    let r = send("POST", "/api/subscribers/typed", &[("content-type", "application/json")], Some("{}"));
    assert_eq!(r.status, 401);
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn extract_form_good_and_bad() {
    let k = key();
    let email = unique("form");
    let form = [("x-api-key", k.as_str()), ("content-type", "application/x-www-form-urlencoded")];
    let r = send("POST", "/api/subscribers/form", &form, Some(&format!("email={}", email.replace('@', "%40"))));
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(status_of(&email).as_deref(), Some("active"));
    let r = send("POST", "/api/subscribers/form", &form, Some("mail=jane%40example.com"));
    assert_eq!(r.status, 400);
    assert!(problem(&r)["detail"].as_str().unwrap().contains("missing field `email`"), "{}", r.body);
    assert!(!r.body.contains("jane"), "{}", r.body);
    let json = [("x-api-key", k.as_str()), ("content-type", "application/json")];
    let r = send("POST", "/api/subscribers/form", &json, Some("{\"email\":\"a@b.c\"}"));
    assert_eq!(r.status, 415);
    problem(&r);
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn extract_path_query_and_cf() {
    let k = key();
    let r = send("GET", "/api/extract/hello/42?page=3&tag=r%C3%BCst", &[("x-api-key", &k)], None);
    assert_eq!(r.status, 200, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!((v["slug"].as_str(), v["n"].as_u64()), (Some("hello"), Some(42)));
    assert_eq!((v["page"].as_u64(), v["tag"].as_str()), (Some(3), Some("rüst")));
    // `Cf` read from `request.cf` (wrangler dev fills it with its local placeholder values).
    assert!(v["cf_colo_present"].is_boolean(), "{v}");
    assert!(v["cf_country"].is_null() || v["cf_country"].as_str().is_some_and(|c| c.len() == 2), "{v}");
    assert!(v["cf_asn"].is_null() || v["cf_asn"].is_u64(), "{v}");
    eprintln!("cf as wrangler dev reports it: {v}");
    // A path parameter that is not a number: named by what was expected, not echoed.
    let r = send("GET", "/api/extract/hello/jane-secret", &[("x-api-key", &k)], None);
    assert_eq!(r.status, 400);
    assert!(problem(&r)["detail"].as_str().unwrap().starts_with("path:"), "{}", r.body);
    assert!(!r.body.contains("jane"), "{}", r.body);
    let r = send("GET", "/api/extract/hello/1?page=jane-secret", &[("x-api-key", &k)], None);
    assert_eq!(r.status, 400);
    assert!(problem(&r)["detail"].as_str().unwrap().starts_with("query:"), "{}", r.body);
    assert!(!r.body.contains("jane"), "{}", r.body);
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn request_headers_and_cookies_extractors_redact_credentials_in_debug() {
    let k = key();
    let r = send(
        "GET",
        "/api/headers",
        &[
            ("x-api-key", &k),
            ("user-agent", "layers-e2e/1"),
            ("authorization", "Bearer sekrit-bearer"),
            ("cookie", "session=sekrit-session; theme=dark"),
            ("cf-access-jwt-assertion", "sekrit-jwt"),
            ("x-custom-token", "sekrit-custom"),
        ],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["user_agent"], "layers-e2e/1");
    assert_eq!(v["has_api_key"], true);
    assert_eq!(v["cookies"], serde_json::json!(["session", "theme"]));
    let debug = v["debug"].as_str().unwrap();
    assert!(debug.contains("\"user-agent\": \"layers-e2e/1\""), "{debug}");
    for name in ["x-api-key", "authorization", "cookie", "cf-access-jwt-assertion", "x-custom-token"] {
        assert!(debug.contains(&format!("\"{name}\": [redacted]")), "{name}: {debug}");
    }
    assert!(!r.body.contains("sekrit") && !r.body.contains(&k), "{}", r.body);
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn response_html_is_escaped_and_redirects_stay_on_the_origin() {
    let r = get("/hello/%3Cscript%3Ealert(1)%3C%2Fscript%3E");
    // `%2F` in a path is refused before routing; without it the name is escaped.
    assert_eq!(r.status, 400);
    let r = get("/hello/%3Cb%3E'Tom'%20&%20%22Jerry%22");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    assert!(r.body.contains("<h1>Hello, &lt;b&gt;&#39;Tom&#39; &amp; &quot;Jerry&quot;</h1>"), "{}", r.body);
    let r = get("/go?next=/blog/hello%3Fx%3D1");
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.header("location"), Some("/blog/hello?x=1"));
    for hostile in [
        "//evil.example",
        "/%5Cevil.example",
        "%2F%2Fevil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        "/ok%0D%0ASet-Cookie:%20a=b",
        "/%09/evil.example",
        "evil.example",
    ] {
        let r = get(&format!("/go?next={hostile}"));
        assert_eq!(r.status, 400, "{hostile}: {} {:?}", r.body, r.header("location"));
        assert!(r.header("location").is_none(), "{hostile}");
    }
}
