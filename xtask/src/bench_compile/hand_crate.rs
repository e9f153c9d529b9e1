//! The same routes hand-written on workers-rs (`hand200`): its `lib.rs` (a `worker::Router`
//! with every route), its module files and its identity checks (`src/auth.rs`).

use super::generate::{kind, method_and_path, module_of, module_ranges, Kind, HEADER, SHARED_TYPES};

/// `lib.rs`: the modules, the shared types and the `Router` with every route.
pub(super) fn hand_lib(routes: usize) -> String {
    let mut s = format!(
        "{HEADER}//! {routes} routes hand-written on workers-rs (compile-time benchmark).\n\n\
         use serde::{{Deserialize, Serialize}};\nuse worker::*;\n\nmod auth;\n"
    );
    for m in 0..module_ranges(routes).len() {
        s.push_str(&format!("pub mod m{m:02};\n"));
    }
    s.push_str(SHARED_TYPES);
    s.push_str(
        "\n#[event(fetch)]\nasync fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {\n    Router::new()\n",
    );
    for i in 0..routes {
        let (method, path) = method_and_path(i);
        let f = if method == "GET" { "get_async" } else { "post_async" };
        s.push_str(&format!("        .{f}(\"{path}\", m{:02}::route_{i:03})\n", module_of(i, routes)));
    }
    s.push_str("        .run(req, env)\n        .await\n}\n");
    s
}

/// One module file: the handlers of the routes in `range`, each checking its identity.
pub(super) fn hand_module(range: std::ops::Range<usize>) -> String {
    let mut s = format!(
        "{HEADER}//! Routes {}..{}.\n\n{}use worker::*;\n",
        range.start,
        range.end,
        if range.clone().any(|i| matches!(kind(i), Kind::ApiKeyRead | Kind::ApiKeyWrite)) {
            "use worker::wasm_bindgen::JsValue;\n"
        } else {
            ""
        }
    );
    for i in range {
        let body = match kind(i) {
            Kind::PublicHello => format!(
                "
/// Route {i}: a greeting.
pub async fn route_{i:03}(_req: Request, ctx: RouteContext<()>) -> Result<Response> {{
    let name = ctx.param(\"name\").cloned().unwrap_or_default();
    Response::from_json(&serde_json::json!({{ \"route\": {i}, \"rev\": 0u32, \"hello\": name }}))
}}
"
            ),
            Kind::ApiKeyRead => format!(
                "
/// Route {i}: one item from D1.
pub async fn route_{i:03}(req: Request, ctx: RouteContext<()>) -> Result<Response> {{
    let label = match crate::auth::api_key(&req, &ctx.env) {{
        Ok(label) => label,
        Err(deny) => return deny.response(),
    }};
    let Some(id) = ctx.param(\"id\").and_then(|s| s.parse::<i64>().ok()) else {{
        return Response::error(\"`id` must be an integer\", 400);
    }};
    let db = ctx.env.d1(\"DB\")?;
    let item: Option<crate::Item> = db
        .prepare(\"SELECT id, name FROM items WHERE id = ?1 AND route = ?2\")
        .bind(&[JsValue::from_f64(id as f64), JsValue::from({i})])?
        .first(None)
        .await?;
    let Some(item) = item else {{
        return Response::error(\"not found\", 404);
    }};
    Response::from_json(&serde_json::json!({{ \"route\": {i}, \"rev\": 0u32, \"key\": label, \"item\": item }}))
}}
"
            ),
            Kind::ApiKeyWrite => format!(
                "
/// Route {i}: a JSON body into D1.
pub async fn route_{i:03}(mut req: Request, ctx: RouteContext<()>) -> Result<Response> {{
    let label = match crate::auth::api_key(&req, &ctx.env) {{
        Ok(label) => label,
        Err(deny) => return deny.response(),
    }};
    let json = req.headers().get(\"content-type\")?.is_some_and(|c| c.starts_with(\"application/json\"));
    if !json {{
        return Response::error(\"expected application/json\", 415);
    }}
    let body: crate::NewItem = match req.json().await {{
        Ok(body) => body,
        Err(_) => return Response::error(\"invalid JSON body\", 400),
    }};
    let db = ctx.env.d1(\"DB\")?;
    let result = db
        .prepare(\"INSERT INTO items (route, name, created_by) VALUES (?1, ?2, ?3)\")
        .bind(&[JsValue::from({i}), JsValue::from(body.name.as_str()), JsValue::from(label.as_str())])?
        .run()
        .await?;
    let changes = result.meta()?.and_then(|m| m.changes).unwrap_or(0);
    Ok(Response::from_json(&serde_json::json!({{ \"route\": {i}, \"rev\": 0u32, \"changes\": changes }}))?.with_status(201))
}}
"
            ),
            Kind::AccessKv => format!(
                "
/// Route {i}: the signed-in user's preferences from KV.
pub async fn route_{i:03}(req: Request, ctx: RouteContext<()>) -> Result<Response> {{
    let email = match crate::auth::access_jwt(&req, &ctx.env).await? {{
        Ok(email) => email,
        Err(deny) => return deny.response(),
    }};
    let kv = ctx.env.kv(\"KV\")?;
    let prefs = kv.get(&format!(\"prefs:{{email}}\")).text().await?;
    Response::from_json(&serde_json::json!({{ \"route\": {i}, \"rev\": 0u32, \"email\": email, \"prefs\": prefs }}))
}}
"
            ),
        };
        s.push_str(&body);
    }
    s
}

/// The hand-written identity checks: one helper per identity kind, as a Worker without a
/// framework would have them (`subtle`, `jwt-compact`, a JWKS cache), not layers-core's.
pub(super) const HAND_AUTH: &str = r#"// Generated by `cargo xtask bench` (xtask/src/bench_compile/) on every run; edits are lost.
//! Hand-written identity checks.

use std::cell::RefCell;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jwt_compact::alg::{Rsa, RsaPublicKey};
use jwt_compact::jwk::JsonWebKey;
use jwt_compact::{AlgorithmExt as _, Empty, UntrustedToken};
use subtle::ConstantTimeEq as _;
use worker::{Date, Env, Fetch, Request, Response, Result, Url};

/// Why a request was refused.
pub struct Deny(u16, &'static str);

impl Deny {
    /// The error response.
    pub fn response(self) -> Result<Response> {
        Response::error(self.1, self.0)
    }
}

/// `x-api-key` against the `API_KEYS` secret (`label:key,…`), constant time per key; the label.
pub fn api_key(req: &Request, env: &Env) -> std::result::Result<String, Deny> {
    let secret = env.secret("API_KEYS").map_err(|_| Deny(503, "API_KEYS is not set"))?.to_string();
    let presented = req.headers().get("x-api-key").ok().flatten().unwrap_or_default();
    let presented = presented.trim();
    if presented.is_empty() {
        return Err(Deny(401, "no API key"));
    }
    if presented.len() > 512 {
        return Err(Deny(403, "API key too long"));
    }
    let mut matched = None;
    for (i, entry) in secret.split([',', ' ', '\n']).filter(|e| !e.is_empty()).enumerate() {
        let (label, key) = match entry.split_once(':') {
            Some((l, k)) if !l.is_empty() => (l.to_owned(), k),
            _ => (format!("key{i}"), entry),
        };
        if key.len() < 16 {
            return Err(Deny(503, "API_KEYS holds a short key"));
        }
        let eq: bool = presented.as_bytes().ct_eq(key.as_bytes()).into();
        if eq && matched.is_none() {
            matched = Some(label);
        }
    }
    matched.ok_or(Deny(403, "wrong API key"))
}

thread_local! {
    /// Access signing keys by kid, and when they were fetched (ms).
    static KEYS: RefCell<(f64, Vec<(String, RsaPublicKey)>)> = const { RefCell::new((0.0, Vec::new())) };
}

const KEYS_TTL_MS: f64 = 600_000.0;
const LEEWAY_SECS: i64 = 60;

#[derive(serde::Deserialize)]
struct AccessPayload {
    iss: String,
    aud: serde_json::Value,
    exp: i64,
    #[serde(default)]
    nbf: Option<i64>,
    #[serde(default)]
    email: Option<String>,
}

async fn fetch_keys(team: &str) -> Result<Vec<(String, RsaPublicKey)>> {
    let url = Url::parse(&format!("https://{team}/cdn-cgi/access/certs"))?;
    let mut resp = Fetch::Url(url).send().await?;
    if resp.status_code() != 200 {
        return Err(worker::Error::RustError(format!("certs answered {}", resp.status_code())));
    }
    let jwks: serde_json::Value = resp.json().await?;
    let mut keys = Vec::new();
    for key in jwks.get("keys").and_then(|k| k.as_array()).into_iter().flatten() {
        let Some(kid) = key.get("kid").and_then(|k| k.as_str()) else { continue };
        let Ok(jwk) = serde_json::from_value::<JsonWebKey<'static>>(key.clone()) else { continue };
        if let Ok(pk) = RsaPublicKey::try_from(&jwk) {
            keys.push((kid.to_owned(), pk));
        }
    }
    Ok(keys)
}

fn cached_key(kid: &str, now_ms: f64) -> Option<RsaPublicKey> {
    KEYS.with(|k| {
        let k = k.borrow();
        if now_ms - k.0 > KEYS_TTL_MS {
            return None;
        }
        k.1.iter().find(|(id, _)| id == kid).map(|(_, pk)| pk.clone())
    })
}

/// The `Cf-Access-Jwt-Assertion` token: RS256 against the team's keys, `iss`, `aud`, `exp`,
/// `nbf`; the email it names.
pub async fn access_jwt(req: &Request, env: &Env) -> Result<std::result::Result<String, Deny>> {
    let (Ok(team), Ok(aud)) = (env.var("ACCESS_TEAM_DOMAIN"), env.var("ACCESS_AUD")) else {
        return Ok(Err(Deny(503, "Access is not configured")));
    };
    let (team, aud) = (team.to_string(), aud.to_string());
    let Some(token) = req.headers().get("cf-access-jwt-assertion")? else {
        return Ok(Err(Deny(401, "no Access token")));
    };
    if token.len() > 8192 {
        return Ok(Err(Deny(403, "token too long")));
    }
    let Ok(untrusted) = UntrustedToken::new(&token) else {
        return Ok(Err(Deny(403, "malformed token")));
    };
    let Some(kid) = untrusted.header().key_id.clone() else {
        return Ok(Err(Deny(403, "token has no kid")));
    };
    let now_ms = Date::now().as_millis() as f64;
    let key = match cached_key(&kid, now_ms) {
        Some(key) => key,
        None => {
            let keys = fetch_keys(&team).await?;
            let key = keys.iter().find(|(id, _)| *id == kid).map(|(_, pk)| pk.clone());
            KEYS.with(|k| *k.borrow_mut() = (now_ms, keys));
            match key {
                Some(key) => key,
                None => return Ok(Err(Deny(403, "unknown signing key"))),
            }
        }
    };
    if Rsa::rs256().validator::<Empty>(&key).validate(&untrusted).is_err() {
        return Ok(Err(Deny(403, "bad signature")));
    }
    let payload = token.split('.').nth(1).unwrap_or_default();
    let Ok(bytes) = URL_SAFE_NO_PAD.decode(payload) else {
        return Ok(Err(Deny(403, "payload is not base64url")));
    };
    let Ok(claims) = serde_json::from_slice::<AccessPayload>(&bytes) else {
        return Ok(Err(Deny(403, "payload claims missing")));
    };
    let now = (now_ms / 1000.0) as i64;
    if claims.iss != format!("https://{team}") {
        return Ok(Err(Deny(403, "wrong issuer")));
    }
    let aud_ok = match &claims.aud {
        serde_json::Value::String(a) => *a == aud,
        serde_json::Value::Array(all) => all.iter().any(|a| a.as_str() == Some(aud.as_str())),
        _ => false,
    };
    if !aud_ok {
        return Ok(Err(Deny(403, "wrong audience")));
    }
    if claims.exp + LEEWAY_SECS < now || claims.nbf.is_some_and(|nbf| nbf - LEEWAY_SECS > now) {
        return Ok(Err(Deny(403, "token expired or not yet valid")));
    }
    match claims.email {
        Some(email) => Ok(Ok(email)),
        None => Ok(Err(Deny(403, "token names no email"))),
    }
}
"#;
