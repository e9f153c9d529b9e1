//! The Worker's signing key ([`FederationKey`]: PKCS#8 or PKCS#1, PEM or base64 DER) and the
//! web identity token it signs for the STS (an RS256 JWT about the Worker).

use std::fmt;

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use jwt_compact::alg::{Rsa, RsaPrivateKey, RsaPublicKey, StrongKey};
use jwt_compact::{AlgorithmExt as _, Claims as JwtClaims, Header};
use rsa::pkcs1::DecodeRsaPrivateKey as _;
use rsa::pkcs8::DecodePrivateKey as _;
use rsa::traits::PublicKeyParts as _;

use super::MAX_FEDERATION_KEY_LEN;

/// An RSA private key (2048, 3072 or 4096 bits) that signs federation assertions. `Debug`
/// shows only its size.
#[derive(Clone)]
pub struct FederationKey {
    key: RsaPrivateKey,
}

impl fmt::Debug for FederationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FederationKey").field("bits", &self.bits()).finish_non_exhaustive()
    }
}

impl FederationKey {
    /// Reads a key from a secret's text: PKCS#8 PEM (`BEGIN PRIVATE KEY`), PKCS#1 PEM
    /// (`BEGIN RSA PRIVATE KEY`), or base64 (standard alphabet, padding optional) of the
    /// PKCS#8 or PKCS#1 DER. Literal `\n` and `\r` escapes count as line breaks, so a PEM
    /// fits on one dotenv line.
    ///
    /// # Errors
    /// A description that never contains key material: not a key, encrypted, or not
    /// 2048/3072/4096 bits.
    pub fn parse(secret: &str) -> Result<FederationKey, crate::ConfigError> {
        if secret.len() > MAX_FEDERATION_KEY_LEN {
            return Err(format!("longer than {MAX_FEDERATION_KEY_LEN} bytes").into());
        }
        let text = secret.trim().replace("\\r", "").replace("\\n", "\n");
        let text = text.trim().trim_matches('"').trim();
        let key = if text.contains("-----BEGIN ") {
            let (label, der) = pem_decode(text)?;
            match label.as_str() {
                "PRIVATE KEY" => RsaPrivateKey::from_pkcs8_der(&der).map_err(|_| "not an RSA PKCS#8 private key")?,
                "RSA PRIVATE KEY" => {
                    RsaPrivateKey::from_pkcs1_der(&der).map_err(|_| "not an RSA PKCS#1 private key")?
                }
                "ENCRYPTED PRIVATE KEY" => {
                    return Err("an encrypted private key: store it unencrypted (openssl pkcs8 -topk8 -nocrypt)".into())
                }
                _ => return Err(format!("a PEM block labelled {label:?}, not PRIVATE KEY").into()),
            }
        } else {
            let b64: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
            let der = STANDARD
                .decode(&b64)
                .or_else(|_| STANDARD_NO_PAD.decode(&b64))
                .map_err(|_| "neither a PEM private key nor base64 of a DER one")?;
            RsaPrivateKey::from_pkcs8_der(&der)
                .or_else(|_| RsaPrivateKey::from_pkcs1_der(&der))
                .map_err(|_| "base64 that is not an RSA private key (PKCS#8 or PKCS#1 DER)")?
        };
        let key = StrongKey::try_from(key).map_err(|_| "the RSA key is not 2048, 3072 or 4096 bits")?.into_inner();
        Ok(FederationKey { key })
    }

    /// The modulus size in bits.
    #[must_use]
    pub fn bits(&self) -> usize {
        self.key.size() * 8
    }

    /// The public half (what the issuer's JWKS publishes).
    #[must_use]
    pub fn public_key(&self) -> RsaPublicKey {
        self.key.to_public_key()
    }
}

/// The label and decoded body of the first PEM block of `text`.
fn pem_decode(text: &str) -> Result<(String, Vec<u8>), String> {
    let begin = text.find("-----BEGIN ").ok_or("no PEM BEGIN line")?;
    let rest = &text[begin + "-----BEGIN ".len()..];
    let label_end = rest.find("-----").ok_or("a malformed PEM BEGIN line")?;
    let label = rest[..label_end].trim().to_owned();
    if label.is_empty() || label.len() > 64 || !label.bytes().all(|b| b.is_ascii_uppercase() || b == b' ') {
        return Err("a malformed PEM label".into());
    }
    let body_and_end = &rest[label_end + 5..];
    let end_line = format!("-----END {label}-----");
    let body_end = body_and_end.find(&end_line).ok_or("no matching PEM END line")?;
    let body = &body_and_end[..body_end];
    if body.contains(':') {
        return Err("a PEM block with headers (encrypted?)".into());
    }
    let b64: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let der = STANDARD.decode(&b64).map_err(|_| "a PEM body that is not base64")?;
    Ok((label, der))
}

/// What the signed assertion says about the Worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct AssertionClaims<'a> {
    /// `iss`: the OIDC issuer URL.
    pub(super) issuer: &'a str,
    /// `sub`: who the Worker is to the STS.
    pub(super) subject: &'a str,
    /// `aud`: the STS's client id, e.g. `sts.amazonaws.com`.
    pub(super) audience: &'a str,
    /// Seconds from `iat` to `exp`.
    pub(super) ttl_secs: u64,
}

/// Longest `kid` put in an assertion.
const MAX_KID_LEN: usize = 128;

/// Signs a web identity token: an RS256 JWT with header `alg RS256`, `typ JWT`, `kid`, and
/// claims `iss`, `sub`, `aud`, `iat = nbf = now`, `exp = now + ttl_secs`, and a random `jti`
/// (128 bits, base64url).
///
/// # Errors
/// A description (never containing the key or the token) when `kid` is empty, longer than
/// 128 bytes or not printable ASCII, a claim is empty, `ttl_secs` is 0, or no randomness or
/// signature could be had.
pub(super) fn sign_assertion(
    key: &FederationKey,
    kid: &str,
    claims: &AssertionClaims<'_>,
    now: u64,
) -> Result<String, String> {
    if kid.is_empty() || kid.len() > MAX_KID_LEN || !kid.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("the key id is empty, too long, or not printable ASCII".into());
    }
    for (name, v) in [("iss", claims.issuer), ("sub", claims.subject), ("aud", claims.audience)] {
        if v.trim().is_empty() {
            return Err(format!("the assertion's {name} is empty"));
        }
    }
    if claims.ttl_secs == 0 {
        return Err("the assertion lifetime is 0".into());
    }
    let exp = now.checked_add(claims.ttl_secs).ok_or("the assertion's exp overflows")?;
    let mut jti = [0u8; 16];
    getrandom::getrandom(&mut jti).map_err(|e| format!("no randomness for the jti: {e}"))?;
    let body = serde_json::json!({
        "iss": claims.issuer,
        "sub": claims.subject,
        "aud": claims.audience,
        "iat": now,
        "nbf": now,
        "exp": exp,
        "jti": URL_SAFE_NO_PAD.encode(jti),
    });
    let header = Header::empty().with_key_id(kid).with_token_type("JWT");
    Rsa::rs256().token(&header, &JwtClaims::new(body), &key.key).map_err(|_| "signing the assertion failed".into())
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    use base64::Engine as _;
    use jwt_compact::alg::{Rsa, RsaPrivateKey};
    use jwt_compact::{AlgorithmExt as _, UntrustedToken};
    use rsa::pkcs1::EncodeRsaPrivateKey as _;
    use rsa::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _, LineEnding};
    use serde_json::Value;

    use super::*;

    const PEM_A: &str = include_str!("../../../../tests/fixtures/access/key-a.pem");
    const PEM_B: &str = include_str!("../../../../tests/fixtures/access/key-b.pem");
    const NOW: u64 = 1_800_000_000;

    fn private(pem: &str) -> RsaPrivateKey {
        RsaPrivateKey::from_pkcs8_pem(pem).expect("fixture PEM parses")
    }

    fn claims() -> AssertionClaims<'static> {
        AssertionClaims {
            issuer: "https://layers.test",
            subject: "layers-app:backup",
            audience: "sts.amazonaws.com",
            ttl_secs: 300,
        }
    }

    /// Verifies `token` with the public half of `pem` (with jwt-compact's validator, not layers' own
    /// verification) and returns
    /// the header and the payload as JSON.
    fn verify(token: &str, pem: &str) -> Result<(Value, Value), String> {
        let public = private(pem).to_public_key();
        let untrusted = UntrustedToken::new(token).map_err(|e| e.to_string())?;
        Rsa::rs256().validator::<Value>(&public).validate(&untrusted).map_err(|e| e.to_string())?;
        let part = |i: usize| -> Value {
            let seg = token.split('.').nth(i).unwrap();
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(seg).unwrap()).unwrap()
        };
        Ok((part(0), part(1)))
    }

    // ---- the assertion ----------------------------------------------------------------------------

    #[test]
    fn assertion_verifies_against_the_public_key_and_carries_the_claims() {
        let key = FederationKey::parse(PEM_A).unwrap();
        let token = sign_assertion(&key, "layers-backup-1", &claims(), NOW).unwrap();
        let (header, payload) = verify(&token, PEM_A).expect("RS256 signature by key a");
        assert_eq!(header["alg"], "RS256");
        assert_eq!(header["typ"], "JWT");
        assert_eq!(header["kid"], "layers-backup-1");
        assert_eq!(header.as_object().unwrap().len(), 3, "{header}");
        assert_eq!(payload["iss"], "https://layers.test");
        assert_eq!(payload["sub"], "layers-app:backup");
        assert_eq!(payload["aud"], "sts.amazonaws.com");
        assert_eq!(payload["iat"], NOW);
        assert_eq!(payload["nbf"], NOW);
        assert_eq!(payload["exp"], NOW + 300);
        let jti = payload["jti"].as_str().expect("jti");
        assert_eq!(URL_SAFE_NO_PAD.decode(jti).unwrap().len(), 16, "128 random bits");
        assert_eq!(payload.as_object().unwrap().len(), 7, "{payload}");
        // The key's public half is what layers-core reports, too.
        assert_eq!(key.public_key(), private(PEM_A).to_public_key());
        assert_eq!(key.bits(), 2048);
    }

    #[test]
    fn assertion_does_not_verify_with_another_key_and_jti_is_fresh() {
        let key = FederationKey::parse(PEM_A).unwrap();
        let t1 = sign_assertion(&key, "k", &claims(), NOW).unwrap();
        let t2 = sign_assertion(&key, "k", &claims(), NOW).unwrap();
        assert!(verify(&t1, PEM_B).is_err(), "key b must not verify key a's signature");
        let jti = |t: &str| verify(t, PEM_A).unwrap().1["jti"].clone();
        assert_ne!(jti(&t1), jti(&t2));
        // A tampered payload fails.
        let parts: Vec<&str> = t1.split('.').collect();
        let (_, mut payload) = verify(&t1, PEM_A).unwrap();
        payload["sub"] = "someone-else".into();
        let forged = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(payload.to_string()), parts[2]);
        assert!(verify(&forged, PEM_A).is_err());
    }

    #[test]
    fn assertion_input_is_checked() {
        let key = FederationKey::parse(PEM_A).unwrap();
        let c = claims();
        for kid in ["", "has space", "tab\there", &"k".repeat(129), "é"] {
            assert!(sign_assertion(&key, kid, &c, NOW).is_err(), "kid {kid:?}");
        }
        assert!(sign_assertion(&key, &"k".repeat(128), &c, NOW).is_ok());
        assert!(sign_assertion(&key, "k", &AssertionClaims { issuer: " ", ..c }, NOW).is_err());
        assert!(sign_assertion(&key, "k", &AssertionClaims { subject: "", ..c }, NOW).is_err());
        assert!(sign_assertion(&key, "k", &AssertionClaims { audience: "", ..c }, NOW).is_err());
        assert!(sign_assertion(&key, "k", &AssertionClaims { ttl_secs: 0, ..c }, NOW).is_err());
        assert!(sign_assertion(&key, "k", &c, u64::MAX).is_err(), "exp overflow");
    }

    // ---- the key ----------------------------------------------------------------------------------

    #[test]
    fn key_formats_all_load_the_same_key() {
        let sk = private(PEM_A);
        let want = sk.to_public_key();
        let der = sk.to_pkcs8_der().unwrap();
        let one_line = PEM_A.trim().replace('\n', "\\n");
        let crlf_escaped = PEM_A.trim().replace('\n', "\\r\\n");
        let pkcs1 = sk.to_pkcs1_pem(LineEnding::LF).unwrap().to_string();
        let b64 = STANDARD.encode(der.as_bytes());
        let wrapped: String =
            b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect::<Vec<_>>().join("\n");
        let variants = [
            ("PEM", PEM_A.to_owned()),
            ("PEM with CRLF", PEM_A.replace('\n', "\r\n")),
            ("PEM with \\n escapes on one line", one_line.clone()),
            ("PEM with \\r\\n escapes", crlf_escaped),
            ("PEM with \\n escapes, still quoted", format!("\"{one_line}\"")),
            ("PEM with surrounding whitespace", format!("\n  {PEM_A}  \n")),
            ("PKCS#1 PEM", pkcs1),
            ("base64 DER", b64.clone()),
            ("base64 DER without padding", STANDARD_NO_PAD.encode(der.as_bytes())),
            ("base64 DER wrapped", wrapped),
            ("base64 PKCS#1 DER", STANDARD.encode(sk.to_pkcs1_der().unwrap().as_bytes())),
        ];
        for (name, text) in variants {
            let key = FederationKey::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(key.public_key(), want, "{name}");
            // And it signs something key a's public half verifies.
            let t = sign_assertion(&key, "k", &claims(), NOW).unwrap();
            assert!(verify(&t, PEM_A).is_ok(), "{name}");
        }
    }

    #[test]
    fn unusable_keys_are_refused_without_echoing_them() {
        let sk = private(PEM_A);
        let public_pem = {
            use rsa::pkcs8::EncodePublicKey as _;
            sk.to_public_key().to_public_key_pem(LineEnding::LF).unwrap()
        };
        let body: String = PEM_A.lines().filter(|l| !l.starts_with("-----")).collect();
        let small = {
            let mut rng = rsa::rand_core::OsRng;
            RsaPrivateKey::new(&mut rng, 1024).unwrap().to_pkcs8_pem(LineEnding::LF).unwrap().to_string()
        };
        let cases = [
            ("empty", String::new()),
            ("garbage", "not a key at all".to_owned()),
            ("public key", public_pem),
            ("encrypted", PEM_A.replace("PRIVATE KEY", "ENCRYPTED PRIVATE KEY")),
            ("no END line", PEM_A.replace("-----END PRIVATE KEY-----", "")),
            ("mismatched labels", PEM_A.replace("-----END PRIVATE KEY-----", "-----END RSA PRIVATE KEY-----")),
            ("a line missing", PEM_A.replace(PEM_A.lines().nth(3).unwrap(), "")),
            ("a line cut short", PEM_A.replace(PEM_A.lines().nth(3).unwrap(), &PEM_A.lines().nth(3).unwrap()[..30])),
            ("PEM headers", PEM_A.replace("-----\n", "-----\nProc-Type: 4,ENCRYPTED\n")),
            ("base64 of nonsense", STANDARD.encode(b"hello world, not DER")),
            ("1024-bit key", small),
            ("too long", "A".repeat(MAX_FEDERATION_KEY_LEN + 1)),
        ];
        for (name, text) in cases {
            let e = FederationKey::parse(&text).expect_err(name);
            assert!(
                !e.message().contains(&body[..40]) && !e.message().contains("MII"),
                "{name}: error echoes key material: {e}"
            );
        }
    }
}
