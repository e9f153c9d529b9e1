//! What an STS needs to trust the Worker's assertions: the OIDC discovery document and the JWKS
//! with the public half of the signing key ([`FederationIssuer`]). AWS reads
//! `{issuer}/.well-known/openid-configuration`, follows its `jwks_uri`, and checks each
//! assertion's signature with the key whose `kid` the assertion names.

use std::cell::RefCell;
use std::fmt;
use std::marker::PhantomData;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rsa::traits::PublicKeyParts as _;
use sha2::{Digest as _, Sha256};

use super::{FederationConfig, FederationKey};
use crate::Error;

/// Where the discovery document is served, under the issuer URL.
pub const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";
/// Where the JWKS is served, under the issuer URL (the discovery document's `jwks_uri`).
pub const JWKS_PATH: &str = "/.well-known/jwks.json";

type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// JWKs already derived in this isolate, by SHA-256 of the `kid` and the key secret: the
/// documents are public and fetched by anyone, and parsing an RSA private key on every request
/// would let a stranger make the Worker do that work at will. Only the public JWK is kept, under
/// a hash (never the secret); a rotated secret hashes differently. At most [`KEPT_JWKS`].
const KEPT_JWKS: usize = 4;

thread_local! {
    static JWKS: RefCell<Vec<([u8; 32], serde_json::Value)>> = const { RefCell::new(Vec::new()) };
}

fn jwk_key(kid: &str, secret: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(kid.as_bytes());
    h.update([0]);
    h.update(secret.as_bytes());
    h.finalize().into()
}

/// The public side of a [`FederationConfig`]: the issuer's OIDC discovery document and its
/// JWKS, built from the issuer var and the *public* half of the key secret. It grants nothing —
/// no credentials, nothing signed — so any route may take one, `Public` included, which is what
/// an STS fetching the documents is:
///
/// ```no_run
/// # use layers_core::identity::{FederationConfig, FederationIssuer};
/// # use layers_core::prelude::*;
/// # struct BackupRole;
/// # impl FederationConfig for BackupRole { const NAME: &'static str = "BackupRole"; }
/// #[route(GET "/.well-known/jwks.json", identity = Public)]
/// async fn jwks(_: Claims<'_, Public>, issuer: FederationIssuer<'_, BackupRole>) -> Result<Response> {
///     Ok(Response::from_json(&issuer.jwks()?)?)
/// }
/// # fn main() {}
/// ```
pub struct FederationIssuer<'r, C: FederationConfig> {
    key: Option<String>,
    issuer: Option<String>,
    config: PhantomData<fn() -> C>,
    scope: PhantomData<fn(&'r ()) -> &'r ()>,
}

impl<C: FederationConfig> fmt::Debug for FederationIssuer<'_, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FederationIssuer")
            .field("config", &C::NAME)
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

fn unavailable(why: String) -> Error {
    Error::new(503, "the federation issuer is not configured").with_detail(why)
}

impl<C: FederationConfig> FederationIssuer<'_, C> {
    /// Made by the framework's dispatch only, from the Worker's secrets and vars.
    pub(crate) fn new(secret: Lookup<'_>, var: Lookup<'_>) -> Self {
        let set = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        FederationIssuer {
            key: set(secret(C::KEY_SECRET)),
            issuer: set(var(C::ISSUER_VAR)),
            config: PhantomData,
            scope: PhantomData,
        }
    }

    /// The issuer URL (the var [`FederationConfig::ISSUER_VAR`]), without a trailing `/`.
    ///
    /// # Errors
    /// 503 when it is unset or not an `https://` URL (`http://` on loopback, for local runs):
    /// AWS only trusts https issuers.
    pub fn issuer(&self) -> Result<String, Error> {
        let iss = self.issuer.as_deref().ok_or_else(|| unavailable(format!("{} is unset", C::ISSUER_VAR)))?;
        crate::outbound::check_https_or_loopback(iss, C::ISSUER_VAR).map_err(unavailable)?;
        if iss.contains(['?', '#']) {
            return Err(unavailable(format!("{} must not have a query or fragment", C::ISSUER_VAR)));
        }
        Ok(iss.trim_end_matches('/').to_owned())
    }

    /// The public key as a JWK: `{"kty":"RSA","use":"sig","alg":"RS256","kid","n","e"}`, with
    /// the `kid` assertions carry ([`FederationConfig::KEY_ID`]).
    ///
    /// # Errors
    /// 503 when the key secret is unset or not a usable key (the detail says why, never what
    /// the secret holds).
    pub fn jwk(&self) -> Result<serde_json::Value, Error> {
        let secret = self.key.as_deref().ok_or_else(|| unavailable(format!("secret {} is unset", C::KEY_SECRET)))?;
        let cache_key = jwk_key(C::KEY_ID, secret);
        if let Some(jwk) = JWKS.with(|j| j.borrow().iter().find(|(k, _)| *k == cache_key).map(|(_, v)| v.clone())) {
            return Ok(jwk);
        }
        let key = FederationKey::parse(secret).map_err(|e| unavailable(format!("secret {}: {e}", C::KEY_SECRET)))?;
        let public = key.public_key();
        let jwk = serde_json::json!({
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": C::KEY_ID,
            "n": URL_SAFE_NO_PAD.encode(public.n().to_bytes_be()),
            "e": URL_SAFE_NO_PAD.encode(public.e().to_bytes_be()),
        });
        JWKS.with(|j| {
            let mut j = j.borrow_mut();
            if j.len() >= KEPT_JWKS {
                j.remove(0);
            }
            j.push((cache_key, jwk.clone()));
        });
        Ok(jwk)
    }

    /// The JWKS document: `{"keys": [jwk]}`.
    ///
    /// # Errors
    /// As [`jwk`](Self::jwk).
    pub fn jwks(&self) -> Result<serde_json::Value, Error> {
        Ok(serde_json::json!({ "keys": [self.jwk()?] }))
    }

    /// The OIDC discovery document: `issuer`, `jwks_uri` (the issuer + [`JWKS_PATH`]), and what
    /// the assertions are (RS256-signed ID tokens about a public subject).
    ///
    /// # Errors
    /// As [`issuer`](Self::issuer).
    pub fn openid_configuration(&self) -> Result<serde_json::Value, Error> {
        let iss = self.issuer()?;
        Ok(serde_json::json!({
            "issuer": iss,
            "jwks_uri": format!("{iss}{JWKS_PATH}"),
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "claims_supported": ["iss", "sub", "aud", "exp", "nbf", "iat", "jti"],
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Role;
    impl FederationConfig for Role {
        const KEY_ID: &'static str = "test-kid";
        const NAME: &'static str = "Role";
    }

    const KEY: &str = include_str!("../../../../tests/fixtures/access/key-a.pem");

    fn issuer(key: Option<&str>, iss: Option<&str>) -> FederationIssuer<'static, Role> {
        let (key, iss) = (key.map(str::to_owned), iss.map(str::to_owned));
        FederationIssuer::new(&|name| (name == "FEDERATION_KEY").then(|| key.clone()).flatten(), &|name| {
            (name == "FEDERATION_ISSUER").then(|| iss.clone()).flatten()
        })
    }

    #[test]
    fn publishes_the_public_half_only() {
        let i = issuer(Some(KEY), Some("https://blog.example.com/"));
        let jwk = i.jwk().unwrap();
        assert_eq!(
            (jwk["kty"].as_str(), jwk["alg"].as_str(), jwk["kid"].as_str()),
            (Some("RSA"), Some("RS256"), Some("test-kid"))
        );
        assert_eq!(jwk["e"], "AQAB");
        let n = URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap();
        assert_eq!(n.len(), 256, "a 2048-bit modulus");
        let public = FederationKey::parse(KEY).unwrap().public_key();
        assert_eq!(n, public.n().to_bytes_be());
        let text = i.jwks().unwrap().to_string();
        for private in ["\"d\"", "\"p\"", "\"q\"", "\"dp\"", "\"dq\"", "\"qi\""] {
            assert!(!text.contains(private), "{private} in {text}");
        }
        let doc = i.openid_configuration().unwrap();
        assert_eq!(doc["issuer"], "https://blog.example.com");
        assert_eq!(doc["jwks_uri"], "https://blog.example.com/.well-known/jwks.json");
        assert_eq!(doc["id_token_signing_alg_values_supported"], serde_json::json!(["RS256"]));
    }

    #[test]
    fn the_jwk_is_derived_once_per_key_and_follows_a_rotation() {
        const OTHER: &str = include_str!("../../../../tests/fixtures/access/key-b.pem");
        let a = issuer(Some(KEY), Some("https://a.example")).jwk().unwrap();
        assert!(JWKS.with(|j| j.borrow().iter().any(|(k, v)| *k == jwk_key("test-kid", KEY.trim()) && *v == a)));
        assert_eq!(issuer(Some(KEY), Some("https://a.example")).jwk().unwrap(), a, "from the isolate's cache");
        let b = issuer(Some(OTHER), Some("https://a.example")).jwk().unwrap();
        assert_ne!(a["n"], b["n"], "a rotated secret is another key");
        for _ in 0..KEPT_JWKS + 2 {
            let _ = issuer(Some(OTHER), None).jwk();
        }
        assert!(JWKS.with(|j| j.borrow().len()) <= KEPT_JWKS);
        // What is kept is the public JWK under a hash: nothing of the secret.
        let kept = JWKS.with(|j| format!("{:?}", j.borrow()));
        assert!(!kept.contains("PRIVATE") && !kept.contains(KEY.lines().nth(1).unwrap()), "{kept}");
    }

    #[test]
    fn unset_or_bad_configuration_is_503_without_the_secret() {
        for (key, iss) in [(None, Some("https://a.example")), (Some("not a key"), Some("https://a.example"))] {
            let e = issuer(key, iss).jwks().unwrap_err();
            assert_eq!(e.status(), 503);
            assert!(!format!("{e:?}").contains("not a key"), "{e:?}");
        }
        for iss in [None, Some("http://a.example"), Some("ftp://a.example"), Some("https://a.example/?x=1")] {
            assert_eq!(issuer(Some(KEY), iss).openid_configuration().unwrap_err().status(), 503, "{iss:?}");
        }
        assert!(issuer(Some(KEY), Some("http://127.0.0.1:8787")).openid_configuration().is_ok());
        assert!(!format!("{:?}", issuer(Some(KEY), None)).contains("PRIVATE"));
    }
}
