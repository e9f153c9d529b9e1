//! Real credentials for the Worker's real verifiers. Nothing here makes a `Claims`: the harness
//! writes secrets into the Worker's environment and signs tokens with keys the Worker trusts, and
//! the Worker's own verifiers decide, exactly as in production.
//!
//! * Access: an RSA key (2048 bits) made for the run; its public half is the JWKS the loopback
//!   stub serves at the Worker's `ACCESS_CERTS_URL`. [`AccessToken`] says what to sign.
//! * API keys: a random key under label `test` in the `API_KEYS` secret (and in the secret of
//!   every other [`ApiKeyConfig`] registered with the builder).
//! * Signed tokens: a random `SIGNING_KEY` (and other [`TokenConfig`] secrets), minted with
//!   layers' own [`mint`](layers_core::identity::mint).
//! * Webhooks: a random `whsec_…` `WEBHOOK_SECRET`, deliveries signed with
//!   [`sign_webhook`](layers_core::identity::sign_webhook).
//! * Turnstile: a random `TURNSTILE_SECRET`; siteverify is the loopback stub, which accepts the
//!   pass tokens the harness hands out, once each.

use std::time::Duration;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use jwt_compact::alg::{Rsa, RsaPrivateKey};
use jwt_compact::{AlgorithmExt as _, Claims as JwtClaims, Header};
use rsa::traits::PublicKeyParts as _;
use serde_json::{Map, Value};

use crate::Error;

/// The Access team domain the harness's tokens are issued for (`iss` is `https://` + this).
pub const TEAM_DOMAIN: &str = "layers-test.cloudflareaccess.com";
/// The label of the harness's API key in every keys secret.
pub const API_KEY_LABEL: &str = "test";

/// `n` random bytes from the OS, hex-encoded.
pub(crate) fn random_hex(n: usize) -> String {
    let mut buf = vec![0u8; n];
    getrandom::getrandom(&mut buf).expect("the OS random number generator failed");
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// The harness's Access signing key and the JWKS publishing its public half.
pub(crate) struct AccessKey {
    key: RsaPrivateKey,
    pub(crate) kid: String,
    pub(crate) jwks: String,
}

impl AccessKey {
    /// A fresh 2048-bit key (about a second with the workspace's optimized bignum).
    pub(crate) fn generate() -> Result<AccessKey, Error> {
        let mut rng = rsa::rand_core::OsRng;
        let key = RsaPrivateKey::new(&mut rng, 2048).map_err(|e| Error::new(format!("RSA key generation: {e}")))?;
        let kid = random_hex(32);
        let public = key.to_public_key();
        let n = URL_SAFE_NO_PAD.encode(public.n().to_bytes_be());
        let e = URL_SAFE_NO_PAD.encode(public.e().to_bytes_be());
        let jwks = serde_json::json!({
            "keys": [{ "kid": kid, "kty": "RSA", "alg": "RS256", "use": "sig", "e": e, "n": n }],
            "public_cert": { "kid": kid, "cert": "" },
        })
        .to_string();
        Ok(AccessKey { key, kid, jwks })
    }

    pub(crate) fn sign(&self, claims: &Value) -> String {
        Rsa::rs256()
            .token(&Header::empty().with_key_id(&self.kid), &JwtClaims::new(claims.clone()), &self.key)
            .expect("RS256 signing with the harness key")
    }
}

/// What goes into an Access JWT the harness signs: a user (by email) or a service token, its
/// groups, other claims, and its lifetime. Signed with the key the Worker's JWKS holds, for the
/// team and AUD the Worker is configured with, so the Worker's own `AccessJwt` verifies it.
///
/// ```
/// use std::time::Duration;
/// use layers_test::AccessToken;
///
/// let ada = AccessToken::user("ada@example.com").groups(["staff"]).expires_in(Duration::from_secs(60));
/// let stale = AccessToken::user("ada@example.com").expired();
/// let robot = AccessToken::service("4fd2d1b9.access");
/// # let _ = (ada, stale, robot);
/// ```
#[derive(Debug, Clone)]
pub struct AccessToken {
    email: Option<String>,
    common_name: Option<String>,
    groups: Option<Vec<String>>,
    claims: Map<String, Value>,
    /// Seconds from now to `exp` (negative: expired).
    exp_in: i64,
    audience: Option<String>,
    issuer: Option<String>,
}

impl AccessToken {
    /// A person who logged in through Access, with this email.
    #[must_use]
    pub fn user(email: &str) -> AccessToken {
        AccessToken {
            email: Some(email.to_owned()),
            common_name: None,
            groups: None,
            claims: Map::new(),
            exp_in: 600,
            audience: None,
            issuer: None,
        }
    }

    /// An Access service token (`common_name` is its client id; no email).
    #[must_use]
    pub fn service(client_id: &str) -> AccessToken {
        AccessToken { email: None, common_name: Some(client_id.to_owned()), ..AccessToken::user("") }
    }

    /// The `groups` claim (as Access sends it for identity providers with groups).
    #[must_use]
    pub fn groups<I: IntoIterator<Item = S>, S: Into<String>>(mut self, groups: I) -> AccessToken {
        self.groups = Some(groups.into_iter().map(Into::into).collect());
        self
    }

    /// Expires this long from now (default 10 minutes).
    #[must_use]
    pub fn expires_in(mut self, ttl: Duration) -> AccessToken {
        self.exp_in = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2);
        self
    }

    /// Expired ten minutes ago (past any leeway the verifier allows by default).
    #[must_use]
    pub fn expired(mut self) -> AccessToken {
        self.exp_in = -600;
        self
    }

    /// Any other claim (a custom OIDC/SAML claim, `country`, …); replaces what the harness
    /// would put under that name.
    #[must_use]
    pub fn claim(mut self, name: &str, value: impl Into<Value>) -> AccessToken {
        self.claims.insert(name.to_owned(), value.into());
        self
    }

    /// Signs for this AUD instead of the Worker's (a token for another Access application).
    #[must_use]
    pub fn audience(mut self, aud: &str) -> AccessToken {
        self.audience = Some(aud.to_owned());
        self
    }

    /// Signs with this `iss` instead of the Worker's team.
    #[must_use]
    pub fn issuer(mut self, iss: &str) -> AccessToken {
        self.issuer = Some(iss.to_owned());
        self
    }

    /// The claims to sign, for the Worker's AUD `aud`, at `now`.
    pub(crate) fn claims(&self, aud: &str, now: u64) -> Value {
        let now = i64::try_from(now).unwrap_or(0);
        let mut v = serde_json::json!({
            "aud": [self.audience.as_deref().unwrap_or(aud)],
            "exp": now + self.exp_in,
            "iat": now - 5,
            "nbf": now - 5,
            "iss": self.issuer.clone().unwrap_or_else(|| format!("https://{TEAM_DOMAIN}")),
            "type": "app",
        });
        if let Some(email) = &self.email {
            v["email"] = email.clone().into();
            v["sub"] = format!("layers-test-{}", stable_id(email)).into();
            v["identity_nonce"] = random_hex(8).into();
            v["country"] = "GB".into();
        }
        if let Some(cn) = &self.common_name {
            v["common_name"] = cn.clone().into();
            v["sub"] = "".into();
        }
        if let Some(groups) = &self.groups {
            v["groups"] = groups.clone().into();
        }
        for (k, x) in &self.claims {
            v[k] = x.clone();
        }
        v
    }
}

/// A stable id per email (Access's `sub` is stable per user), not reversible at a glance.
fn stable_id(email: &str) -> String {
    use sha2::Digest as _;
    let d = sha2::Sha256::digest(email.as_bytes());
    d.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// The random secrets of one run.
pub(crate) struct Secrets {
    pub(crate) access_aud: String,
    pub(crate) api_key: String,
    pub(crate) signing_key: String,
    pub(crate) webhook_secret: String,
    pub(crate) turnstile_secret: String,
}

impl Secrets {
    pub(crate) fn generate() -> Secrets {
        let mut whsec = [0u8; 24];
        getrandom::getrandom(&mut whsec).expect("the OS random number generator failed");
        Secrets {
            access_aud: random_hex(32),
            api_key: random_hex(24),
            signing_key: random_hex(32),
            webhook_secret: format!("whsec_{}", STANDARD.encode(whsec)),
            turnstile_secret: format!("0x{}", random_hex(16)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{AccessKey, AccessToken};

    #[test]
    fn tokens_verify_with_the_published_key() {
        let t0 = std::time::Instant::now();
        let key = AccessKey::generate().unwrap();
        eprintln!("RSA-2048 key generation: {:?}", t0.elapsed());
        let settings = layers_core::identity::AccessSettings::new(super::TEAM_DOMAIN, "aud-1", None, 60).unwrap();
        let now = crate::now();
        let user = key.sign(&AccessToken::user("ada@example.com").groups(["staff"]).claims("aud-1", now));
        let claims = settings.verify_with_jwks(&user, key.jwks.as_bytes(), now).unwrap();
        assert_eq!(claims.email(), Some("ada@example.com"));
        let service = key.sign(&AccessToken::service("robot.access").claims("aud-1", now));
        let claims = settings.verify_with_jwks(&service, key.jwks.as_bytes(), now).unwrap();
        assert_eq!(claims.common_name(), Some("robot.access"));
        let expired = key.sign(&AccessToken::user("ada@example.com").expired().claims("aud-1", now));
        assert!(settings.verify_with_jwks(&expired, key.jwks.as_bytes(), now).is_err());
        let other = key.sign(&AccessToken::user("ada@example.com").audience("aud-2").claims("aud-1", now));
        assert!(settings.verify_with_jwks(&other, key.jwks.as_bytes(), now).is_err());
    }
}
