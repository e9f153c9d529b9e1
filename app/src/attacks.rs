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
#[route(POST "/__attack/feed-verifier", identity = Public)]
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
