//! Cloudflare Access: the `Cf-Access-Jwt-Assertion` JWT (RS256), checked against the team's JWKS.
//!
//! Here: the configuration ([`AccessConfig`]), the verifier ([`AccessJwt`]) and what it proves
//! ([`AccessClaims`]). The steps, one concern per module:
//!
//! * `settings`: what a token is checked against ([`AccessSettings`]) and the verification that
//!   needs no I/O (token + key set + time), with the claim checks;
//! * `header`: the strict check of the JOSE header, before anything else is read;
//! * `signature`: the rest of the compact JWS: its segments, the RS256 signature, the payload;
//! * `jwks`: the key set document ([`Jwks`]);
//! * `key_cache`: the key sets fetched, and one fetch per key set at a time;
//! * `token_cache`: the tokens that verified, and why using them equals verifying again;
//! * `state`: what those keep between requests, in a [`VerifierState`](super::VerifierState).

use std::marker::PhantomData;
use std::rc::Rc;

use serde_json::{Map, Value};

use super::{Deny, Verifier, VerifyCx};

mod header;
mod jwks;
mod key_cache;
mod settings;
mod signature;
mod state;
mod token_cache;

use header::check_token_header;
pub use jwks::Jwks;
pub(crate) use settings::audience_tags;
#[cfg(feature = "fuzzing")]
pub use settings::fuzz_check_unsigned;
pub use settings::AccessSettings;
#[cfg(test)]
pub(crate) use signature::verify_rs256;
use state::{AccessState, SettingsInputs, SETTINGS_KEPT};
use token_cache::Verified;

/// The header Cloudflare Access puts the token in.
pub const ACCESS_JWT_HEADER: &str = "Cf-Access-Jwt-Assertion";
/// The cookie browsers carry the same token in (used only when the header is absent).
pub const ACCESS_JWT_COOKIE: &str = "CF_Authorization";

/// The longest a verified Access token is remembered, in seconds
/// ([`AccessConfig::VERIFIED_TOKEN_SECS`] cannot raise it).
pub const MAX_VERIFIED_TOKEN_SECS: u64 = 60;
/// Tokens longer than this many bytes are refused unread (403).
pub const MAX_ACCESS_JWT_LEN: usize = 8 * 1024;
/// Longest accepted `kid` (header and JWKS).
pub const MAX_KID_LEN: usize = 128;
/// JWKS documents larger than this are treated as garbage.
pub const MAX_JWKS_LEN: usize = 256 * 1024;
/// At most this many keys of a JWKS are looked at.
pub const MAX_JWKS_KEYS: usize = 32;

/// Configures an [`AccessJwt`] verifier: which vars hold the team domain and the application
/// AUD, and how keys are cached. Every item has a default, so a config only overrides what
/// differs.
///
/// ```
/// use layers_core::identity::{AccessConfig, AccessJwt};
///
/// /// A second Access application in front of the same Worker.
/// pub struct Staff;
/// impl AccessConfig for Staff {
///     const AUD_VAR: &'static str = "STAFF_ACCESS_AUD";
///     const NAME: &'static str = "StaffAccess";
/// }
/// pub type StaffAccess = AccessJwt<Staff>; // use as `identity = StaffAccess`
/// ```
pub trait AccessConfig: 'static {
    /// Var holding the team domain: `myteam.cloudflareaccess.com` or
    /// `https://myteam.cloudflareaccess.com`. The expected `iss` is `https://<domain>`.
    const TEAM_DOMAIN_VAR: &'static str = "ACCESS_TEAM_DOMAIN";
    /// Var holding the application's AUD tag (several, separated by commas or whitespace,
    /// when one Worker sits behind several Access applications).
    const AUD_VAR: &'static str = "ACCESS_AUD";
    /// Var that, when set, replaces `https://<team>/cdn-cgi/access/certs` as the JWKS URL
    /// (tests serve keys on loopback). Must be `https://…`, or `http://` on 127.0.0.1,
    /// `localhost` or `[::1]`.
    const CERTS_URL_VAR: &'static str = "ACCESS_CERTS_URL";
    /// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
    const LEEWAY_SECS: u64 = 60;
    /// How long fetched keys are trusted before they are fetched again, in seconds.
    const CACHE_TTL_SECS: u64 = 600;
    /// Least time between two fetches of one JWKS URL, in seconds: an unknown `kid` causes
    /// at most one refetch per interval, and a failed fetch is not retried sooner.
    const REFETCH_INTERVAL_SECS: u64 = 30;
    /// How many tokens that verified are remembered per isolate, so that the next request
    /// with the same token skips the parse and the signature check (see [`AccessJwt`]'s
    /// "Repeated tokens"); `0` remembers none.
    const VERIFIED_TOKENS: usize = 256;
    /// How long a token that verified is remembered, in seconds, counted from the verification
    /// (seed gotcha ④: never cache verified identity for long). At most
    /// [`MAX_VERIFIED_TOKEN_SECS`]: a larger value counts as that; `0` remembers none.
    const VERIFIED_TOKEN_SECS: u64 = MAX_VERIFIED_TOKEN_SECS;
    /// Name in logs and the manifest.
    const NAME: &'static str = "AccessJwt";
}

/// The default [`AccessJwt`] configuration: vars `ACCESS_TEAM_DOMAIN`, `ACCESS_AUD`,
/// `ACCESS_CERTS_URL`; 60 s leeway, keys cached 10 min, refetch at most every 30 s.
#[derive(Debug)]
pub struct DefaultAccess;

impl AccessConfig for DefaultAccess {}

/// Cloudflare Access: verifies the RS256 JWT that Access adds to every request it let
/// through, against the team's published keys.
///
/// * Token: the `Cf-Access-Jwt-Assertion` header, else the `CF_Authorization` cookie.
///   Neither → 401; header sent twice → 403.
/// * Only `RS256` with a `kid` is accepted. The header is parsed strictly first (base64url,
///   one JSON object without duplicate names, no `crit`/`cty`); nothing in the token chooses
///   the algorithm or the key source.
/// * Keys: `https://<team>/cdn-cgi/access/certs`, cached per isolate for
///   [`AccessConfig::CACHE_TTL_SECS`]; an unknown `kid` refetches at most once per
///   [`AccessConfig::REFETCH_INTERVAL_SECS`]. No usable keys (unreachable, non-200, garbage)
///   → 503, never a pass.
/// * Claims: signature, `aud` contains the configured AUD, `iss` is `https://<team>`, `exp`
///   required, `nbf`/`iat` checked when present, all with [`AccessConfig::LEEWAY_SECS`].
/// * Time comes from [`VerifyCx::now`] only.
/// * In Workers (wasm32) the RS256 signature itself is checked by the runtime's WebCrypto
///   (`crypto.subtle.verify`, RSASSA-PKCS1-v1_5 / SHA-256, the key imported once per isolate
///   from the parsed `n`/`e`); everything else, and every denial, is the same Rust code as
///   natively, where jwt-compact checks the signature. Any WebCrypto failure denies (403).
///
/// # Repeated tokens
/// Access sends the same token with every request of a session. A token that verified is
/// remembered per isolate (at most [`AccessConfig::VERIFIED_TOKENS`], by its exact string,
/// together with the settings, `kid` and key it verified under). Lookups go by a SipHash tag
/// keyed with the isolate's random key and confirm the whole string in constant time, so their
/// timing tells nothing about the tokens of others. The next request with that
/// string, under equal settings, skips the parse and the signature check — both depend only
/// on the token's bytes and the key — but not the rest: the key set is looked up (and
/// refetched) exactly as on a first request and must still map the `kid` to that same key,
/// and `exp`/`nbf`/`iat` are checked against the clock again. So every request gets the
/// answer a full verification would give. Only tokens that passed every check are
/// remembered; a full cache is emptied before the next one is added.
///
/// Why skipping those steps is equivalent to verifying again is argued with the cache itself,
/// in the docs of the (private) module `access_jwt::token_cache`
/// (`layers-core/src/identity/access_jwt/token_cache.rs`).
///
/// A verified identity is not kept long (seed gotcha ④): an entry
/// lives at most [`AccessConfig::VERIFIED_TOKEN_SECS`] (60 s by default, never more than
/// [`MAX_VERIFIED_TOKEN_SECS`]) from the verification that made it, then the token is verified in
/// full again. A clock that went back past the verification also ends the entry.
///
/// # Whose cache
/// Keys and remembered tokens live in the [`VerifyCx`]'s
/// [`VerifierState`](super::VerifierState): the isolate's for the requests dispatch verifies,
/// a private one for a context made with [`VerifyCx::builder`]. Running this verifier by hand
/// — with a fetcher that serves other keys, or a clock years ahead — therefore fills only that
/// private state; the routes keep verifying against the keys dispatch fetched itself.
///
/// The pure part runs natively: [`AccessSettings::verify`] (token + [`Jwks`] + time).
#[derive(Debug)]
pub struct AccessJwt<C: AccessConfig = DefaultAccess>(PhantomData<C>);

/// What an [`AccessJwt`] proves: who Access let through.
#[derive(Debug, Clone, PartialEq)]
pub enum AccessClaims {
    /// A person who logged in through an identity provider.
    User {
        /// The user's email, as the identity provider vouched for it.
        email: String,
        /// Access's stable id of the user (per email, per account).
        sub: String,
        /// Handle for `/cdn-cgi/access/get-identity`, when present.
        identity_nonce: Option<String>,
        /// Country the user logged in from, when present.
        country: Option<String>,
        /// The `type` claim: `app` or `org`.
        kind: String,
        /// Every other claim (custom OIDC/SAML claims), as sent.
        custom: Map<String, Value>,
    },
    /// A service token (`CF-Access-Client-Id` / `CF-Access-Client-Secret`): no email.
    Service {
        /// The service token's client id.
        common_name: String,
        /// Empty for service tokens, as Access sends it.
        sub: String,
    },
}

impl AccessClaims {
    /// The user's email; `None` for a service token.
    #[must_use]
    pub fn email(&self) -> Option<&str> {
        match self {
            AccessClaims::User { email, .. } => Some(email),
            AccessClaims::Service { .. } => None,
        }
    }
    /// The service token's client id; `None` for a user.
    #[must_use]
    pub fn common_name(&self) -> Option<&str> {
        match self {
            AccessClaims::User { .. } => None,
            AccessClaims::Service { common_name, .. } => Some(common_name),
        }
    }
    /// The `sub` claim.
    #[must_use]
    pub fn sub(&self) -> &str {
        match self {
            AccessClaims::User { sub, .. } | AccessClaims::Service { sub, .. } => sub,
        }
    }
}

impl<C: AccessConfig> AccessJwt<C> {
    const JWKS_CALL: &'static super::const_text::ConstName = &super::const_text::ConstName::join(&[
        "Access JWKS (var ",
        C::CERTS_URL_VAR,
        ", else <",
        C::TEAM_DOMAIN_VAR,
        ">/cdn-cgi/access/certs)",
    ]);
    /// The token of this request: the header, else the cookie.
    ///
    /// # Errors
    /// 401 when neither is present, 403 when the header is sent twice.
    pub fn token(cx: &VerifyCx<'_>) -> Result<String, Deny> {
        if cx.header_count(ACCESS_JWT_HEADER) > 1 {
            return Err(Deny::invalid(format!("header {ACCESS_JWT_HEADER} sent more than once")));
        }
        if let Some(t) = cx.header(ACCESS_JWT_HEADER).map(str::trim).filter(|t| !t.is_empty()) {
            return Ok(t.to_owned());
        }
        match cx.cookie(ACCESS_JWT_COOKIE) {
            Some(t) if !t.trim().is_empty() => Ok(t.trim().to_owned()),
            _ => Err(Deny::missing(format!("no {ACCESS_JWT_HEADER} header and no single {ACCESS_JWT_COOKIE} cookie"))),
        }
    }

    /// [`settings`](Self::settings), made once per distinct set of var values and kept in
    /// `state` (making them parses the team domain and AUD list and formats two URLs).
    fn settings_kept(cx: &VerifyCx<'_>, state: &AccessState) -> Result<Rc<AccessSettings>, Deny> {
        let inputs = Self::settings_inputs(cx);
        if let Some(s) = state.settings.borrow().iter().find(|(i, _)| *i == inputs).map(|(_, s)| Rc::clone(s)) {
            return Ok(s);
        }
        let settings = Rc::new(Self::settings_from(&inputs)?);
        let mut kept = state.settings.borrow_mut();
        if kept.len() >= SETTINGS_KEPT {
            kept.remove(0);
        }
        kept.push((inputs, Rc::clone(&settings)));
        Ok(settings)
    }

    /// The settings from this request's vars.
    ///
    /// # Errors
    /// 503 when the team domain or AUD var is unset or unusable.
    pub fn settings(cx: &VerifyCx<'_>) -> Result<AccessSettings, Deny> {
        Self::settings_from(&Self::settings_inputs(cx))
    }

    /// The vars (and leeway) settings are made from.
    fn settings_inputs(cx: &VerifyCx<'_>) -> SettingsInputs {
        SettingsInputs {
            team: cx.var(C::TEAM_DOMAIN_VAR),
            aud: cx.var(C::AUD_VAR),
            certs: cx.var(C::CERTS_URL_VAR),
            leeway: C::LEEWAY_SECS,
        }
    }

    fn settings_from(inputs: &SettingsInputs) -> Result<AccessSettings, Deny> {
        let Some(team) = inputs.team.as_deref() else {
            return Err(Deny::unavailable(format!("var {} is not set", C::TEAM_DOMAIN_VAR)));
        };
        let Some(aud) = inputs.aud.as_deref() else {
            return Err(Deny::unavailable(format!("var {} is not set", C::AUD_VAR)));
        };
        AccessSettings::new(team, aud, inputs.certs.as_deref(), inputs.leeway)
            .map_err(|e| Deny::unavailable(format!("Access configuration: {e}")))
    }
}

impl<C: AccessConfig> Verifier for AccessJwt<C> {
    type Claims = AccessClaims;
    const NAME: &'static str = C::NAME;
    const VARS: &'static [&'static str] = &[C::TEAM_DOMAIN_VAR, C::AUD_VAR, C::CERTS_URL_VAR];
    const OUTBOUND: &'static [&'static str] = &[Self::JWKS_CALL.as_str()];

    fn openapi_security() -> super::Security {
        use super::{Location, Scheme, SchemeKind, Security};
        let what = format!(
            "A Cloudflare Access JWT (RS256, audience from var `{}`, team from var `{}`)",
            C::AUD_VAR,
            C::TEAM_DOMAIN_VAR
        );
        Security::any_of([
            Scheme::new(
                format!("{}Header", C::NAME),
                SchemeKind::ApiKey { name: ACCESS_JWT_HEADER, location: Location::Header },
                format!("{what} in header `{ACCESS_JWT_HEADER}`, as Access sends it to the origin."),
            ),
            Scheme::new(
                format!("{}Cookie", C::NAME),
                SchemeKind::ApiKey { name: ACCESS_JWT_COOKIE, location: Location::Cookie },
                format!("{what} in cookie `{ACCESS_JWT_COOKIE}` (read when the header is absent)."),
            ),
        ])
    }

    async fn verify(cx: &VerifyCx<'_>) -> Result<AccessClaims, Deny> {
        // What this context's family remembers: the isolate's in dispatch, a private one for
        // a built context (which can therefore never feed keys or tokens to dispatch's).
        let state = cx.state::<AccessState>();
        let settings = Self::settings_kept(cx, &state)?;
        let token = Self::token(cx)?;
        let remember_secs = C::VERIFIED_TOKEN_SECS.min(MAX_VERIFIED_TOKEN_SECS);
        let remembering = C::VERIFIED_TOKENS > 0 && remember_secs > 0;
        if remembering {
            if let Some(hit) = state.remembered(&settings, &token, cx.now(), remember_secs) {
                // What the full path would decide, from the steps whose inputs may have
                // changed since: the key set (fetched or refetched exactly as below) must still
                // map the token's kid to the very key its signature verified with, and the
                // clock is checked again. Anything else about the token is as it was.
                let jwks = Self::jwks_for(cx, &state, settings.certs_url(), &hit.kid).await?;
                if jwks.get(&hit.kid) == Some(&hit.key) {
                    settings.check_times(hit.times, cx.now())?;
                    return Ok(hit.claims.clone());
                }
                // The kid now names another key: verify again from the start.
                state.forget(&token);
            }
        }
        let header = check_token_header(&token, Some(&state))?;
        let Some(kid) = header.kid else {
            return Err(Deny::invalid("token header has no kid"));
        };
        let jwks = Self::jwks_for(cx, &state, settings.certs_url(), &kid).await?;
        let key = jwks.get(&kid).ok_or_else(|| Deny::invalid("token kid is not in the JWKS"))?;
        // In Workers the runtime's WebCrypto checks the signature (pure-Rust RSA in wasm is
        // slow); natively (tests, benches, fuzzers) jwt-compact does. Same steps and denials.
        // The header was checked above: not again.
        #[cfg(target_arch = "wasm32")]
        let (claims, times) = settings.verify_webcrypto(&token, key, &state.crypto_keys, cx.now()).await?;
        #[cfg(not(target_arch = "wasm32"))]
        let (claims, times) = settings.verify_with_key(&token, key, cx.now())?;
        if let Some(tag) = remembering.then(|| state.tag_of(&token)).flatten() {
            let at = cx.now();
            let verified = Verified { tag, token, settings, kid, key: key.clone(), times, claims: claims.clone(), at };
            state.remember(C::VERIFIED_TOKENS, verified);
        }
        Ok(claims)
    }
}
