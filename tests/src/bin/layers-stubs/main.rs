//! Loopback stand-ins for the services the identity layer calls, for the end-to-end tests:
//! a Cloudflare Access JWKS endpoint (switchable keys, can go down), Turnstile's siteverify,
//! and an AWS STS `AssumeRoleWithWebIdentity` endpoint.
//!
//! `layers-stubs --jwks-dir DIR --turnstile-secret S --sts-role ARN [--exit-on-stdin-eof]` binds
//! 127.0.0.1 on a free port, prints
//! `listening on 127.0.0.1:PORT`, and serves until killed:
//! - `GET /cdn-cgi/access/certs` — the JWKS file `DIR/jwks-<mode>.json` for the current mode
//!   (`a`, `b`, `ab`), or garbage (`garbage`: not JSON), or a corrupted key set (`corrupt`:
//!   `jwks-ab.json` with every modulus replaced by text that is not base64url), or HTTP 500
//!   (`error`), or a dropped connection (`down`).
//! - `POST /__control/jwks` with body `a|b|ab|garbage|corrupt|error|down` — switches the mode.
//! - `GET /__control/count` — how many times the certs were fetched.
//! - `GET /slow/cdn-cgi/access/certs` — `DIR/jwks-a.json`, after 1.5 s (a slow key server, for
//!   the single-flight test); `GET /__control/slow-count` — how many times it was fetched.
//! - `POST /turnstile/v0/siteverify` — form `secret`, `response`: `pass…` succeeds once (a
//!   second use answers `timeout-or-duplicate`, as Turnstile's tokens are single-use),
//!   `fail…` answers `invalid-input-response`, `spent…` answers `timeout-or-duplicate`, and a
//!   wrong secret `invalid-input-secret`. Started with one of Cloudflare's test secret keys
//!   (`1x0000000000000000000000000000000AA` always passes — any token, reusable, e.g. the test
//!   sitekeys' dummy token `XXXX.DUMMY.TOKEN.XXXX`; `2x…AA` always fails; `3x…AA` always answers
//!   `timeout-or-duplicate`) it behaves as Cloudflare documents for that key (what `cargo xtask dev` uses).
//! - `POST /__control/turnstile` with body `ok|slow|error|garbage` — siteverify's fault mode:
//!   `ok` as above; `slow` answers success for any token, but only after 7 s (past the Worker's
//!   5 s outbound timeout: a verifier that waited would let the request through); `error`
//!   answers HTTP 500; `garbage` answers 200 with a body that is not JSON.
//! - `POST /sts` — form `Action=AssumeRoleWithWebIdentity`, `Version=2011-06-15`, `RoleArn`,
//!   `RoleSessionName`, `WebIdentityToken`, `DurationSeconds`. The token must be an RS256 JWT
//!   signed by `DIR/key-a.pem` with a `kid`, `typ` `JWT`, `aud` `sts.amazonaws.com`, `iss`,
//!   `sub`, a fresh `jti` (replays are refused), `exp` in the future and at most an hour away;
//!   `RoleArn` must be the `--sts-role`. Success answers AWS's XML with credentials
//!   (`AccessKeyId` `ASIA…` + counter, `SecretAccessKey` `stubsecret…`, `SessionToken`
//!   `stubsession…`) expiring in one hour; failure answers AWS's `ErrorResponse` with 400 and a
//!   `Code` (`InvalidIdentityToken`, `ExpiredTokenException`, `AccessDenied`,
//!   `MissingParameter`, `InvalidParameterValue`, `InvalidAction`).
//! - `POST /__control/sts` with body `ok|refuse` — `refuse` answers every exchange with
//!   `InvalidIdentityToken`.
//! - `GET /__control/sts-count` — how many exchanges succeeded.
//! - `POST /__control/sts-issuer` with body `http://127.0.0.1:PORT` (the Worker) — from then on
//!   the STS checks each assertion as AWS does: it reads `/.well-known/openid-configuration`
//!   there (whose `issuer` must be the token's `iss`), follows its `jwks_uri` (under the issuer)
//!   and verifies with the published key of the token's `kid`; until then (and with an empty
//!   body) it trusts `DIR/key-a.pem`. `GET /__control/sts-issuer-fetches` — how many
//!   exchanges read the published keys. `--sts-role` may list several ARNs, comma-separated.
//! - `POST /bedrock/model/{modelId}/invoke` — Amazon Bedrock's `InvokeModel`: the AWS Signature
//!   Version 4 of the request as received (raw path, headers, body) must verify with credentials
//!   this STS issued (`x-amz-security-token` their session token, `X-Amz-Date` within 5 minutes,
//!   scope `…/bedrock/aws4_request`), else 403 with `x-amzn-ErrorType`
//!   (`InvalidSignatureException`, `UnrecognizedClientException`…); the body must be Anthropic's
//!   Messages format with a `Title: …` first line, answered with a deterministic summary.
//!   `GET /__control/bedrock` — `{"answered", "refused", "last_refusal"}`; `POST
//!   /__control/bedrock` `ok|fail` (`fail`: verified calls get 500).
//! - `POST /mail` — the mail sender the Worker's `MAIL_URL` points at: stores the JSON body
//!   (400 unless it is a JSON object) and answers 202 with `{"id": N}`.
//! - `GET /__control/mail[?to=ADDRESS]` — the stored messages (the last 500; only those to
//!   ADDRESS when given), oldest first, as a JSON array.
//! - Webmention sources (every `/wm/…` request is counted): `GET /wm/link?to=URL` — an HTML page
//!   with `<a href="URL">`; `GET /wm/nolink?to=URL` — a page that mentions URL only as text, in a
//!   comment, a script and a `data-href` (a naive substring match would accept it);
//!   `GET /wm/redirect` — 302 to `http://169.254.169.254/latest/meta-data/`;
//!   `GET /wm/redirect-link?to=URL` — 302 to this server's own `/wm/link?to=URL` (a page that
//!   *would* verify if the redirect were followed); `GET /wm/error` — 500; `GET /wm/slow` — answers
//!   after 7 s (past the Worker's 5 s outbound timeout); `GET /wm/big?to=URL` — 1.5 MB of HTML
//!   whose link comes last.
//! - `GET /__control/wm-hits` — `{"total": N, "paths": {"/wm/…?…": n, …}}`.
//! - Webmention targets (pages a published post links to; every `/wt/…` request is counted):
//!   `GET /wt/header` advertises `/wt/endpoint?via=header` in a `Link` header (and a decoy in its
//!   HTML: the header wins); `GET /wt/html` in an `<a rel="nofollow webmention">` (after decoys
//!   in a comment and a script); `GET /wt/redirect` — 301 to `/wt/html`; `GET /wt/none` — no
//!   endpoint; `GET /wt/flaky` — an endpoint that answers 500 (`POST /wt/endpoint-500`);
//!   `GET /wt/ssrf` — an endpoint on 169.254.169.254; `GET /wt/gone` — 410. `POST /wt/endpoint`
//!   takes the form `source`, `target` (400 without them) and answers 201.
//! - `GET /__control/wt` — `{"received": [{"via", "source", "target"}, …], "hits": {"/wt/…?…": n}}`.

#![forbid(unsafe_code)]

mod bedrock;
mod http;
mod sts;
mod webmention;

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use rsa::pkcs8::DecodePrivateKey as _;

use http::{form, respond};
use sts::{sts_error, Sts};
use webmention::webmention_source;

struct State {
    jwks_dir: PathBuf,
    mode: String,
    fetches: u64,
    /// Fetches of the slow key set (`/slow/cdn-cgi/access/certs`).
    slow_fetches: u64,
    turnstile_secret: String,
    /// siteverify's fault mode: `ok`, `slow`, `error` or `garbage`.
    turnstile_mode: String,
    spent: HashSet<String>,
    sts: Sts,
    mail: Vec<serde_json::Value>,
    mail_count: u64,
    /// Requests to `/wm/…`, by request target.
    wm_hits: std::collections::BTreeMap<String, u64>,
    /// The webmention targets (`/wt/…`).
    wt: webmention::Targets,
    /// The Bedrock stand-in.
    bedrock: bedrock::Bedrock,
}

/// Cloudflare's documented Turnstile test secret keys (developers.cloudflare.com/turnstile/troubleshooting/testing):
/// started with one of them as `--turnstile-secret`, siteverify behaves like Cloudflare's does for it.
const TURNSTILE_ALWAYS_PASS: &str = "1x0000000000000000000000000000000AA";
const TURNSTILE_ALWAYS_FAIL: &str = "2x0000000000000000000000000000000AA";
const TURNSTILE_ALWAYS_SPENT: &str = "3x0000000000000000000000000000000AA";

/// Messages `GET /__control/mail` keeps.
const MAIL_KEPT: usize = 500;

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// `YYYY-MM-DDTHH:MM:SSZ` for Unix seconds `t`.
fn iso8601(t: u64) -> String {
    layers_core::time::iso8601(i64::try_from(t).unwrap_or(i64::MAX))
}

/// The JWKS document `doc` with every `"n"` (RSA modulus) replaced by text that is not
/// base64url: still JSON with the same `kid`s, but no key in it is usable.
fn corrupt_jwks(doc: &str) -> String {
    let Ok(mut v) = serde_json::from_str::<serde_json::Value>(doc) else {
        return doc.to_owned();
    };
    if let Some(keys) = v.get_mut("keys").and_then(serde_json::Value::as_array_mut) {
        for k in keys {
            if let Some(n) = k.get_mut("n") {
                *n = serde_json::Value::from("corrupted!modulus*not+base64url");
            }
        }
    }
    v.to_string()
}

fn handle(mut s: TcpStream, state: &Arc<Mutex<State>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(s.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or("").to_owned(), parts.next().unwrap_or("").to_owned());
    let mut len = 0usize;
    // Every header as received: lower-case name, value trimmed.
    let mut headers: Vec<(String, String)> = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.trim().eq_ignore_ascii_case("content-length") {
                len = v.trim().parse().unwrap_or(0);
            }
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    let mut raw_body = vec![0u8; len.min(1 << 20)];
    reader.read_exact(&mut raw_body)?;
    let body = String::from_utf8_lossy(&raw_body).into_owned();
    // The STS checks an assertion with the key its issuer publishes — fetched from the Worker,
    // without holding the state (the Worker may call us meanwhile).
    let published = if method == "POST" && path == "/sts" {
        let base = state.lock().unwrap_or_else(std::sync::PoisonError::into_inner).sts.issuer_base.clone();
        let token = form(&body).into_iter().find(|(k, _)| k == "WebIdentityToken").map(|(_, v)| v);
        match (base, token) {
            (Some(base), Some(token)) => Some(sts::published_key(&base, &token)),
            _ => None,
        }
    } else {
        None
    };
    let mut st = state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if published.is_some() {
        st.sts.issuer_fetches += 1;
    }
    if path.starts_with("/wm/") {
        *st.wm_hits.entry(path.clone()).or_insert(0) += 1;
        drop(st);
        return webmention_source(&mut s, &method, &path);
    }
    if path.starts_with("/wt/") {
        return st.wt.serve(&mut s, &method, &path, &body);
    }
    match (method.as_str(), path.split('?').next().unwrap_or("")) {
        ("GET", "/slow/cdn-cgi/access/certs") => {
            st.slow_fetches += 1;
            let doc = std::fs::read_to_string(st.jwks_dir.join("jwks-a.json"));
            drop(st);
            std::thread::sleep(std::time::Duration::from_millis(1500));
            match doc {
                Ok(doc) => respond(&mut s, "200 OK", "application/json", &doc),
                Err(e) => respond(&mut s, "500 Internal Server Error", "text/plain", &e.to_string()),
            }
        }
        ("GET", "/__control/slow-count") => {
            let n = st.slow_fetches.to_string();
            respond(&mut s, "200 OK", "text/plain", &n)
        }
        ("GET", "/cdn-cgi/access/certs") => {
            st.fetches += 1;
            match st.mode.as_str() {
                "down" => return Ok(()), // drop the connection without answering
                "garbage" => respond(&mut s, "200 OK", "application/json", "{\"keys\": not json"),
                "error" => respond(&mut s, "500 Internal Server Error", "text/plain", "the key server is unwell"),
                "corrupt" => match std::fs::read_to_string(st.jwks_dir.join("jwks-ab.json")) {
                    Ok(doc) => respond(&mut s, "200 OK", "application/json", &corrupt_jwks(&doc)),
                    Err(e) => respond(&mut s, "500 Internal Server Error", "text/plain", &e.to_string()),
                },
                m => match std::fs::read_to_string(st.jwks_dir.join(format!("jwks-{m}.json"))) {
                    Ok(doc) => respond(&mut s, "200 OK", "application/json", &doc),
                    Err(e) => respond(&mut s, "500 Internal Server Error", "text/plain", &e.to_string()),
                },
            }
        }
        ("POST", "/__control/jwks") => {
            let mode = body.trim().to_owned();
            if ["a", "b", "ab", "garbage", "corrupt", "error", "down"].contains(&mode.as_str()) {
                st.mode = mode;
                respond(&mut s, "200 OK", "text/plain", "ok");
            } else {
                respond(
                    &mut s,
                    "400 Bad Request",
                    "text/plain",
                    "mode must be a, b, ab, garbage, corrupt, error or down",
                );
            }
        }
        ("POST", "/__control/turnstile") => {
            let mode = body.trim().to_owned();
            if ["ok", "slow", "error", "garbage"].contains(&mode.as_str()) {
                st.turnstile_mode = mode;
                respond(&mut s, "200 OK", "text/plain", "ok");
            } else {
                respond(&mut s, "400 Bad Request", "text/plain", "mode must be ok, slow, error or garbage");
            }
        }
        ("POST", "/turnstile/v0/siteverify") if st.turnstile_mode != "ok" => match st.turnstile_mode.clone().as_str() {
            "slow" => {
                // Release the state before sleeping: other requests must not wait on this one.
                drop(st);
                std::thread::sleep(std::time::Duration::from_secs(7));
                respond(
                    &mut s,
                    "200 OK",
                    "application/json",
                    "{\"success\":true,\"error-codes\":[],\"challenge_ts\":\"2026-11-28T00:00:00.000Z\",\"hostname\":\"layers.test\",\"action\":\"\",\"cdata\":\"\"}",
                );
            }
            "error" => respond(&mut s, "500 Internal Server Error", "text/plain", "siteverify is unwell"),
            _ => respond(&mut s, "200 OK", "application/json", "<html>502 Bad Gateway</html>"),
        },
        ("GET", "/__control/count") => {
            let n = st.fetches.to_string();
            respond(&mut s, "200 OK", "text/plain", &n);
        }
        ("POST", "/turnstile/v0/siteverify") => {
            let f = form(&body);
            let get = |k: &str| f.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
            let (secret, token) = (get("secret"), get("response"));
            let fail = |code: &str| format!("{{\"success\":false,\"error-codes\":[\"{code}\"]}}");
            let out = if secret != st.turnstile_secret {
                fail("invalid-input-secret")
            } else if token.is_empty() {
                fail("missing-input-response")
            } else if secret == TURNSTILE_ALWAYS_FAIL {
                fail("invalid-input-response")
            } else if secret == TURNSTILE_ALWAYS_SPENT {
                fail("timeout-or-duplicate")
            } else if secret == TURNSTILE_ALWAYS_PASS {
                // Cloudflare's test secret: every token passes, any number of times.
                "{\"success\":true,\"error-codes\":[],\"challenge_ts\":\"2026-11-28T00:00:00.000Z\",\"hostname\":\"localhost\",\"action\":\"\",\"cdata\":\"\"}".to_owned()
            } else if token.starts_with("spent") || st.spent.contains(&token) {
                fail("timeout-or-duplicate")
            } else if token.starts_with("pass") {
                st.spent.insert(token.clone());
                "{\"success\":true,\"error-codes\":[],\"challenge_ts\":\"2026-11-28T00:00:00.000Z\",\"hostname\":\"layers.test\",\"action\":\"contact\",\"cdata\":\"\"}".to_owned()
            } else {
                fail("invalid-input-response")
            };
            respond(&mut s, "200 OK", "application/json", &out);
        }
        ("POST", "/sts") => match published.transpose().and_then(|key| st.sts.exchange(&form(&body), key)) {
            Ok(xml) => respond(&mut s, "200 OK", "text/xml", &xml),
            Err((code, message)) => respond(&mut s, "400 Bad Request", "text/xml", &sts_error(code, &message)),
        },
        ("POST", "/__control/sts-issuer") => {
            let base = body.trim();
            st.sts.issuer_base = (!base.is_empty()).then(|| base.to_owned());
            respond(&mut s, "200 OK", "text/plain", "ok");
        }
        ("GET", "/__control/sts-issuer-fetches") => {
            let n = st.sts.issuer_fetches.to_string();
            respond(&mut s, "200 OK", "text/plain", &n);
        }
        ("POST", route) if route.starts_with("/bedrock/model/") && route.ends_with("/invoke") => {
            let model = crate::http::decode(&route["/bedrock/model/".len()..route.len() - "/invoke".len()]);
            let answer = bedrock::verify(&method, &path, &headers, &raw_body, &st.sts.issued, now())
                .and_then(|_| {
                    if st.bedrock.failing {
                        Err((500, "InternalServerException", "failing (control mode)".into()))
                    } else {
                        Ok(())
                    }
                })
                .and_then(|()| bedrock::invoke(&model, &raw_body));
            match answer {
                Ok(json) => {
                    st.bedrock.answered += 1;
                    respond(&mut s, "200 OK", "application/json", &json);
                }
                Err((status, kind, message)) => {
                    st.bedrock.refused += 1;
                    st.bedrock.last_refusal = format!("{kind}: {message}");
                    let doc = serde_json::json!({ "message": message }).to_string();
                    let _ = write!(
                        s,
                        "HTTP/1.1 {status} Refused\r\nContent-Type: application/json\r\nx-amzn-ErrorType: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{doc}",
                        doc.len()
                    );
                }
            }
        }
        ("GET", "/__control/bedrock") => {
            let doc = serde_json::json!({
                "answered": st.bedrock.answered, "refused": st.bedrock.refused, "last_refusal": st.bedrock.last_refusal,
            });
            respond(&mut s, "200 OK", "application/json", &doc.to_string());
        }
        ("POST", "/__control/bedrock") => match body.trim() {
            "ok" | "fail" => {
                st.bedrock.failing = body.trim() == "fail";
                respond(&mut s, "200 OK", "text/plain", "ok");
            }
            _ => respond(&mut s, "400 Bad Request", "text/plain", "mode must be ok or fail"),
        },
        ("POST", "/__control/sts") => match body.trim() {
            "ok" | "refuse" => {
                st.sts.refuse = body.trim() == "refuse";
                respond(&mut s, "200 OK", "text/plain", "ok");
            }
            _ => respond(&mut s, "400 Bad Request", "text/plain", "mode must be ok or refuse"),
        },
        ("GET", "/__control/sts-count") => {
            let n = st.sts.exchanges.to_string();
            respond(&mut s, "200 OK", "text/plain", &n);
        }
        ("POST", "/mail") => match serde_json::from_str::<serde_json::Value>(&body) {
            Ok(msg) if msg.is_object() => {
                st.mail_count += 1;
                if st.mail.len() >= MAIL_KEPT {
                    st.mail.remove(0);
                }
                st.mail.push(msg);
                let id = format!("{{\"id\":{}}}", st.mail_count);
                respond(&mut s, "202 Accepted", "application/json", &id);
            }
            _ => respond(&mut s, "400 Bad Request", "text/plain", "body must be a JSON object"),
        },
        ("GET", "/__control/wt") => {
            let doc = st.wt.report();
            respond(&mut s, "200 OK", "application/json", &doc);
        }
        ("GET", "/__control/wm-hits") => {
            let total: u64 = st.wm_hits.values().sum();
            let doc = serde_json::json!({ "total": total, "paths": st.wm_hits });
            respond(&mut s, "200 OK", "application/json", &doc.to_string());
        }
        ("GET", "/__control/mail") => {
            // `?to=ADDRESS`: only the messages to that address.
            let query = path.split_once('?').map_or("", |(_, q)| q);
            let to = form(query).into_iter().find(|(k, _)| k == "to").map(|(_, v)| v);
            let picked = st.mail.iter().filter(|m| to.as_deref().is_none_or(|t| m["to"] == t)).cloned().collect();
            let all = serde_json::Value::Array(picked).to_string();
            respond(&mut s, "200 OK", "application/json", &all);
        }
        _ => respond(&mut s, "404 Not Found", "text/plain", "no such stub"),
    }
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let (Some(jwks_dir), Some(turnstile_secret), Some(sts_role)) =
        (arg("--jwks-dir"), arg("--turnstile-secret"), arg("--sts-role"))
    else {
        eprintln!("usage: layers-stubs --jwks-dir DIR --turnstile-secret SECRET --sts-role ARN");
        std::process::exit(2);
    };
    // The STS trusts the public half of fixture key a (what the Worker's FEDERATION_KEY holds).
    let key_path = PathBuf::from(&jwks_dir).join("key-a.pem");
    let sts_key = match std::fs::read_to_string(&key_path).map(|pem| rsa::RsaPrivateKey::from_pkcs8_pem(&pem)) {
        Ok(Ok(k)) => k.to_public_key(),
        _ => {
            eprintln!("layers-stubs: cannot read the PKCS#8 key {}", key_path.display());
            std::process::exit(1);
        }
    };
    let listener = match TcpListener::bind("127.0.0.1:0") {
        Ok(l) => l,
        Err(e) => {
            eprintln!("layers-stubs: cannot bind 127.0.0.1: {e}");
            std::process::exit(1);
        }
    };
    if args.iter().any(|a| a == "--exit-on-stdin-eof") {
        // Tied to the parent (`cargo xtask dev`): when its end of our stdin closes, we go too.
        std::thread::spawn(|| {
            let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
            std::process::exit(0);
        });
    }
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    println!("listening on 127.0.0.1:{port}");
    let _ = std::io::stdout().flush();
    let state = Arc::new(Mutex::new(State {
        jwks_dir: PathBuf::from(jwks_dir),
        mode: "a".into(),
        fetches: 0,
        slow_fetches: 0,
        turnstile_secret,
        turnstile_mode: "ok".into(),
        spent: HashSet::new(),
        sts: Sts {
            roles: sts_role.split(',').map(|r| r.trim().to_owned()).filter(|r| !r.is_empty()).collect(),
            key: sts_key,
            issuer_base: None,
            issuer_fetches: 0,
            refuse: false,
            exchanges: 0,
            seen_jti: HashSet::new(),
            issued: std::collections::HashMap::new(),
        },
        mail: Vec::new(),
        mail_count: 0,
        wm_hits: std::collections::BTreeMap::new(),
        wt: webmention::Targets::default(),
        bedrock: bedrock::Bedrock::default(),
    }));
    for conn in listener.incoming().flatten() {
        let state = Arc::clone(&state);
        std::thread::spawn(move || {
            let _ = handle(conn, &state);
        });
    }
}
