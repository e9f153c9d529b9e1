//! The key set Access publishes for a team ([`Jwks`]): which of its keys are usable, by `kid`.

use std::fmt;

use jwt_compact::alg::{RsaPublicKey, StrongKey};
use jwt_compact::jwk::JsonWebKey;
use serde_json::Value;

use super::header::valid_kid;
use super::{MAX_JWKS_KEYS, MAX_JWKS_LEN};

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
    pub fn parse(json: &[u8]) -> Result<Jwks, crate::ConfigError> {
        if json.len() > MAX_JWKS_LEN {
            return Err(format!("document larger than {MAX_JWKS_LEN} bytes").into());
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
