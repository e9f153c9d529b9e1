//! End-to-end: static files through the Workers Assets binding (`app/public/`, `[assets]` with
//! `run_worker_first = true`). Public files are served to anyone by their route; the admin
//! script under `/admin/` only after the admin verifier; a public route cannot be made to
//! serve a protected file, by path tricks or otherwise.

mod common;
use common::*;

const ADMIN: &str = "admin@example.com";

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn assets_public_files_are_served_with_their_types_and_validators() {
    let css = get("/static/site.css");
    assert_eq!(css.status, 200, "{}", css.body);
    assert!(css.header("content-type").is_some_and(|c| c.starts_with("text/css")), "{:?}", css.headers);
    assert!(css.body.contains(".ai-summary"), "{}", css.body);
    // The binding's validators work through the route: a conditional request is a 304.
    let etag = css.header("etag").expect("an etag").to_owned();
    let again = send("GET", "/static/site.css", &[("if-none-match", &etag)], None);
    assert_eq!(again.status, 304, "{:?}", again.headers);
    assert!(again.body.is_empty());

    let icon = get("/favicon.svg");
    assert_eq!(icon.status, 200);
    assert!(icon.header("content-type").is_some_and(|c| c.starts_with("image/svg+xml")), "{:?}", icon.headers);
    assert!(icon.body.starts_with("<svg"));

    assert_eq!(get("/static/no-such-file.css").status, 404);
    // The pages use them.
    let home = get("/").body;
    assert!(
        home.contains("<link rel=stylesheet href=\"/static/site.css\">") && home.contains("/favicon.svg"),
        "{home}"
    );
    // Only GET and HEAD: the router answers other methods with 405.
    assert_eq!(send("POST", "/static/site.css", &[], Some("x")).status, 405);
    let head = send("HEAD", "/static/site.css", &[], None);
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn assets_under_a_protected_prefix_need_its_verifier() {
    let r = get("/admin/app.js");
    assert_eq!(r.status, 401, "no token, no admin script: {}", r.body);
    assert!(!r.body.contains("DOMContentLoaded"));
    let stranger = access_token("a", &kid("a"), &user_claims("intruder@example.com"));
    let r = send("GET", "/admin/app.js", &[("cf-access-jwt-assertion", &stranger)], None);
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(!r.body.contains("DOMContentLoaded"));
    let token = admin_token_of(ADMIN);
    let r = send("GET", "/admin/app.js", &[("cf-access-jwt-assertion", &token)], None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.header("content-type").is_some_and(|c| c.contains("javascript")), "{:?}", r.headers);
    assert!(r.body.contains("DOMContentLoaded"));
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn assets_public_routes_cannot_reach_protected_files() {
    // A public route serves the file at its own path only: there is no `/static/admin/app.js`.
    assert_eq!(get("/static/admin/app.js").status, 404);
    // Dot segments, raw or encoded, are resolved by the runtime before routing: they land on
    // `/admin/app.js` and meet the admin verifier. Encoded slashes and backslashes are refused.
    for path in [
        "/static/../admin/app.js",
        "/static/%2e%2e/admin/app.js",
        "/static/.%2E/admin/app.js",
        "/favicon.svg/../admin/app.js",
    ] {
        let r = get(path);
        assert!(r.status == 401 || r.status == 400, "{path}: {} {}", r.status, r.body);
        assert!(!r.body.contains("DOMContentLoaded"), "{path} served the admin script");
    }
    for path in ["/static/..%2fadmin/app.js", "/static/%2e%2e%5cadmin/app.js", "/static\\..\\admin\\app.js"] {
        let r = get(path);
        assert!(r.status == 400 || r.status == 401 || r.status == 404, "{path}: {}", r.status);
        assert!(!r.body.contains("DOMContentLoaded"), "{path} served the admin script");
    }
    // Nothing outside the site's files: the Worker's own build is not an asset.
    for path in ["/static/../build/index.js", "/static/../wrangler.toml", "/.assetsignore"] {
        let r = get(path);
        assert_eq!(r.status, 404, "{path}: {}", r.body);
    }
}
