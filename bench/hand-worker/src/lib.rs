//! Benchmark Worker (b): the routes of `bench/layers-worker`, hand-written with workers-rs and
//! the same crates (jwt-compact with `rsa`, serde) — the baseline layers is compared against.
//!
//! | route | who | what |
//! |---|---|---|
//! | `GET /hello` | anyone | text `hello\n` |
//! | `GET /access/hello` | Cloudflare Access JWT | text `hello <email>\n` |
//! | `GET /access-uncached/hello` | Cloudflare Access JWT | the same (this Worker never remembers tokens) |
//! | `GET /access/posts/:id` | Cloudflare Access JWT | D1 `SELECT id, title FROM posts WHERE id = ?1`; JSON, 404 if missing |
//!
//! With the var `HAND_LOG = "wide"` it writes one JSON line per request — ray, route, the
//! request's status and time, the identity decision, the storage operations — the way one
//! would by hand with `serde_json::json!` and `console_log!`: the baseline for layers' default
//! log event. Without it, it logs nothing (but refusals).
//!
//! The Access check is the one layers' `AccessJwt` makes: the `cf-access-jwt-assertion` header
//! (absent → 401), `alg` exactly `RS256` with a `kid`, the key found by `kid` in the team's JWKS
//! (fetched with [`worker::Fetch`], cached in the isolate for 10 minutes; an unknown `kid`
//! refetches at most every 30 s; no usable keys → 503), the signature, `iss` =
//! `https://<ACCESS_TEAM_DOMAIN>`, `aud` containing `ACCESS_AUD`, `exp` required and
//! `nbf`/`iat` checked when present, with 60 s leeway. Anything wrong with the token → 403.

#![forbid(unsafe_code)]

use std::cell::RefCell;
use std::rc::Rc;

use jwt_compact::alg::{Rsa, RsaPublicKey, StrongKey};
use jwt_compact::jwk::JsonWebKey;
use jwt_compact::{AlgorithmExt as _, UntrustedToken};
use serde::{Deserialize, Serialize};
use worker::wasm_bindgen::JsValue;
use worker::{event, Context, Date, Env, Fetch, Method, Request, Response, Result, Url};

/// The header Cloudflare Access puts its token in.
const ACCESS_HEADER: &str = "cf-access-jwt-assertion";
/// Clock skew tolerated on `exp`, `nbf`, `iat` (seconds).
const LEEWAY_SECS: i64 = 60;
/// How long fetched keys are trusted (seconds).
const CACHE_TTL_SECS: u64 = 600;
/// Least time between two JWKS fetches when a `kid` is unknown or a fetch failed (seconds).
const REFETCH_INTERVAL_SECS: u64 = 30;

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    if !wide_log(&env) {
        return handle(&req, &env, &mut Record::default()).await;
    }
    // `HAND_LOG = "wide"`: one JSON line per request, the way a hand-written Worker would log
    // the three layers (the baseline for layers' default log event).
    let t0 = Date::now().as_millis();
    let mut rec = Record::default();
    let resp = handle(&req, &env, &mut rec).await;
    let status = resp.as_ref().map_or(500, Response::status_code);
    let line = serde_json::json!({
        "ray": req.headers().get("cf-ray").ok().flatten().unwrap_or_else(|| "-".to_owned()),
        "event": "fetch",
        "method": req.method().to_string(),
        "route": rec.route,
        "request": {"status": status, "outcome": if resp.is_ok() { "handled" } else { "error" }, "ms": Date::now().as_millis().saturating_sub(t0)},
        "identity": rec.identity,
        "storage": rec.storage,
    });
    worker::console_log!("{line}");
    resp
}

/// What one request did, for its log line.
#[derive(Default)]
struct Record {
    route: &'static str,
    identity: Option<serde_json::Value>,
    storage: Vec<serde_json::Value>,
}

impl Record {
    fn identity(&mut self, verifier: &str, t0: u64, result: std::result::Result<(), &Denied>) {
        let ms = Date::now().as_millis().saturating_sub(t0);
        self.identity = Some(match result {
            Ok(()) => serde_json::json!({"verifier": verifier, "outcome": "allow", "ms": ms}),
            Err(d) => {
                serde_json::json!({"verifier": verifier, "outcome": "deny", "detail": format!("{d:?}"), "ms": ms})
            }
        });
    }
}

thread_local! {
    static WIDE_LOG: std::cell::Cell<Option<bool>> = const { std::cell::Cell::new(None) };
}

/// Whether the `HAND_LOG` var is `wide` (read once per isolate).
fn wide_log(env: &Env) -> bool {
    WIDE_LOG.with(|c| {
        c.get().unwrap_or_else(|| {
            let on = env.var("HAND_LOG").is_ok_and(|v| v.to_string() == "wide");
            c.set(Some(on));
            on
        })
    })
}

async fn handle(req: &Request, env: &Env, rec: &mut Record) -> Result<Response> {
    if req.method() != Method::Get {
        return Response::error("method not allowed\n", 405);
    }
    let path = req.path();
    match path.as_str() {
        "/hello" => {
            rec.route = "/hello";
            rec.identity("Public", Date::now().as_millis(), Ok(()));
            Response::ok("hello\n")
        }
        "/access/hello" | "/access-uncached/hello" => {
            rec.route = if path == "/access/hello" { "/access/hello" } else { "/access-uncached/hello" };
            let t0 = Date::now().as_millis();
            match authenticate(req, env).await {
                Ok(email) => {
                    rec.identity("Access", t0, Ok(()));
                    Response::ok(format!("hello {email}\n"))
                }
                Err(denied) => {
                    rec.identity("Access", t0, Err(&denied));
                    denied.response()
                }
            }
        }
        _ => match path.strip_prefix("/access/posts/") {
            Some(id) if !id.is_empty() && !id.contains('/') => {
                rec.route = "/access/posts/:id";
                let t0 = Date::now().as_millis();
                if let Err(denied) = authenticate(req, env).await {
                    rec.identity("Access", t0, Err(&denied));
                    return denied.response();
                }
                rec.identity("Access", t0, Ok(()));
                let Ok(id) = id.parse::<i64>() else {
                    return Response::error("`id` must be an integer\n", 400);
                };
                let t0 = Date::now().as_millis();
                let resp = post(env, id).await;
                let ms = Date::now().as_millis().saturating_sub(t0);
                let outcome = if resp.is_ok() { "ok" } else { "error" };
                rec.storage.push(
                    serde_json::json!({"kind": "D1", "binding": "DB", "op": "first", "ms": ms, "outcome": outcome}),
                );
                resp
            }
            _ => Response::error("not found\n", 404),
        },
    }
}

/// One row of `posts`.
#[derive(Debug, Serialize, Deserialize)]
struct Post {
    id: i64,
    title: String,
}

async fn post(env: &Env, id: i64) -> Result<Response> {
    // D1 numbers are JS doubles: exact up to 2^53.
    if id.unsigned_abs() > 1 << 53 {
        return Response::error("not found\n", 404);
    }
    #[allow(clippy::cast_precision_loss)] // checked above: exact
    let id = JsValue::from_f64(id as f64);
    let db = env.d1("DB")?;
    let row: Option<Post> = db.prepare("SELECT id, title FROM posts WHERE id = ?1").bind(&[id])?.first(None).await?;
    match row {
        Some(p) => Response::from_json(&p),
        None => Response::error("not found\n", 404),
    }
}

// ---- Cloudflare Access -------------------------------------------------------------------------

/// Why a request was refused.
#[derive(Debug)]
enum Denied {
    /// No token: 401.
    Missing,
    /// A token, but not a valid one: 403.
    Invalid(&'static str),
    /// Configuration or keys unavailable: 503.
    Unavailable(String),
}

impl Denied {
    fn response(&self) -> Result<Response> {
        match self {
            Denied::Missing => Response::error("unauthorized\n", 401),
            Denied::Invalid(why) => {
                worker::console_log!("access denied: {why}");
                Response::error("forbidden\n", 403)
            }
            Denied::Unavailable(why) => {
                worker::console_error!("access unavailable: {why}");
                Response::error("service unavailable\n", 503)
            }
        }
    }
}

/// What the token is checked against, read from the vars once per isolate.
struct Settings {
    issuer: String,
    audiences: Vec<String>,
    certs_url: String,
}

impl Settings {
    fn from_env(env: &Env) -> std::result::Result<Settings, String> {
        let var = |name: &str| env.var(name).ok().map(|v| v.to_string()).filter(|v| !v.trim().is_empty());
        let team = var("ACCESS_TEAM_DOMAIN").ok_or("var ACCESS_TEAM_DOMAIN is not set")?;
        let team = team.trim();
        let team = team.strip_prefix("https://").unwrap_or(team);
        let host = team.strip_suffix('/').unwrap_or(team).to_ascii_lowercase();
        if host.is_empty() || !host.contains('.') || host.contains(['/', ':', '@']) {
            return Err("ACCESS_TEAM_DOMAIN is not a host name".into());
        }
        let aud = var("ACCESS_AUD").ok_or("var ACCESS_AUD is not set")?;
        let audiences: Vec<String> =
            aud.split([',', ' ', '\t', '\n']).filter(|a| !a.is_empty()).map(str::to_owned).collect();
        let certs_url = var("ACCESS_CERTS_URL")
            .map(|u| u.trim().to_owned())
            .unwrap_or_else(|| format!("https://{host}/cdn-cgi/access/certs"));
        if !(certs_url.starts_with("https://")
            || certs_url.starts_with("http://127.0.0.1:")
            || certs_url.starts_with("http://localhost:"))
        {
            return Err("ACCESS_CERTS_URL must be https (or http on loopback)".into());
        }
        Ok(Settings { issuer: format!("https://{host}"), audiences, certs_url })
    }
}

/// The usable keys of a JWKS, by `kid`.
type Keys = Rc<Vec<(String, RsaPublicKey)>>;

#[derive(Default)]
struct KeyCache {
    keys: Option<(Keys, u64)>,
    last_attempt: Option<u64>,
    last_failure: Option<u64>,
}

thread_local! {
    static SETTINGS: RefCell<Option<Rc<Settings>>> = const { RefCell::new(None) };
    static KEYS: RefCell<KeyCache> = RefCell::new(KeyCache::default());
}

fn settings(env: &Env) -> std::result::Result<Rc<Settings>, Denied> {
    if let Some(s) = SETTINGS.with(|s| s.borrow().clone()) {
        return Ok(s);
    }
    let s = Rc::new(Settings::from_env(env).map_err(Denied::Unavailable)?);
    SETTINGS.with(|c| *c.borrow_mut() = Some(Rc::clone(&s)));
    Ok(s)
}

fn now_secs() -> u64 {
    Date::now().as_millis() / 1000
}

/// Verifies the request's Access token; returns the user's email.
async fn authenticate(req: &Request, env: &Env) -> std::result::Result<String, Denied> {
    let settings = settings(env)?;
    let token = req.headers().get(ACCESS_HEADER).ok().flatten().ok_or(Denied::Missing)?;
    let token = token.trim();
    if token.is_empty() {
        return Err(Denied::Missing);
    }
    if token.len() > 8 * 1024 {
        return Err(Denied::Invalid("token too long"));
    }
    let untrusted = UntrustedToken::new(token).map_err(|_| Denied::Invalid("malformed token"))?;
    if untrusted.algorithm() != "RS256" {
        return Err(Denied::Invalid("alg is not RS256"));
    }
    let kid = untrusted.header().key_id.as_deref().ok_or(Denied::Invalid("no kid"))?;
    let now = now_secs();
    let keys = keys_for(&settings.certs_url, kid, now).await?;
    let key = keys.iter().find(|(k, _)| k == kid).map(|(_, key)| key).ok_or(Denied::Invalid("unknown kid"))?;
    let token = Rsa::rs256()
        .validator::<AccessClaims>(key)
        .validate(&untrusted)
        .map_err(|_| Denied::Invalid("signature or claims rejected"))?;
    let claims = token.claims();
    let now = i64::try_from(now).unwrap_or(i64::MAX);
    let exp = claims.expiration.ok_or(Denied::Invalid("no exp"))?.timestamp();
    if now > exp.saturating_add(LEEWAY_SECS) {
        return Err(Denied::Invalid("expired"));
    }
    if claims.not_before.is_some_and(|nbf| now < nbf.timestamp().saturating_sub(LEEWAY_SECS)) {
        return Err(Denied::Invalid("not valid yet"));
    }
    if claims.issued_at.is_some_and(|iat| iat.timestamp() > now.saturating_add(LEEWAY_SECS)) {
        return Err(Denied::Invalid("issued in the future"));
    }
    let c = &claims.custom;
    if c.iss != settings.issuer {
        return Err(Denied::Invalid("wrong iss"));
    }
    let aud_ok = match &c.aud {
        Aud::One(a) => settings.audiences.contains(a),
        Aud::Many(list) => list.iter().any(|a| settings.audiences.contains(a)),
    };
    if !aud_ok {
        return Err(Denied::Invalid("wrong aud"));
    }
    match (&c.email, &c.sub) {
        (Some(email), Some(sub)) if !email.is_empty() && !sub.is_empty() => Ok(email.clone()),
        _ => Err(Denied::Invalid("no email or sub")),
    }
}

/// The claims read besides `exp`/`nbf`/`iat` (which jwt-compact parses itself).
#[derive(Debug, Deserialize)]
struct AccessClaims {
    iss: String,
    aud: Aud,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    sub: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Aud {
    One(String),
    Many(Vec<String>),
}

/// The cached keys when they hold `kid`; otherwise a (rate-limited) fetch.
async fn keys_for(url: &str, kid: &str, now: u64) -> std::result::Result<Keys, Denied> {
    let recent = |t: Option<u64>| t.is_some_and(|t| now.saturating_sub(t) < REFETCH_INTERVAL_SECS);
    let (fresh, attempted, failed) = KEYS.with(|c| {
        let c = c.borrow();
        let fresh =
            c.keys.as_ref().filter(|(_, at)| now.saturating_sub(*at) < CACHE_TTL_SECS).map(|(k, _)| Rc::clone(k));
        (fresh, recent(c.last_attempt), recent(c.last_failure))
    });
    match fresh {
        Some(keys) if keys.iter().any(|(k, _)| k == kid) => return Ok(keys),
        Some(_) if attempted => return Err(Denied::Invalid("unknown kid")),
        None if failed => return Err(Denied::Unavailable("JWKS fetch failed recently".into())),
        _ => {}
    }
    KEYS.with(|c| c.borrow_mut().last_attempt = Some(now));
    let fetched = fetch_keys(url).await;
    KEYS.with(|c| {
        let mut c = c.borrow_mut();
        match &fetched {
            Ok(keys) => {
                c.keys = Some((Rc::clone(keys), now));
                c.last_failure = None;
            }
            Err(_) => c.last_failure = Some(now),
        }
    });
    fetched.map_err(Denied::Unavailable)
}

async fn fetch_keys(url: &str) -> std::result::Result<Keys, String> {
    let url = Url::parse(url).map_err(|e| format!("JWKS URL: {e}"))?;
    let mut resp = Fetch::Url(url).send().await.map_err(|e| format!("fetching the JWKS: {e}"))?;
    if resp.status_code() != 200 {
        return Err(format!("the JWKS URL answered {}", resp.status_code()));
    }
    let body = resp.bytes().await.map_err(|e| format!("reading the JWKS: {e}"))?;
    parse_jwks(&body)
}

#[derive(Deserialize)]
struct JwksDoc {
    keys: Vec<serde_json::Value>,
}

/// The RSA signing keys (2048+ bits, `alg` absent or RS256, `use` absent or `sig`) with a `kid`.
fn parse_jwks(json: &[u8]) -> std::result::Result<Keys, String> {
    let doc: JwksDoc = serde_json::from_slice(json).map_err(|_| "the JWKS is not {\"keys\": [...]}".to_owned())?;
    let mut keys = Vec::new();
    for jwk in doc.keys.iter().take(32) {
        let field = |name: &str| jwk.get(name).and_then(serde_json::Value::as_str);
        let Some(kid) = field("kid").filter(|k| !k.is_empty()) else { continue };
        if field("kty") != Some("RSA")
            || !matches!(field("use"), None | Some("sig"))
            || !matches!(field("alg"), None | Some("RS256"))
        {
            continue;
        }
        let public = serde_json::json!({"kty": "RSA", "n": jwk.get("n"), "e": jwk.get("e")});
        let Ok(parsed) = serde_json::from_value::<JsonWebKey<'static>>(public) else { continue };
        let Ok(key) = RsaPublicKey::try_from(&parsed) else { continue };
        let Ok(key) = StrongKey::try_from(key) else { continue };
        keys.push((kid.to_owned(), key.into_inner()));
    }
    if keys.is_empty() {
        return Err("the JWKS holds no usable RS256 key".into());
    }
    Ok(Rc::new(keys))
}
