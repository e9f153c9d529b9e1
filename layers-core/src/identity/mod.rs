//! The identity layer: who is calling.
//!
//! Every route names a [`Verifier`]. Before the handler runs, the framework calls
//! [`Verifier::verify`] with a [`VerifyCx`] — the request head and the secrets and vars
//! the verifier reads, never a storage binding — and either answers with the
//! verifier's [`Deny`] or wraps the returned data in a [`Claims`] that only lives as long
//! as the request. `Claims` is the proof: nothing but the framework's dispatch makes one.
//!
//! Outbound, [`Federation`] is the Worker's own identity towards other clouds: it signs a
//! short-lived JWT with the Worker's key and exchanges it at an STS endpoint for temporary
//! credentials, cached in KV until shortly before they expire.

mod access_jwt;
mod api_key;
pub mod capability;
mod claims;
mod const_text;
pub(crate) mod cx;
mod deny;
mod durable_caller;
mod federation;
mod jwt_parse;
mod mtls;
mod policy;
mod public;
mod security;
mod signed_token;
mod single_flight;
pub mod state;
mod system;
mod turnstile;
#[cfg(target_arch = "wasm32")]
mod webcrypto;
mod webhook;
mod worker_access;

#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub use access_jwt::fuzz_check_unsigned;
pub use access_jwt::{
    AccessClaims, AccessConfig, AccessJwt, AccessSettings, DefaultAccess, Jwks, ACCESS_JWT_COOKIE, ACCESS_JWT_HEADER,
    MAX_ACCESS_JWT_LEN, MAX_JWKS_KEYS, MAX_JWKS_LEN, MAX_KID_LEN, MAX_VERIFIED_TOKEN_SECS,
};
pub use api_key::{ApiKey, ApiKeyClaims, ApiKeyConfig, ApiKeyHeader, DefaultApiKey};
pub use capability::{Identifies, MayFederate, MayMint, Mint, Minter};
pub use claims::{Claims, ClaimsFor};
pub use cx::{VerifyCx, VerifyCxBuilder};
pub use deny::{Deny, DenyKind};
pub use durable_caller::{DurableCaller, DurableCallerClaims};
pub use federation::{
    DefaultFederation, Federation, FederationConfig, FederationIssuer, FederationKey, TempCredentials,
    DEFAULT_STS_AUDIENCE, DEFAULT_STS_URL, DISCOVERY_PATH, JWKS_PATH, MAX_FEDERATION_KEY_LEN, MAX_STS_RESPONSE_LEN,
};
pub use mtls::{DefaultMtls, Mtls, MtlsAllowed, MtlsClaims, MtlsConfig};
pub use policy::{
    AdminEmails, AllowlistConfig, AnyOf, Authenticates, EmailAllowlist, Guarded, HasEmail, OneOf, Policy,
};
pub use public::Public;
pub use security::{Location, Scheme, SchemeKind, Security};
pub use signed_token::{
    mint, DefaultToken, SignedToken, TokenClaims, TokenConfig, TokenError, TokenSource, MAX_TOKEN_LEN, MIN_KEY_LEN,
};
pub use state::VerifierState;
pub use system::{System, SystemClaims};
pub use turnstile::{
    DefaultTurnstile, Turnstile, TurnstileClaims, TurnstileConfig, MAX_SITEVERIFY_LEN, MAX_TURNSTILE_TOKEN_LEN,
    SITEVERIFY_URL, TURNSTILE_FIELD,
};
pub use webhook::{
    sign_webhook, webhook_key, DefaultWebhook, Webhook, WebhookClaims, WebhookConfig, MAX_WEBHOOK_ID_LEN,
    MAX_WEBHOOK_SIGNATURES, MAX_WEBHOOK_SIGNATURE_LEN, MIN_WEBHOOK_KEY_LEN,
};
pub(crate) use worker_access::RuntimeAccess;
pub use worker_access::{
    AccessIdentity, DefaultWorkerAccess, Fallback, WorkerAccess, WorkerAccessClaims, WorkerAccessConfig,
    MAX_ACCESS_IDENTITY_LEN,
};

use std::future::Future;

/// Decides who is calling. Implemented by [`Public`], [`ApiKey`], [`SignedToken`],
/// [`AccessJwt`], [`WorkerAccess`]…, and by your own types for schemes of your own.
///
/// A verifier sees the request head, the secrets and vars it asks for by name, and
/// nothing else: storage is out of its reach, as it is out of reach of a handler
/// without claims.
///
/// ```
/// use layers_core::identity::{Deny, Verifier, VerifyCx};
///
/// /// Lets through requests that carry the shared secret in `x-probe`.
/// struct HealthProbe;
///
/// impl Verifier for HealthProbe {
///     type Claims = ();
///     const NAME: &'static str = "HealthProbe";
///     const SECRETS: &'static [&'static str] = &["PROBE_SECRET"];
///     async fn verify(cx: &VerifyCx<'_>) -> Result<(), Deny> {
///         let sent = cx.header("x-probe").ok_or_else(|| Deny::missing("no x-probe header"))?;
///         let want = cx.secret("PROBE_SECRET").ok_or_else(|| Deny::unavailable("PROBE_SECRET unset"))?;
///         if layers_core::identity::constant_time_eq(sent.as_bytes(), want.as_bytes()) {
///             Ok(())
///         } else {
///             Err(Deny::invalid("x-probe mismatch"))
///         }
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a verifier",
    label = "`identity = …` needs a type implementing `layers_core::Verifier`",
    note = "use `Public`, `ApiKey`, `SignedToken<C>`, or implement `Verifier` for your own type"
)]
pub trait Verifier: Sized + 'static {
    /// What a successful verification proves (an email, a key label, a token payload…).
    type Claims: 'static;
    /// The name used in logs.
    const NAME: &'static str;
    /// The Worker secrets this verifier reads ([`VerifyCx::secret`]). In a Worker, a verifier
    /// reads only the secrets it declares here — any other name reads as unset, and the log
    /// says why — so the list is the whole truth: `app!` refuses a `[vars]` entry of
    /// wrangler.toml that names one of them, and [`Vars`](crate::Vars) never reads one.
    const SECRETS: &'static [&'static str] = &[];
    /// The `[vars]` this verifier reads ([`VerifyCx::var`]). As with [`SECRETS`](Self::SECRETS),
    /// in a Worker a verifier reads only the vars it declares here — any other name reads as
    /// unset, and the log says why — so the manifest's list of what a route reads is the whole
    /// truth.
    const VARS: &'static [&'static str] = &[];
    /// The outbound calls this verifier makes, one line each for the manifest (`"JWKS at
    /// ACCESS_TEAM_DOMAIN/cdn-cgi/access/certs"`). A verifier that declares none is handed a
    /// [`VerifyCx`] whose fetch refuses every request, so the list cannot leave a call out.
    const OUTBOUND: &'static [&'static str] = &[];
    /// The signed-token configurations this verifier accepts, as keys (see
    /// [`TokenConfig`]): `app!` refuses two different configurations that share a secret and a
    /// purpose, whose tokens would pass for each other. Set by [`SignedToken`] and the
    /// compositions; a verifier of your own leaves it empty.
    #[doc(hidden)]
    const TOKENS: &'static [&'static str] = &[];
    /// Whether the verifier needs the raw request body (signatures over the body, form
    /// fields). The framework then reads the body first (at most
    /// [`DEFAULT_BODY_LIMIT`](crate::request::DEFAULT_BODY_LIMIT), else 413) and hands the
    /// same bytes to the handler.
    const BODY: bool = false;
    /// Whether the verifier reads [`VerifyCx::tls_client_auth`] (client certificates). The
    /// framework only looks at `request.cf` for verifiers that say so; for the others
    /// `tls_client_auth()` is `None` — a verifier that forgets to set this fails closed.
    const TLS: bool = false;
    /// Whether the verifier reads [`VerifyCx::access`] (Cloudflare's Worker-scoped Access,
    /// `ctx.access`). The framework reads `ctx.access` — and awaits its `getIdentity()` — only
    /// for verifiers that say so; for the others `access()` is absent, so a verifier that forgets
    /// to set this fails closed (401), as with [`TLS`](Self::TLS).
    const ACCESS: bool = false;
    /// Set only by [`System`]: claims that the platform's event entry points make, which no
    /// fetch route may ask for (`#[route(…, identity = System)]` fails to compile). Setting
    /// it on your own verifier only makes the routes using it fail to compile.
    #[doc(hidden)]
    const PLATFORM_ONLY: bool = false;
    /// Verifies the request, failing closed.
    fn verify(cx: &VerifyCx<'_>) -> impl Future<Output = Result<Self::Claims, Deny>>;
    /// Where this verifier's credentials travel, for the app's OpenAPI document (feature
    /// `openapi`): an `apiKey` header, a cookie, a client certificate… The default names the
    /// verifier and says nothing more ([`Security::undeclared`]); a verifier of your own can say
    /// where its credential is, e.g. `Security::one(Scheme::new("Probe", SchemeKind::ApiKey {
    /// name: "x-probe", location: Location::Header }, "…"))`.
    #[must_use]
    fn openapi_security() -> Security {
        Security::undeclared(Self::NAME)
    }
}

/// Compares two byte strings in time that depends only on their lengths, never on where
/// they differ. Both sides are hashed with SHA-256 first, so the lengths leak nothing either.
#[must_use]
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use sha2::{Digest, Sha256};
    use subtle::ConstantTimeEq;
    let (ha, hb) = (Sha256::digest(a), Sha256::digest(b));
    ha.as_slice().ct_eq(hb.as_slice()).into()
}
