//! Cloudflare Access: the `Cf-Access-Jwt-Assertion` JWT (RS256), checked against the team's JWKS.

use std::fmt;
use std::marker::PhantomData;
use std::rc::Rc;

use jwt_compact::alg::{Rsa, RsaPublicKey, StrongKey};
use jwt_compact::jwk::JsonWebKey;
use jwt_compact::Empty;
use serde_json::{Map, Value};

use super::access_state::{AccessState, Verified};
use super::jwt_parse::{b64url_decode, parse_payload, strict_json_object};
use super::{Deny, Verifier, VerifyCx};
use crate::outbound::OutboundRequest;

/// The header Cloudflare Access puts the token in.
pub const ACCESS_JWT_HEADER: &str = "Cf-Access-Jwt-Assertion";
/// The cookie browsers carry the same token in (used only when the header is absent).
pub const ACCESS_JWT_COOKIE: &str = "CF_Authorization";
/// How often a request waiting on another's JWKS fetch looks whether it ended, in ms.
const JWKS_WAIT_STEP_MS: u32 = 20;

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
/// Why that is equivalent to verifying again: a full verification is a function of (the
/// token's bytes, the settings, the key its `kid` maps to now, the clock). The remembered entry
/// is keyed by the exact bytes and the settings; the key lookup is redone and must give the same
/// key; the clock checks are redone. What is skipped — the strict header and payload parse, the
/// RS256 check, `iss`/`aud` and the identity claims — depends on nothing else, so it cannot
/// answer differently. Still, a verified identity is not kept long (seed gotcha ④): an entry
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
/// The pure parts run natively: [`AccessSettings::verify`] (token + [`Jwks`] + time) and
/// [`verify_rs256`] (signature only).
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

/// What a token is checked against: expected issuer and audiences, leeway, and where the
/// keys live. [`AccessJwt`] builds one per request from vars; tests build one by hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessSettings {
    issuer: String,
    audiences: Vec<String>,
    certs_url: String,
    leeway_secs: u64,
}

impl AccessSettings {
    /// Settings for team domain `team` (`myteam.cloudflareaccess.com`, with or without
    /// `https://`, without trailing slash or with one), application AUD tag(s) `aud`
    /// (comma/whitespace separated), optional JWKS URL override, and leeway.
    ///
    /// # Errors
    /// A description when a value is unusable (empty, not a host name, a non-https JWKS URL
    /// off loopback).
    pub fn new(team: &str, aud: &str, certs_url: Option<&str>, leeway_secs: u64) -> Result<Self, String> {
        let host = normalize_team_domain(team)?;
        let audiences: Vec<String> =
            aud.split([',', ' ', '\t', '\n', '\r']).filter(|a| !a.is_empty()).map(str::to_owned).collect();
        if audiences.is_empty() {
            return Err("the AUD var is empty".into());
        }
        let certs_url = match certs_url.map(str::trim).filter(|u| !u.is_empty()) {
            Some(u) => {
                check_certs_url(u)?;
                u.to_owned()
            }
            None => format!("https://{host}/cdn-cgi/access/certs"),
        };
        Ok(AccessSettings { issuer: format!("https://{host}"), audiences, certs_url, leeway_secs })
    }

    /// The `iss` a token must carry: `https://<team domain>`.
    #[must_use]
    pub fn issuer(&self) -> &str {
        &self.issuer
    }
    /// The accepted AUD tags.
    #[must_use]
    pub fn audiences(&self) -> &[String] {
        &self.audiences
    }
    /// Where the JWKS is fetched from.
    #[must_use]
    pub fn certs_url(&self) -> &str {
        &self.certs_url
    }
    /// Clock skew tolerated, in seconds.
    #[must_use]
    pub fn leeway_secs(&self) -> u64 {
        self.leeway_secs
    }

    /// Verifies `token` with the keys of `jwks` at time `now` (Unix seconds): header, `kid`
    /// lookup, RS256 signature, then the claims. No I/O, no clock.
    ///
    /// # Errors
    /// The [`Deny`] for the client (403 for anything wrong with the token, including an
    /// unknown `kid`).
    pub fn verify(&self, token: &str, jwks: &Jwks, now: u64) -> Result<AccessClaims, Deny> {
        self.verify_timed(token, jwks, now).map(|(claims, _)| claims)
    }

    /// [`verify`](Self::verify), also returning the token's time claims.
    fn verify_timed(&self, token: &str, jwks: &Jwks, now: u64) -> Result<(AccessClaims, Times), Deny> {
        self.verify_with_key(token, key_for(token, jwks)?, now)
    }

    /// The steps after the strict header check, with the key of the token's `kid`.
    #[cfg_attr(target_arch = "wasm32", allow(dead_code))]
    fn verify_with_key(&self, token: &str, key: &RsaPublicKey, now: u64) -> Result<(AccessClaims, Times), Deny> {
        let payload = verify_signature_and_payload(token, key)?;
        self.checked_claims(payload, now)
    }

    /// [`verify`](Self::verify) as [`AccessJwt`] runs it in Workers: the same steps, order and
    /// denials, but the RS256 signature is checked by the runtime's WebCrypto
    /// (`crypto.subtle.verify`) instead of pure-Rust RSA compiled to wasm.
    /// The token's header has passed [`check_token_header`] and `key` is its `kid`'s key.
    #[cfg(target_arch = "wasm32")]
    async fn verify_webcrypto(
        &self,
        token: &str,
        key: &RsaPublicKey,
        keys: &super::webcrypto::KeyCache,
        now: u64,
    ) -> Result<(AccessClaims, Times), Deny> {
        let payload = verify_signature_and_payload_by(token, async |signing_input, signature| {
            super::webcrypto::verify_rs256(key, keys, signing_input, signature).await
        })
        .await?;
        self.checked_claims(payload, now)
    }

    /// [`verify`](Self::verify) with the JWKS given as its JSON document.
    ///
    /// # Errors
    /// 503 when the JWKS holds no usable key; otherwise as [`verify`](Self::verify).
    pub fn verify_with_jwks(&self, token: &str, jwks_json: &[u8], now: u64) -> Result<AccessClaims, Deny> {
        let jwks = Jwks::parse(jwks_json).map_err(|e| Deny::unavailable(format!("JWKS: {e}")))?;
        self.verify(token, &jwks, now)
    }

    /// Checks the claims of a token whose signature was verified: the time claims against
    /// `now` first, then the others. Returns the claims and the time claims.
    fn checked_claims(&self, payload: VerifiedPayload, now: u64) -> Result<(AccessClaims, Times), Deny> {
        let VerifiedPayload { claims, exp, nbf, iat } = payload;
        let times = Times { exp, nbf, iat };
        self.check_times(times, now)?;
        Ok((self.check_other_claims(claims)?, times))
    }

    /// The checks of the time claims against `now`, with leeway: `exp` required and not
    /// passed, `nbf` and `iat` (when present) not in the future.
    fn check_times(&self, times: Times, now: u64) -> Result<(), Deny> {
        let Times { exp, nbf, iat } = times;
        let now = i64::try_from(now).map_err(|_| Deny::unavailable("clock out of range"))?;
        let leeway = i64::try_from(self.leeway_secs).unwrap_or(i64::MAX);
        // Integer arithmetic, saturating: no timestamp in a token can overflow or panic here.
        let Some(exp) = exp else {
            return Err(Deny::invalid("token has no exp"));
        };
        if now > exp.saturating_add(leeway) {
            return Err(Deny::invalid(format!("token expired (beyond {leeway} s leeway)")));
        }
        if let Some(nbf) = nbf {
            if now < nbf.saturating_sub(leeway) {
                return Err(Deny::invalid(format!(
                    "token not valid yet: nbf in the future (beyond {leeway} s leeway)"
                )));
            }
        }
        if let Some(iat) = iat {
            if iat > now.saturating_add(leeway) {
                return Err(Deny::invalid(format!("token issued in the future: iat (beyond {leeway} s leeway)")));
            }
        }
        Ok(())
    }

    /// The checks of every claim but the time claims (which do not depend on the clock).
    fn check_other_claims(&self, mut claims: Map<String, Value>) -> Result<AccessClaims, Deny> {
        match claims.remove("iss") {
            Some(Value::String(iss)) if iss == self.issuer => {}
            Some(Value::String(_)) => {
                return Err(Deny::invalid(format!("token iss is not {}", self.issuer)));
            }
            Some(_) => return Err(Deny::invalid("token iss is not a string")),
            None => return Err(Deny::invalid("token has no iss")),
        }

        let aud_ok = match claims.remove("aud") {
            Some(Value::String(a)) => self.audiences.contains(&a),
            Some(Value::Array(items)) => {
                if items.is_empty() || !items.iter().all(Value::is_string) {
                    return Err(Deny::invalid("token aud array is empty or holds a non-string"));
                }
                items.iter().filter_map(Value::as_str).any(|a| self.audiences.iter().any(|want| want == a))
            }
            Some(_) => return Err(Deny::invalid("token aud is neither a string nor an array")),
            None => return Err(Deny::invalid("token has no aud")),
        };
        if !aud_ok {
            return Err(Deny::invalid("token aud does not contain the configured AUD"));
        }

        let kind = opt_string(&mut claims, "type")?;
        let sub = opt_string(&mut claims, "sub")?;
        let email = opt_string(&mut claims, "email")?;
        let common_name = opt_string(&mut claims, "common_name")?;
        match (email, common_name) {
            (Some(email), _) => {
                if email.is_empty() {
                    return Err(Deny::invalid("token email is empty"));
                }
                let Some(sub) = sub.filter(|s| !s.is_empty()) else {
                    return Err(Deny::invalid("user token has no sub"));
                };
                let Some(kind) = kind else {
                    return Err(Deny::invalid("user token has no type"));
                };
                let identity_nonce = opt_string(&mut claims, "identity_nonce")?;
                let country = opt_string(&mut claims, "country")?;
                Ok(AccessClaims::User { email, sub, identity_nonce, country, kind, custom: claims })
            }
            (None, Some(common_name)) if !common_name.is_empty() => {
                Ok(AccessClaims::Service { common_name, sub: sub.unwrap_or_default() })
            }
            _ => Err(Deny::invalid("token has neither email nor common_name")),
        }
    }
}

fn opt_string(claims: &mut Map<String, Value>, name: &'static str) -> Result<Option<String>, Deny> {
    match claims.remove(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(Deny::invalid(format!("token claim {name} is not a string"))),
    }
}

/// `myteam.cloudflareaccess.com`, `https://myteam.cloudflareaccess.com/` → the host, lower-case.
fn normalize_team_domain(team: &str) -> Result<String, String> {
    let t = team.trim();
    let t = match t.get(..8) {
        Some(p) if p.eq_ignore_ascii_case("https://") => &t[8..],
        _ => t,
    };
    let t = t.strip_suffix('/').unwrap_or(t);
    let ok = !t.is_empty()
        && t.len() <= 253
        && t.contains('.')
        && !t.starts_with(['.', '-'])
        && !t.ends_with('.')
        && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    if ok {
        Ok(t.to_ascii_lowercase())
    } else {
        Err("the team domain var is not a host name like myteam.cloudflareaccess.com".into())
    }
}

fn check_certs_url(u: &str) -> Result<(), String> {
    crate::outbound::check_https_or_loopback(u, "the JWKS URL override")
}

// ---- the JOSE header, parsed before anything else ------------------------------------------------

/// What the header check found.
struct CheckedHeader {
    kid: Option<String>,
}

/// Parses the token's header strictly: three segments, base64url without padding, a JSON
/// object without duplicate names, `alg` exactly `RS256`, `kid` (if any) a short printable
/// string, no `crit` or `cty`. The payload and signature are not looked at. With `memo`, a
/// header segment that passed before is not parsed again (and one that passes now is kept).
fn check_token_header(token: &str, memo: Option<&AccessState>) -> Result<CheckedHeader, Deny> {
    if token.len() > MAX_ACCESS_JWT_LEN {
        return Err(Deny::invalid(format!("token longer than {MAX_ACCESS_JWT_LEN} bytes")));
    }
    let mut parts = token.split('.');
    let (Some(h), Some(_), Some(_), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(Deny::invalid("token is not three dot-separated segments"));
    };
    if let Some(kid) = memo.and_then(|m| m.checked_header(h)) {
        return Ok(CheckedHeader { kid });
    }
    let checked = check_header_segment(h)?;
    if let Some(m) = memo {
        m.header_passed(h, checked.kid.clone());
    }
    Ok(checked)
}

/// The header segment's checks: base64url without padding, a JSON object without duplicate
/// names, `alg` exactly `RS256`, `kid` (if any) a short printable string, no `crit` or `cty`.
fn check_header_segment(h: &str) -> Result<CheckedHeader, Deny> {
    let raw = b64url_decode(h).ok_or_else(|| Deny::invalid("token header is not base64url"))?;
    let mut header = strict_json_object(&raw).map_err(|e| Deny::invalid(format!("token header: {e}")))?;
    match header.remove("alg") {
        Some(Value::String(a)) if a == "RS256" => {}
        Some(Value::String(_)) => return Err(Deny::invalid("token alg is not RS256 (the only algorithm accepted)")),
        Some(_) => return Err(Deny::invalid("token alg is not a string")),
        None => return Err(Deny::invalid("token header has no alg")),
    }
    if header.contains_key("crit") {
        return Err(Deny::invalid("token header has crit (no extensions are understood)"));
    }
    if header.contains_key("cty") {
        return Err(Deny::invalid("token header has cty (nested or non-JSON tokens are refused)"));
    }
    let kid = match header.remove("kid") {
        None => None,
        Some(Value::String(k)) if valid_kid(&k) => Some(k),
        Some(Value::String(_)) => {
            return Err(Deny::invalid(format!("token kid is empty, over {MAX_KID_LEN} bytes, or not printable ASCII")))
        }
        Some(_) => return Err(Deny::invalid("token kid is not a string")),
    };
    // The registered names jwt-compact types (`jku`, `x5u`, `x5t`, `x5t#S256`, `typ`) must read
    // as it reads them: what its token parse refused stays refused, now that the payload and
    // signature are read without it (see `jwt_parse`).
    if serde_json::from_slice::<jwt_compact::Header<Empty>>(&raw).is_err() {
        return Err(Deny::invalid(NOT_JWS));
    }
    Ok(CheckedHeader { kid })
}

/// The denial for a token that is not three base64url segments jwt-compact could read.
const NOT_JWS: &str = "token is not a well-formed JWS";

fn valid_kid(k: &str) -> bool {
    !k.is_empty() && k.len() <= MAX_KID_LEN && k.bytes().all(|b| b.is_ascii_graphic())
}

/// A token's time claims (Unix seconds), as jwt-compact reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Times {
    exp: Option<i64>,
    nbf: Option<i64>,
    iat: Option<i64>,
}

/// A verified token's payload: the time claims and everything else.
struct VerifiedPayload {
    claims: Map<String, Value>,
    exp: Option<i64>,
    nbf: Option<i64>,
    iat: Option<i64>,
}

impl fmt::Debug for VerifiedPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedPayload").finish_non_exhaustive()
    }
}

/// Verifies the RS256 signature of a compact JWS with `key` and returns its payload claims as
/// a JSON object (strictly parsed: no duplicate names). The header is checked as
/// [`AccessJwt`] checks it (`alg` exactly `RS256`, no duplicates, no `crit`/`cty`), but a
/// `kid` is not required. Nothing else — not `exp`, not `aud` — is looked at.
///
/// # Errors
/// 403 for a malformed token, another algorithm, or a signature that does not verify.
pub fn verify_rs256(token: &str, key: &RsaPublicKey) -> Result<Map<String, Value>, Deny> {
    check_token_header(token, None)?;
    verify_signature_and_payload(token, key).map(|p| {
        let mut claims = p.claims;
        for (name, v) in [("exp", p.exp), ("nbf", p.nbf), ("iat", p.iat)] {
            if let Some(v) = v {
                claims.insert(name.to_owned(), Value::from(v));
            }
        }
        claims
    })
}

/// The strict header check, then the key of the token's `kid` in `jwks`.
fn key_for<'j>(token: &str, jwks: &'j Jwks) -> Result<&'j RsaPublicKey, Deny> {
    let header = check_token_header(token, None)?;
    let Some(kid) = header.kid else {
        return Err(Deny::invalid("token header has no kid"));
    };
    jwks.get(&kid).ok_or_else(|| Deny::invalid("token kid is not in the JWKS"))
}

/// A token whose header passed [`check_token_header`], read up to its signature check: what
/// is signed, the signature, and the payload (its claims readable).
struct Unverified<'t> {
    /// Everything before the last dot, exactly as received: what RS256 is computed over.
    signing_input: &'t str,
    signature: Vec<u8>,
    payload: super::jwt_parse::Payload,
}

/// Reads a token whose header passed [`check_token_header`], with the denials (and in the
/// order) of jwt-compact's `Validator::validate`: three base64url segments, else "not a
/// well-formed JWS"; claims jwt-compact can read (`exp`/`nbf`/`iat` numbers of seconds), else
/// "malformed claims". The header's `alg` was checked to be exactly `RS256` already. Each
/// segment is decoded once and the payload parsed once ([`super::jwt_parse`]).
fn read_unverified(token: &str) -> Result<Unverified<'_>, Deny> {
    let Some((signing_input, signature)) = token.rsplit_once('.') else {
        return Err(Deny::invalid(NOT_JWS));
    };
    let Some((_, payload)) = signing_input.split_once('.') else {
        return Err(Deny::invalid(NOT_JWS));
    };
    if payload.contains('.') {
        return Err(Deny::invalid(NOT_JWS));
    }
    let (Some(payload), Some(signature)) = (b64url_decode(payload), b64url_decode(signature)) else {
        return Err(Deny::invalid(NOT_JWS));
    };
    let payload = parse_payload(&payload).map_err(|()| rejected("malformed claims"))?;
    Ok(Unverified { signing_input, signature, payload })
}

/// The payload of a token whose signature verified: refused when some object in it repeats a
/// name (the claims are not what every reader would read), else its claims and time claims.
fn verified_payload(payload: super::jwt_parse::Payload) -> Result<VerifiedPayload, Deny> {
    let super::jwt_parse::Payload { claims, exp, nbf, iat, duplicate } = payload;
    if duplicate {
        return Err(Deny::invalid("token payload: duplicate name in JSON object"));
    }
    Ok(VerifiedPayload { claims, exp, nbf, iat })
}

/// Natively: the token read by [`read_unverified`], its RS256 signature checked by
/// jwt-compact, then [`verified_payload`]. The header has passed [`check_token_header`].
fn verify_signature_and_payload(token: &str, key: &RsaPublicKey) -> Result<VerifiedPayload, Deny> {
    use jwt_compact::{Algorithm as _, AlgorithmSignature as _};

    let unverified = read_unverified(token)?;
    let Ok(signature) = <Rsa as jwt_compact::Algorithm>::Signature::try_from_slice(&unverified.signature) else {
        return Err(rejected("malformed signature"));
    };
    if !Rsa::rs256().verify_signature(&signature, key, unverified.signing_input.as_bytes()) {
        return Err(rejected("signature does not verify"));
    }
    verified_payload(unverified.payload)
}

/// [`verify_signature_and_payload`] with the signature check supplied by the caller:
/// `signature_ok(signing_input, signature)`, where `signing_input` is exactly `header.payload`
/// as received and `signature` exactly the decoded third segment. Anything but `true` denies
/// with "signature does not verify". Workers pass WebCrypto; the unit tests pass jwt-compact's
/// own RS256 check and compare with its validator on hostile tokens. The header has passed
/// [`check_token_header`].
#[cfg(any(target_arch = "wasm32", test))]
async fn verify_signature_and_payload_by(
    token: &str,
    signature_ok: impl AsyncFnOnce(&[u8], &[u8]) -> bool,
) -> Result<VerifiedPayload, Deny> {
    let unverified = read_unverified(token)?;
    if !signature_ok(unverified.signing_input.as_bytes(), &unverified.signature).await {
        return Err(rejected("signature does not verify"));
    }
    verified_payload(unverified.payload)
}

/// The denial for a token jwt-compact's validation would refuse (403), with its reason.
fn rejected(reason: &'static str) -> Deny {
    Deny::invalid(format!("token rejected: {reason}"))
}

/// The fuzzers' entry point (feature `fuzzing`): everything [`AccessSettings::verify`] does
/// except the signature check — the strict header, the token's segments, the payload and the
/// claim checks — on a token whose signature is never looked at. Not for verification.
///
/// # Errors
/// The [`Deny`] the verifier would return past the signature.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub fn fuzz_check_unsigned(settings: &AccessSettings, token: &str, now: u64) -> Result<AccessClaims, Deny> {
    check_token_header(token, None)?;
    let payload = verified_payload(read_unverified(token)?.payload)?;
    settings.checked_claims(payload, now).map(|(claims, _)| claims)
}

// ---- JWKS ----------------------------------------------------------------------------------------

/// The usable keys of a JSON Web Key Set: RSA signing keys of at least 2048 bits, by `kid`.
#[derive(Clone)]
pub struct Jwks {
    keys: Vec<(String, RsaPublicKey)>,
}

impl fmt::Debug for Jwks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jwks").field("kids", &self.keys.iter().map(|(k, _)| k).collect::<Vec<_>>()).finish()
    }
}

impl Jwks {
    /// Parses `{"keys":[…]}`. Keeps keys with `kty` `RSA`, a `kid`, `use` absent or `sig`,
    /// `alg` absent or `RS256`, and a 2048/3072/4096-bit modulus; skips the rest (and any later
    /// key repeating a `kid`). Extra members such as Access's `public_cert` are ignored.
    ///
    /// # Errors
    /// A description when the document is not such an object or holds no usable key.
    pub fn parse(json: &[u8]) -> Result<Jwks, String> {
        if json.len() > MAX_JWKS_LEN {
            return Err(format!("document larger than {MAX_JWKS_LEN} bytes"));
        }
        let doc: Value = serde_json::from_slice(json).map_err(|_| "not JSON".to_owned())?;
        let Some(list) = doc.get("keys").and_then(Value::as_array) else {
            return Err("no keys array".into());
        };
        let mut keys: Vec<(String, RsaPublicKey)> = Vec::new();
        for jwk in list.iter().take(MAX_JWKS_KEYS) {
            let Some(kid) = jwk.get("kid").and_then(Value::as_str).filter(|k| valid_kid(k)) else {
                continue;
            };
            let field = |name: &str| jwk.get(name).map(Value::as_str);
            if field("kty") != Some(Some("RSA")) {
                continue;
            }
            if !matches!(field("use"), None | Some(Some("sig"))) || !matches!(field("alg"), None | Some(Some("RS256")))
            {
                continue;
            }
            if keys.iter().any(|(k, _)| k == kid) {
                continue;
            }
            // Public parts only: a published private exponent is not our business.
            let public = serde_json::json!({"kty": "RSA", "n": jwk.get("n"), "e": jwk.get("e")});
            let Ok(parsed) = serde_json::from_value::<JsonWebKey<'static>>(public) else {
                continue;
            };
            let Ok(key) = RsaPublicKey::try_from(&parsed) else {
                continue;
            };
            // 2048, 3072 or 4096 bits only.
            let Ok(key) = StrongKey::try_from(key) else {
                continue;
            };
            keys.push((kid.to_owned(), key.into_inner()));
        }
        if keys.is_empty() {
            return Err("no usable RS256 key (RSA, with kid, use sig, 2048+ bits)".into());
        }
        Ok(Jwks { keys })
    }

    /// The key with this `kid`.
    #[must_use]
    pub fn get(&self, kid: &str) -> Option<&RsaPublicKey> {
        self.keys.iter().find(|(k, _)| k == kid).map(|(_, key)| key)
    }
    /// The `kid`s held, in document order.
    pub fn kids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|(k, _)| k.as_str())
    }
    /// How many keys are held.
    #[must_use]
    pub fn len(&self) -> usize {
        self.keys.len()
    }
    /// Whether no key is held (never true for a parsed set).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

impl<C: AccessConfig> AccessJwt<C> {
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

    /// The settings from this request's vars.
    ///
    /// # Errors
    /// 503 when the team domain or AUD var is unset or unusable.
    pub fn settings(cx: &VerifyCx<'_>) -> Result<AccessSettings, Deny> {
        let team = cx
            .var(C::TEAM_DOMAIN_VAR)
            .ok_or_else(|| Deny::unavailable(format!("var {} is not set", C::TEAM_DOMAIN_VAR)))?;
        let aud = cx.var(C::AUD_VAR).ok_or_else(|| Deny::unavailable(format!("var {} is not set", C::AUD_VAR)))?;
        let certs = cx.var(C::CERTS_URL_VAR);
        AccessSettings::new(&team, &aud, certs.as_deref(), C::LEEWAY_SECS)
            .map_err(|e| Deny::unavailable(format!("Access configuration: {e}")))
    }

    /// The key set holding `kid`, from the cache or a (rate-limited) fetch.
    async fn jwks_for(cx: &VerifyCx<'_>, state: &AccessState, url: &str, kid: &str) -> Result<Rc<Jwks>, Deny> {
        let now = cx.now();
        let recent = |t: Option<u64>| t.is_some_and(|t| now.saturating_sub(t) < C::REFETCH_INTERVAL_SECS);
        let (fresh, attempted_recently, failed_recently) = {
            let c = state.jwks.borrow();
            match c.get(url) {
                None => (None, false, false),
                Some(e) => {
                    let fresh = e
                        .jwks
                        .as_ref()
                        .filter(|(_, at)| now.saturating_sub(*at) < C::CACHE_TTL_SECS)
                        .map(|(j, _)| Rc::clone(j));
                    (fresh, recent(e.last_attempt), recent(e.last_failure))
                }
            }
        };
        if let Some(j) = fresh.as_ref().filter(|j| j.get(kid).is_some()) {
            return Ok(Rc::clone(j));
        }
        // Another request is fetching this key set right now: wait for it to end rather than
        // fetching again (a cold or expired cache under load makes one fetch, not one each).
        // The wait is this request's own timer (the runtime cancels a request that only waits
        // on another request's I/O), checking every `JWKS_WAIT_STEP_MS`.
        if state.inflight.borrow().contains(url) {
            let mut waited = 0;
            while state.inflight.borrow().contains(url) {
                if waited >= crate::outbound::DEFAULT_TIMEOUT_MS + JWKS_WAIT_STEP_MS {
                    return Err(Deny::unavailable(format!("the fetch of {url} another request started did not end")));
                }
                cx.pause(JWKS_WAIT_STEP_MS).await;
                waited += JWKS_WAIT_STEP_MS;
            }
            let fetched = state
                .last_fetch
                .borrow()
                .get(url)
                .cloned()
                .unwrap_or_else(|| Err("the fetch this request waited on left no answer".to_owned()));
            return Self::decide(fetched, fresh.is_some(), kid);
        }
        match &fresh {
            // Unknown kid while the refetch that could have found it failed: nobody can decide
            // yet, so 503 rather than a 403 that might be wrong.
            Some(_) if attempted_recently && failed_recently => {
                return Err(Deny::unavailable(format!(
                    "token kid is not in the cached JWKS and the refetch of {url} failed less than {} s ago",
                    C::REFETCH_INTERVAL_SECS
                )))
            }
            // Good keys, unknown kid: at most one refetch per interval.
            Some(_) if attempted_recently => {
                return Err(Deny::invalid(format!(
                    "token kid is not in the JWKS (fetched less than {} s ago)",
                    C::REFETCH_INTERVAL_SECS
                )))
            }
            // No usable keys: fetch, unless the last fetch failed within the interval.
            None if failed_recently => {
                return Err(Deny::unavailable(format!(
                    "no usable JWKS: the last fetch of {url} failed less than {} s ago",
                    C::REFETCH_INTERVAL_SECS
                )))
            }
            _ => {}
        }
        // This request fetches; others that need the set meanwhile wait on it (above). The
        // guard ends the fetch's turn even if this future is dropped half way.
        let guard = InFlight::start(state, url);
        state.jwks.borrow_mut().entry(url.to_owned()).or_default().last_attempt = Some(now);
        let fetched = fetch_jwks(cx, url).await;
        {
            let mut c = state.jwks.borrow_mut();
            let e = c.entry(url.to_owned()).or_default();
            match &fetched {
                Ok(jwks) => {
                    e.jwks = Some((Rc::clone(jwks), now));
                    e.last_failure = None;
                }
                // Keys still within their TTL stay cached: a failed refetch replaces nothing.
                Err(_) => e.last_failure = Some(now),
            }
        }
        guard.finish(fetched.clone());
        Self::decide(fetched, fresh.is_some(), kid)
    }

    /// The answer for a token whose `kid` a fetch of its key set was needed for.
    fn decide(fetched: Result<Rc<Jwks>, String>, had_keys: bool, kid: &str) -> Result<Rc<Jwks>, Deny> {
        match fetched {
            Ok(jwks) if jwks.get(kid).is_some() => Ok(jwks),
            Ok(_) => Err(Deny::invalid("token kid is not in the freshly fetched JWKS")),
            Err(e) => Err(Deny::unavailable(if had_keys {
                format!("token kid unknown and refetching the JWKS failed: {e}")
            } else {
                format!("no usable JWKS: {e}")
            })),
        }
    }
}

/// A JWKS fetch's turn: while it lives, other requests for the same URL wait (see
/// `AccessJwt::jwks_for`); it ends with the fetch's answer, or with "abandoned" when dropped
/// without one.
struct InFlight<'s> {
    state: &'s AccessState,
    url: String,
    done: bool,
}

impl<'s> InFlight<'s> {
    fn start(state: &'s AccessState, url: &str) -> Self {
        state.inflight.borrow_mut().insert(url.to_owned());
        InFlight { state, url: url.to_owned(), done: false }
    }

    fn finish(mut self, fetched: super::access_state::Fetched) {
        self.state.last_fetch.borrow_mut().insert(self.url.clone(), fetched);
        self.done = true;
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.state.last_fetch.borrow_mut().insert(self.url.clone(), Err("the fetch was abandoned".to_owned()));
        }
        self.state.inflight.borrow_mut().remove(&self.url);
    }
}

async fn fetch_jwks(cx: &VerifyCx<'_>, url: &str) -> Result<Rc<Jwks>, String> {
    let mut req = OutboundRequest::get(url);
    req.headers.push(("accept".into(), "application/json".into()));
    // A config URL: never follow a redirect (its target was never checked), never read more
    // than a key set can be.
    req.redirect = crate::outbound::RedirectMode::Manual;
    req.max_body = Some(MAX_JWKS_LEN);
    let resp = cx.fetch(req).await.map_err(|e| format!("fetching {url}: {e}"))?;
    if resp.status != 200 {
        return Err(format!("{url} answered {}", resp.status));
    }
    Jwks::parse(&resp.body).map(Rc::new).map_err(|e| format!("{url}: {e}"))
}

impl<C: AccessConfig> Verifier for AccessJwt<C> {
    type Claims = AccessClaims;
    const NAME: &'static str = C::NAME;

    async fn verify(cx: &VerifyCx<'_>) -> Result<AccessClaims, Deny> {
        let settings = Self::settings(cx)?;
        let token = Self::token(cx)?;
        // What this context's family remembers: the isolate's in dispatch, a private one for
        // a built context (which can therefore never feed keys or tokens to dispatch's).
        let state = cx.state::<AccessState>();
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

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use base64::Engine as _;
    use futures::executor::block_on;
    use jwt_compact::alg::{Hs256, Hs256Key, RsaPrivateKey};
    use jwt_compact::{Algorithm, AlgorithmSignature as _};
    use rsa::pkcs8::DecodePrivateKey as _;
    use rsa::traits::PublicKeyParts as _;
    use serde_json::json;

    use super::super::access_state::{is_token, MAX_CHECKED_HEADERS};
    use super::*;

    const KEY_A: &str = include_str!("../../../tests/fixtures/access/key-a.pem");
    const KEY_B: &str = include_str!("../../../tests/fixtures/access/key-b.pem");

    fn private(pem: &str) -> RsaPrivateKey {
        let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        RsaPrivateKey::from_pkcs8_der(&STANDARD.decode(b64).unwrap()).unwrap()
    }

    fn b64(bytes: impl AsRef<[u8]>) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// `header.payload` as given, signed with `alg`.
    fn sign<A: Algorithm>(alg: &A, key: &A::SigningKey, header: &str, payload: &str) -> String {
        let msg = format!("{}.{}", b64(header), b64(payload));
        let sig = alg.sign(key, msg.as_bytes());
        format!("{msg}.{}", b64(sig.as_bytes()))
    }

    /// The split path with jwt-compact's own RS256 check as the signature check.
    fn by_jwt_compact(token: &str, key: &RsaPublicKey) -> Result<VerifiedPayload, Deny> {
        block_on(verify_signature_and_payload_by(token, async |input: &[u8], sig: &[u8]| {
            let sig = <Rsa as Algorithm>::Signature::try_from_slice(sig).unwrap();
            Rsa::rs256().verify_signature(&sig, key, input)
        }))
    }

    /// The reference the verifier's own reading is compared with: what it ran before it read
    /// tokens itself — jwt-compact's `UntrustedToken` and `Validator` (RS256 with `key`), then
    /// the payload decoded again and parsed strictly.
    fn by_validator(token: &str, key: &RsaPublicKey) -> Result<VerifiedPayload, Deny> {
        use base64ct::{Base64UrlUnpadded, Encoding as _};
        use jwt_compact::{AlgorithmExt as _, UntrustedToken, ValidationError as E};

        let reason = |e: &E| match e {
            E::AlgorithmMismatch { .. } => "algorithm mismatch",
            E::InvalidSignatureLen { .. } | E::MalformedSignature(_) => "malformed signature",
            E::InvalidSignature => "signature does not verify",
            E::MalformedClaims(_) => "malformed claims",
            _ => "invalid token",
        };
        let untrusted = UntrustedToken::new(token).map_err(|_| Deny::invalid(NOT_JWS))?;
        let verified = Rsa::rs256().validator::<Empty>(key).validate(&untrusted).map_err(|e| rejected(reason(&e)))?;
        let times = verified.claims();
        let raw = Base64UrlUnpadded::decode_vec(token.split('.').nth(1).unwrap_or_default())
            .map_err(|_| Deny::invalid("token payload is not base64url"))?;
        let mut claims = strict_json_object(&raw).map_err(|e| Deny::invalid(format!("token payload: {e}")))?;
        for name in ["exp", "nbf", "iat"] {
            claims.remove(name);
        }
        Ok(VerifiedPayload {
            claims,
            exp: times.expiration.map(|t| t.timestamp()),
            nbf: times.not_before.map(|t| t.timestamp()),
            iat: times.issued_at.map(|t| t.timestamp()),
        })
    }

    type Outcome = Result<(Map<String, Value>, Option<i64>, Option<i64>, Option<i64>), Deny>;

    fn outcome(r: Result<VerifiedPayload, Deny>) -> Outcome {
        r.map(|p| (p.claims, p.exp, p.nbf, p.iat))
    }

    /// Valid, forged, tampered, truncated and hostile tokens, all claiming key A.
    fn corpus() -> Vec<String> {
        let (a, b) = (private(KEY_A), private(KEY_B));
        let rs = Rsa::rs256();
        let header = r#"{"alg":"RS256","kid":"a","typ":"JWT"}"#;
        let payload = json!({"iss": "https://t.example.com", "aud": "x", "email": "a@example.com",
                             "sub": "1", "type": "app", "exp": 1_800_000_060, "nbf": 1, "iat": 2})
        .to_string();
        let good = sign(&rs, &a, header, &payload);
        let (signed, sig) = good.rsplit_once('.').unwrap();
        let (h, p) = signed.split_once('.').unwrap();
        let raw = URL_SAFE_NO_PAD.decode(sig).unwrap();
        let mut out = vec![good.clone(), sign(&rs, &b, header, &payload)];
        for i in (0..raw.len()).step_by(17).chain([raw.len() - 1]) {
            let mut v = raw.clone();
            v[i] ^= 0x01;
            out.push(format!("{signed}.{}", b64(&v)));
        }
        for v in
            [&raw[..255], &[raw.as_slice(), &[0]].concat()[..], &[][..], &raw[1..], &[0; 256][..], &[0xff; 256][..]]
        {
            out.push(format!("{signed}.{}", b64(v)));
        }
        // The modulus itself and n + 1: not below n, refused by any correct RSA.
        let n = private(KEY_A).to_public_key().n().to_bytes_be();
        out.push(format!("{signed}.{}", b64(&n)));
        let tampered = payload.replace("a@example.com", "eve@example.com");
        out.push(format!("{h}.{}.{sig}", b64(&tampered)));
        out.push(format!("{h}.{p}.{sig}="));
        out.push(format!("{h}.{p}.{}", sig.replace('-', "+").replace('_', "/")));
        out.push(format!("{h}.{p}"));
        out.push(format!("{h}.{p}.{sig}.{sig}"));
        for n in (1..good.len()).step_by(61) {
            out.push(good[..n].to_owned());
        }
        // Other algorithms: none, HS256 keyed with A's public key, RS384, PS256.
        out.push(format!("{}.{p}.", b64(r#"{"alg":"none","kid":"a"}"#)));
        let pub_der = rsa::pkcs8::EncodePublicKey::to_public_key_der(&a.to_public_key()).unwrap();
        let hs = Hs256Key::new(pub_der.as_bytes());
        out.push(sign(&Hs256, &hs, r#"{"alg":"HS256","kid":"a"}"#, &payload));
        out.push(sign(&Rsa::rs384(), &a, r#"{"alg":"RS384","kid":"a"}"#, &payload));
        out.push(sign(&Rsa::ps256(), &a, r#"{"alg":"PS256","kid":"a"}"#, &payload));
        // Signed, but the claims are not what the validator parses.
        for bad in [
            "not json",
            "[]",
            r#"{"exp":"soon"}"#,
            r#"{"a":1,"a":2}"#,
            "{}",
            r#"{"exp":1e400}"#,
            r#"{"exp":null}"#,
            r#"{"exp":1.5,"nbf":-2.5}"#,
            r#"{"exp":9223372036854775808}"#,
            r#"{"exp":8210266876800}"#,
            r#"{"exp":1,"exp":1}"#,
            r#"{"a":{"b":1,"b":1}}"#,
            r#"{"a":{"b":1,"b":1},"exp":"x"}"#,
            r#"{"a":1} x"#,
        ] {
            out.push(sign(&rs, &a, header, bad));
        }
        // Headers that pass the strict check but not jwt-compact's reading of the names it types.
        for h in [
            r#"{"alg":"RS256","kid":"a","typ":5}"#,
            r#"{"alg":"RS256","kid":"a","jku":["x"]}"#,
            r#"{"alg":"RS256","kid":"a","x5t":"AAAA"}"#,
            r#"{"alg":"RS256","kid":"a","x5t#S256":7}"#,
            r#"{"alg":"RS256","kid":"a","x5u":{}}"#,
        ] {
            out.push(sign(&rs, &a, h, &payload));
        }
        // Accepted by both: null for an optional name, a thumbprint of the right length.
        out.push(sign(&rs, &a, r#"{"alg":"RS256","kid":"a","typ":null}"#, &payload));
        out.push(sign(&rs, &a, &format!(r#"{{"alg":"RS256","kid":"a","x5t":"{}"}}"#, b64([7u8; 20])), &payload));
        out
    }

    #[test]
    fn checked_headers_are_remembered_only_when_they_pass() {
        let seg = |h: &str| b64(h);
        let good = seg(r#"{"alg":"RS256","kid":"k1"}"#);
        let hostile = [
            seg(r#"{"alg":"HS256","kid":"k1"}"#),
            seg(r#"{"alg":"RS256","alg":"RS256","kid":"k1"}"#),
            seg(r#"{"alg":"RS256","kid":"k1","crit":["b64"]}"#),
            // The good segment with one character changed (no longer base64url).
            format!("{}*", &good[..good.len() - 1]),
        ];
        let state = AccessState::default();
        let memo = Some(&state);
        for round in 0..2 {
            let kid = check_token_header(&format!("{good}.e30.c2ln"), memo).unwrap().kid;
            assert_eq!(kid.as_deref(), Some("k1"), "round {round}");
            for h in &hostile {
                assert!(check_token_header(&format!("{h}.e30.c2ln"), memo).is_err(), "round {round}: {h}");
            }
            // A remembered header does not excuse the token's shape or length.
            assert!(check_token_header(&format!("{good}.e30"), memo).is_err());
            assert!(check_token_header(&format!("{good}.e30.c2ln.x"), memo).is_err());
            let long = format!("{good}.{}.c2ln", "A".repeat(MAX_ACCESS_JWT_LEN));
            assert!(check_token_header(&long, memo).is_err());
        }
        let c = state.checked_headers();
        assert!(c.iter().any(|(s, k)| *s == good && k.as_deref() == Some("k1")));
        assert!(c.iter().all(|(s, _)| !hostile.contains(s)), "a failed header is never remembered");
        // Bounded: old entries make way.
        for i in 0..3 * MAX_CHECKED_HEADERS {
            let h = seg(&format!(r#"{{"alg":"RS256","kid":"k{i}"}}"#));
            let kid = check_token_header(&format!("{h}.e30.c2ln"), memo).unwrap().kid;
            assert_eq!(kid, Some(format!("k{i}")));
        }
        assert_eq!(state.checked_headers().len(), MAX_CHECKED_HEADERS);
        assert_eq!(check_token_header(&format!("{good}.e30.c2ln"), memo).unwrap().kid.as_deref(), Some("k1"));
        // Without a memo nothing is kept anywhere.
        assert!(check_token_header(&format!("{good}.e30.c2ln"), None).is_ok());
    }

    #[test]
    fn remembered_tokens_are_found_by_keyed_tag_and_whole_string() {
        let (a, b) = ("aaaa.bbbb.cccc", "aaaa.bbbb.cccd");
        let state = AccessState::default();
        let (ta, tb) = (state.tag_of(a).unwrap(), state.tag_of(b).unwrap());
        assert_eq!(ta, state.tag_of(a).unwrap(), "one key per state");
        assert_ne!(ta, tb);
        let settings = AccessSettings::new("t.cloudflareaccess.com", "aud", None, 60).unwrap();
        let key = private(KEY_A).to_public_key();
        let claims = AccessClaims::Service { common_name: "c".into(), sub: String::new() };
        let times = Times { exp: Some(1), nbf: None, iat: None };
        let e = Verified { tag: ta, token: a.into(), settings, kid: "k".into(), key, times, claims, at: 0 };
        assert!(is_token(&e, ta, a));
        // A token with the same tag (a collision) but other bytes, or another length, is not it.
        assert!(!is_token(&e, ta, b));
        assert!(!is_token(&e, ta, "aaaa.bbbb.ccc"));
        assert!(!is_token(&e, tb, a));
    }

    #[test]
    fn split_signature_path_matches_the_validator() {
        let key = private(KEY_A).to_public_key();
        let tokens = corpus();
        let mut verified = 0;
        let mut bad_signature = 0;
        for t in &tokens {
            // The verifier checks the header first, then reads the rest.
            let header = check_token_header(t, None).map(|_| ());
            let want = outcome(header.clone().and_then(|()| by_validator(t, &key)));
            assert_eq!(outcome(header.clone().and_then(|()| verify_signature_and_payload(t, &key))), want, "{t}");
            assert_eq!(outcome(header.and_then(|()| by_jwt_compact(t, &key))), want, "{t}");
            match want {
                Ok(_) => verified += 1,
                Err(d) if d.detail().contains("signature does not verify") => bad_signature += 1,
                Err(_) => {}
            }
        }
        // The valid token and the signed-but-odd payloads ("{}", duplicates) verify.
        assert!(verified >= 2, "{verified}");
        assert!(bad_signature >= 20, "{bad_signature}");
        assert!(tokens.len() > 40, "{}", tokens.len());
    }

    #[test]
    fn split_signature_path_passes_exact_bytes_and_fails_closed() {
        let key = private(KEY_A).to_public_key();
        let tokens = corpus();
        let good = &tokens[0];
        let (signed, sig) = good.rsplit_once('.').unwrap();
        let seen: RefCell<Vec<(Vec<u8>, Vec<u8>)>> = RefCell::new(Vec::new());
        let record = async |input: &[u8], sig: &[u8]| {
            seen.borrow_mut().push((input.to_vec(), sig.to_vec()));
            false
        };
        let d = block_on(verify_signature_and_payload_by(good, record)).unwrap_err();
        assert_eq!(d.kind(), super::super::DenyKind::Invalid);
        assert_eq!(d.detail(), "token rejected: signature does not verify");
        assert_eq!(*seen.borrow(), [(signed.as_bytes().to_vec(), URL_SAFE_NO_PAD.decode(sig).unwrap())]);
        assert_eq!(URL_SAFE_NO_PAD.decode(sig).unwrap().len(), key.size());

        // Refused before the signature is looked at, as the validator does: not a JWS, claims
        // jwt-compact cannot read (another alg never gets past the header check). A check that
        // always says yes is never asked.
        let mut early = 0;
        for t in &tokens {
            if check_token_header(t, None).is_err() {
                continue;
            }
            let Err(d) = verify_signature_and_payload(t, &key) else { continue };
            let before_signature = ["not a well-formed JWS", "malformed claims"];
            if !before_signature.iter().any(|r| d.detail().contains(r)) {
                continue;
            }
            early += 1;
            let called = RefCell::new(false);
            let r = block_on(verify_signature_and_payload_by(t, async |_: &[u8], _: &[u8]| {
                *called.borrow_mut() = true;
                true
            }));
            assert_eq!(r.unwrap_err(), d, "{t}");
            assert!(!*called.borrow(), "{t}");
        }
        assert!(early >= 10, "{early}");
    }
}
