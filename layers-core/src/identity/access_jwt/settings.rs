//! What an Access token is checked against ([`AccessSettings`]: issuer, audiences, where the
//! keys live, leeway) and the verification that needs no I/O and reads no clock: the strict
//! header, the key of the token's `kid`, the RS256 signature and the payload, then the claims
//! against the time given.

use jwt_compact::alg::RsaPublicKey;
use serde_json::{Map, Value};

use super::header::check_token_header;
#[cfg(target_arch = "wasm32")]
use super::signature::verify_signature_and_payload_by;
#[cfg(feature = "fuzzing")]
use super::signature::{read_unverified, verified_payload};
use super::signature::{verify_signature_and_payload, VerifiedPayload};
use super::{AccessClaims, Jwks};
use crate::identity::Deny;

/// What a token is checked against: expected issuer and audiences, leeway, and where the
/// keys live. [`AccessJwt`](super::AccessJwt) builds one per request from vars; tests build one
/// by hand.
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
    pub fn new(team: &str, aud: &str, certs_url: Option<&str>, leeway_secs: u64) -> Result<Self, crate::ConfigError> {
        let host = normalize_team_domain(team)?;
        let audiences: Vec<String> = audience_tags(aud).map(str::to_owned).collect();
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
    pub(super) fn verify_with_key(
        &self,
        token: &str,
        key: &RsaPublicKey,
        now: u64,
    ) -> Result<(AccessClaims, Times), Deny> {
        let payload = verify_signature_and_payload(token, key)?;
        self.checked_claims(payload, now)
    }

    /// [`verify`](Self::verify) as [`AccessJwt`](super::AccessJwt) runs it in Workers: the same
    /// steps, order and denials, but the RS256 signature is checked by the runtime's WebCrypto
    /// (`crypto.subtle.verify`) instead of pure-Rust RSA compiled to wasm.
    /// The token's header has passed [`check_token_header`] and `key` is its `kid`'s key.
    #[cfg(target_arch = "wasm32")]
    pub(super) async fn verify_webcrypto(
        &self,
        token: &str,
        key: &RsaPublicKey,
        keys: &crate::identity::webcrypto::KeyCache,
        now: u64,
    ) -> Result<(AccessClaims, Times), Deny> {
        let payload = verify_signature_and_payload_by(token, async |signing_input, signature| {
            crate::identity::webcrypto::verify_rs256(key, keys, signing_input, signature).await
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
    pub(super) fn check_times(&self, times: Times, now: u64) -> Result<(), Deny> {
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

/// The AUD tags an AUD var lists, separated by commas or whitespace (empty entries skipped):
/// how [`AccessSettings::new`] and [`WorkerAccess`](crate::identity::WorkerAccess) read the var.
pub(crate) fn audience_tags(aud: &str) -> impl Iterator<Item = &str> {
    aud.split([',', ' ', '\t', '\n', '\r']).filter(|a| !a.is_empty())
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

/// A token's time claims (Unix seconds), as jwt-compact reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Times {
    pub(super) exp: Option<i64>,
    pub(super) nbf: Option<i64>,
    pub(super) iat: Option<i64>,
}

/// The strict header check, then the key of the token's `kid` in `jwks`.
fn key_for<'j>(token: &str, jwks: &'j Jwks) -> Result<&'j RsaPublicKey, Deny> {
    let header = check_token_header(token, None)?;
    let Some(kid) = header.kid else {
        return Err(Deny::invalid("token header has no kid"));
    };
    jwks.get(&kid).ok_or_else(|| Deny::invalid("token kid is not in the JWKS"))
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
