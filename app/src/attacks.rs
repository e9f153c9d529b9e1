//! Routes that attack the guarantee from inside the app, built only into the e2e test Worker
//! (feature `attack-routes`, which `cargo xtask e2e|test` enables). Each does what a hostile app
//! author could write in safe Rust; the end-to-end tests (`tests/tests/admin.rs`) check that it
//! changes nothing it must not.

use std::rc::Rc;

use layers_core::identity::{Verifier, VerifyCx};
use layers_core::outbound::{FetchFuture, Fetcher, OutboundRequest, OutboundResponse};
use layers_core::prelude::*;

/// Ten years, in seconds.
const DECADE: u64 = 10 * 365 * 86_400;

/// Runs the `/admin` verifier ([`crate::Admin`]) by hand, on a context of its own: the Worker's
/// vars, the JWKS URL from `x-certs-url`, a fetcher that answers every call with the request
/// body as the key set, and a clock ten years ahead. Before verifier state belonged to dispatch,
/// this filled the isolate's key cache with the attacker's keys, fresh for a decade: the admin
/// routes then took tokens the attacker signed and refused genuine ones.
///
/// Answers `{"accepted": bool}`: whether that private verification took the token in
/// `cf-access-jwt-assertion` (it should: the attacker's keys, in the attacker's own state).
#[route(POST "/__attack/feed-verifier", identity = Public, vars(ACCESS_TEAM_DOMAIN, ACCESS_AUD, ADMIN_EMAILS))]
pub async fn feed_verifier(mut req: Request, _: Claims<'_, Public>, vars: Vars<'_>) -> Result<Response> {
    let token = req.header("cf-access-jwt-assertion").unwrap_or_default();
    let certs_url = req.header("x-certs-url").unwrap_or_default();
    let jwks = req.bytes().await?;
    let fetcher: Fetcher = Rc::new(move |_: OutboundRequest| -> FetchFuture {
        let body = jwks.clone();
        Box::pin(async move { Ok(OutboundResponse { status: 200, headers: Vec::new(), body }) })
    });
    let cx = VerifyCx::builder()
        .now(layers_core::log::now_ms() / 1000 + DECADE)
        .vars(move |name| if name == "ACCESS_CERTS_URL" { Some(certs_url.clone()) } else { vars.get(name) })
        .fetcher(fetcher)
        .header("cf-access-jwt-assertion", &token)
        .build();
    let accepted = crate::Admin::verify(&cx).await.is_ok();
    Ok(Response::from_json(&serde_json::json!({ "accepted": accepted }))?)
}

/// Tries to read, list and overwrite the Federation credential cache through the route's own
/// `Kv` handle (the same namespace `GET /admin/backup-credentials` caches in): keys under `layers:`
/// belong to layers. Answers what each attempt got.
#[route(POST "/__attack/federation-cache", identity = ApiKey, storage(KV because(Sessions, "the federation credential cache it attacks")), vars(STS_ROLE_ARN))]
pub async fn federation_cache(_: Claims<'_, ApiKey>, kv: Kv<'_>, vars: Vars<'_>) -> Result<Response> {
    let role = vars.get("STS_ROLE_ARN").unwrap_or_default();
    let key = format!("layers:federation:BackupRole:{role}");
    let read = kv.get(&key).await;
    let forged = r#"{"access_key_id":"ASIAFORGED0000000000","secret_access_key":"x","session_token":"y","expiration":4102444800}"#;
    let write = kv.put_with_ttl(&key, forged, 3600).await;
    let delete = kv.delete(&key).await;
    let listed = kv.list("", 1000, None).await.map(|p| p.keys.iter().any(|k| k.starts_with("layers:")));
    let list_reserved = kv.list("layers:", 1000, None).await;
    Ok(Response::from_json(&serde_json::json!({
        "read_refused": read.is_err(),
        "write_refused": write.is_err(),
        "delete_refused": delete.is_err(),
        "listed_reserved": listed.unwrap_or(true),
        "list_reserved_refused": list_reserved.is_err(),
    }))?)
}

/// Access through a deliberately slow key server (`SLOW_CERTS_URL`, the stubs' key set behind a
/// 1.5 s delay), with a key cache of its own: the route the single-flight test loads while its
/// keys are being fetched. Not an attack; here because it exists in the test build only.
pub struct SlowKeys;

impl layers_core::identity::AccessConfig for SlowKeys {
    const CERTS_URL_VAR: &'static str = "SLOW_CERTS_URL";
}

/// Answers who Access let through, with keys from the slow key server.
#[route(GET "/__test/slow-keys", identity = layers_core::identity::AccessJwt<SlowKeys>)]
pub async fn slow_keys(who: Claims<'_, layers_core::identity::AccessJwt<SlowKeys>>) -> Result<Response> {
    Ok(Response::ok(who.email().unwrap_or("service").to_owned())?)
}
