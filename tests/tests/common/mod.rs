//! The e2e client shared by every end-to-end target of this crate (each file of `tests/tests/`
//! with tests marked `#[ignore = "needs workerd: run through `cargo xtask test`"]`, found by
//! `cargo xtask e2e`): a thin layer over `layers-test`. Each target gets a Worker of its own
//! (see `run.rs`), so targets depend on nothing another target did; a target's tests share it
//! and run one at a time, in name order.
//!
//! Requests go through the harness's client, which writes them by hand over TCP so that the
//! path reaches the server byte for byte (no client-side normalization of `//`, `%2f` or dot
//! segments); `send` keeps the old shape (`Resp` with `status` and `body`) the tests read.

#![allow(dead_code)]

mod run;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use layers_test::LogEvent;

pub(crate) use run::run;

pub(crate) struct Resp {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    /// The body as text (lossy UTF-8).
    pub(crate) body: String,
    /// The body as received.
    pub(crate) bytes: Vec<u8>,
}

impl Resp {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// This target's Worker (started on first use).
pub(crate) fn app() -> &'static layers_test::Worker {
    &run().worker
}

/// `127.0.0.1:<port>` of the Worker (for tests that write their own bytes to the socket).
pub(crate) fn addr() -> String {
    format!("127.0.0.1:{}", app().port())
}

/// The file the Worker's log (wrangler's output) goes to.
pub(crate) fn log_path() -> PathBuf {
    app().log_path().to_owned()
}

/// The loopback stubs (`layers-stubs`) of this target, `http://127.0.0.1:<port>`.
pub(crate) fn stubs_url() -> String {
    run().stubs_url.clone()
}

/// The Worker's `SIGNING_KEY` (the harness's).
pub(crate) fn signing_key() -> String {
    app().env("SIGNING_KEY").expect("SIGNING_KEY").to_owned()
}

/// The Worker's `WEBHOOK_SECRET` (the harness's, `whsec_…`).
pub(crate) fn webhook_secret() -> String {
    app().env("WEBHOOK_SECRET").expect("WEBHOOK_SECRET").to_owned()
}

/// The Worker's `ACCESS_AUD` (the harness's).
pub(crate) fn access_aud() -> String {
    app().env("ACCESS_AUD").expect("ACCESS_AUD").to_owned()
}

/// The API key under label `old` (a second key: rotation).
pub(crate) fn old_key() -> String {
    run().old_key.clone()
}

/// The API key under the harness's label (`test`).
pub(crate) fn key() -> String {
    app().api_key()
}

/// Sends one request with the path exactly as given.
pub(crate) fn send(method: &str, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> Resp {
    send_bytes(method, path, headers, body.map(str::as_bytes))
}

/// [`send`] with a binary body.
pub(crate) fn send_bytes(method: &str, path: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Resp {
    try_send(method, path, headers, body).unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

/// [`send_bytes`], but a connection the server closes or resets without a response is an
/// `Err` rather than a panic (what a runtime may do with a request line it refuses).
pub(crate) fn try_send(
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> std::io::Result<Resp> {
    let mut req = app().request(method, path);
    for (k, v) in headers {
        req = req.header(k, v);
    }
    if let Some(b) = body {
        req = req.raw_body(b);
    }
    let r = req.try_send()?;
    Ok(Resp { status: r.status(), headers: r.headers().to_vec(), body: r.text(), bytes: r.bytes().to_vec() })
}

pub(crate) fn get(path: &str) -> Resp {
    send("GET", path, &[], None)
}

pub(crate) fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// An email address no earlier run used (local state may persist between runs); registered
/// with [`sensitive`].
pub(crate) fn unique(prefix: &str) -> String {
    let n = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    let email = format!("{prefix}-{n}@example.com");
    sensitive(&email);
    email
}

/// Registers a value a test sends that must never appear in the Worker's log (a token, a
/// signature, a cookie, a full email address): appended, one per line, to the file
/// `<target>.sensitive` of the run (see `run.rs`). After the target `cargo xtask` fails if any of them is
/// in wrangler's output outside its own access-log lines, which print raw paths
/// (xtask/src/leaks.rs).
pub(crate) fn sensitive(value: &str) {
    assert!(value.len() >= 8 && !value.contains('\n'), "register values of 8+ bytes on one line");
    let path = &run().sensitive;
    let mut f = std::fs::OpenOptions::new().append(true).open(path).expect("open the target's .sensitive file");
    f.write_all(format!("{value}\n").as_bytes()).expect("append to the target's .sensitive file");
}

// ---- the subscriber API (`/api/subscribers`, API key) and its unsubscribe tokens ----------------
// (admin.rs and faults.rs define variants of their own, which shadow these.)

pub(crate) fn unsub_token(email: &str, exp: u64) -> String {
    let token = layers_core::identity::mint(signing_key().as_bytes(), "unsubscribe", email, exp);
    sensitive(&token);
    token
}

pub(crate) fn add_subscriber(email: &str) -> Resp {
    if email.contains('@') {
        sensitive(email);
    }
    let k = key();
    send(
        "POST",
        "/api/subscribers",
        &[("x-api-key", &k), ("content-type", "application/json")],
        Some(&format!("{{\"email\":\"{email}\"}}")),
    )
}

pub(crate) fn subscribers() -> serde_json::Value {
    let k = key();
    let r = send("GET", "/api/subscribers?limit=1000", &[("x-api-key", &k)], None);
    assert_eq!(r.status, 200, "{}", r.body);
    serde_json::from_str(&r.body).expect("json")
}

pub(crate) fn status_of(email: &str) -> Option<String> {
    subscribers()["subscribers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["email"] == email)
        .map(|s| s["status"].as_str().unwrap().to_owned())
}

/// The Access issuer: the harness's team (`layers_test::TEAM_DOMAIN`).
pub(crate) const TEAM: &str = "https://layers-test.cloudflareaccess.com";

/// Signs an Access-style RS256 JWT with fixture key `key` (`a` or `b`), header `kid`.
pub(crate) fn access_token(key: &str, kid: &str, claims: &serde_json::Value) -> String {
    use jwt_compact::{alg::Rsa, AlgorithmExt, Claims, Header};
    use rsa::pkcs8::DecodePrivateKey;
    let path = format!("{}/fixtures/access/key-{key}.pem", env!("CARGO_MANIFEST_DIR"));
    let pem = std::fs::read_to_string(&path).expect("fixture key");
    let sk = rsa::RsaPrivateKey::from_pkcs8_pem(&pem).expect("PKCS#8 key");
    let token = Rsa::rs256().token(&Header::empty().with_key_id(kid), &Claims::new(claims.clone()), &sk).expect("sign");
    sensitive(&token);
    sensitive(token.rsplit('.').next().expect("signature"));
    token
}

/// The `kid` the fixture JWKS publishes for key `key`.
pub(crate) fn kid(key: &str) -> String {
    let path = format!("{}/fixtures/access/jwks-{key}.json", env!("CARGO_MANIFEST_DIR"));
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).expect("fixture JWKS")).unwrap();
    doc["keys"][0]["kid"].as_str().expect("kid").to_owned()
}

pub(crate) fn user_claims(email: &str) -> serde_json::Value {
    sensitive(email);
    let t = now();
    serde_json::json!({
        "aud": [access_aud()], "email": email, "exp": t + 600, "iat": t - 5, "nbf": t - 5,
        "iss": TEAM, "type": "app", "identity_nonce": "n0nce", "sub": "7335d417-61da-459d-899c-0a01c76a2e94",
        "country": "GB",
    })
}

pub(crate) fn stub(method: &str, path: &str, body: Option<&str>) -> String {
    let url = stubs_url();
    let host = url.trim_start_matches("http://");
    assert!(host.starts_with("127.0.0.1:"), "stubs must be on loopback");
    let mut s = TcpStream::connect(host).expect("connect to stubs");
    let body = body.unwrap_or("");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned()
}

/// The JSON lines of a log: each of the framework's wide events (one per request, cron run,
/// queue batch or Durable Object call) as its [`LogEvent::records`] — a value per layer, each
/// with the event's `ray`, `event`, `method` and `route` — and other JSON lines (the app's own,
/// `"layer":"app"`) as they are.
pub(crate) fn log_values(text: &str) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    for v in json_lines(text) {
        match LogEvent::from_value(v.clone()) {
            Some(event) => out.extend(event.records()),
            None => out.push(v),
        }
    }
    out
}

/// The framework's wide events in a log, whole.
pub(crate) fn log_events(text: &str) -> Vec<serde_json::Value> {
    json_lines(text).filter_map(LogEvent::from_value).map(|e| e.raw().clone()).collect()
}

fn json_lines(text: &str) -> impl Iterator<Item = serde_json::Value> + '_ {
    text.lines().filter_map(|l| serde_json::from_str::<serde_json::Value>(l.trim()).ok())
}

/// The log's JSON lines (see [`log_values`]), once `done` holds for them.
pub(crate) fn wait_log(what: &str, done: impl Fn(&[serde_json::Value]) -> bool) -> Vec<serde_json::Value> {
    let path = log_path();
    for _ in 0..120 {
        let text = std::fs::read_to_string(&path).expect("wrangler log");
        let lines = log_values(&text);
        if done(&lines) {
            return lines;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    panic!("timed out waiting for log lines: {what}");
}

/// The framework's JSON log lines so far (waits until `pred` holds for one, up to ~4 s).
pub(crate) fn storage_log_line(pred: impl Fn(&serde_json::Value) -> bool) -> Option<serde_json::Value> {
    for _ in 0..40 {
        let text = std::fs::read_to_string(log_path()).expect("wrangler log");
        let found = log_values(&text).into_iter().find(&pred);
        if found.is_some() {
            return found;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

/// Percent-encodes `s` for a query value or a form field (everything but unreserved
/// characters).
pub(crate) fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Switches the stubs' JWKS to `mode` (which keys it serves, or a failure).
pub(crate) fn jwks_mode(mode: &str) {
    assert_eq!(stub("POST", "/__control/jwks", Some(mode)), "ok", "JWKS stub mode {mode}");
}

/// How many times the Worker has fetched the stubs' JWKS.
pub(crate) fn jwks_fetches() -> u64 {
    stub("GET", "/__control/count", None).trim().parse().unwrap()
}

/// `GET /admin/dashboard` with an Access token.
pub(crate) fn admin(token: &str) -> Resp {
    send("GET", "/admin/dashboard", &[("cf-access-jwt-assertion", token)], None)
}

/// A valid Access token of allowlisted admin `email` (fixture key a). Rotation tests leave the
/// JWKS stub serving key b: switch it back to a, and wait out the Worker's refetch interval if a
/// refetch happened just before.
pub(crate) fn admin_token_of(email: &str) -> String {
    assert_eq!(stub("POST", "/__control/jwks", Some("a")), "ok");
    let token = access_token("a", &kid("a"), &user_claims(email));
    for _ in 0..10 {
        if admin(&token).status == 200 {
            return token;
        }
        std::thread::sleep(Duration::from_millis(1_000));
    }
    panic!("the admin token never passed");
}

/// A request with an admin's Access token and a JSON content type.
pub(crate) fn as_admin(method: &str, path: &str, token: &str, body: Option<&str>) -> Resp {
    let h = [("cf-access-jwt-assertion", token), ("content-type", "application/json")];
    send(method, path, &h, body)
}

/// The response body as JSON (panics, showing it, when it is not).
pub(crate) fn json(r: &Resp) -> serde_json::Value {
    serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", r.status, r.body))
}

/// Waits out the refetch interval the app configures for Access keys (`AdminAccess`: 5 s),
/// plus a margin.
pub(crate) fn wait_refetch_interval() {
    std::thread::sleep(Duration::from_millis(5_600));
}
