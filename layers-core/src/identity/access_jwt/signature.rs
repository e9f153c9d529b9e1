//! An Access token past its header: the compact JWS read as jwt-compact's validator reads it
//! (three base64url segments, claims it can read), its RS256 signature checked (natively by
//! jwt-compact; in Workers by the check the caller supplies, WebCrypto), and its payload parsed
//! strictly.

use std::fmt;

use jwt_compact::alg::{Rsa, RsaPublicKey};
use serde_json::{Map, Value};

#[cfg(test)]
use super::header::check_token_header;
use super::header::NOT_JWS;
use crate::identity::jwt_parse::{b64url_decode, parse_payload, Payload};
use crate::identity::Deny;

/// A verified token's payload: the time claims and everything else.
pub(super) struct VerifiedPayload {
    pub(super) claims: Map<String, Value>,
    pub(super) exp: Option<i64>,
    pub(super) nbf: Option<i64>,
    pub(super) iat: Option<i64>,
}

impl fmt::Debug for VerifiedPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedPayload").finish_non_exhaustive()
    }
}

/// Verifies the RS256 signature of a compact JWS with `key` and returns its payload claims as
/// a JSON object (strictly parsed: no duplicate names). The header is checked as
/// [`AccessJwt`](super::AccessJwt) checks it (`alg` exactly `RS256`, no duplicates, no
/// `crit`/`cty`), but a `kid` is not required. Nothing else — not `exp`, not `aud` — is looked
/// at. The tests' way to the signature check alone (RFC 7515's vector, the federation
/// assertion).
///
/// # Errors
/// 403 for a malformed token, another algorithm, or a signature that does not verify.
#[cfg(test)]
pub(crate) fn verify_rs256(token: &str, key: &RsaPublicKey) -> Result<Map<String, Value>, Deny> {
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

/// A token whose header passed [`check_token_header`](super::header::check_token_header), read
/// up to its signature check: what is signed, the signature, and the payload (its claims
/// readable).
pub(super) struct Unverified<'t> {
    /// Everything before the last dot, exactly as received: what RS256 is computed over.
    signing_input: &'t str,
    signature: Vec<u8>,
    pub(super) payload: Payload,
}

/// Reads a token whose header passed [`check_token_header`](super::header::check_token_header),
/// with the denials (and in the order) of jwt-compact's `Validator::validate`: three base64url
/// segments, else "not a well-formed JWS"; claims jwt-compact can read (`exp`/`nbf`/`iat`
/// numbers of seconds), else "malformed claims". The header's `alg` was checked to be exactly
/// `RS256` already. Each segment is decoded once and the payload parsed once
/// (`identity::jwt_parse`).
pub(super) fn read_unverified(token: &str) -> Result<Unverified<'_>, Deny> {
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
pub(super) fn verified_payload(payload: Payload) -> Result<VerifiedPayload, Deny> {
    let Payload { claims, exp, nbf, iat, duplicate } = payload;
    if duplicate {
        return Err(Deny::invalid("token payload: duplicate name in JSON object"));
    }
    Ok(VerifiedPayload { claims, exp, nbf, iat })
}

/// Natively: the token read by [`read_unverified`], its RS256 signature checked by
/// jwt-compact, then [`verified_payload`]. The header has passed
/// [`check_token_header`](super::header::check_token_header).
pub(super) fn verify_signature_and_payload(token: &str, key: &RsaPublicKey) -> Result<VerifiedPayload, Deny> {
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
/// [`check_token_header`](super::header::check_token_header).
#[cfg(any(target_arch = "wasm32", test))]
pub(super) async fn verify_signature_and_payload_by(
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

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use base64::Engine as _;
    use futures::executor::block_on;
    use jwt_compact::alg::{Hs256, Hs256Key, RsaPrivateKey};
    use jwt_compact::{Algorithm, AlgorithmSignature as _, Empty};
    use rsa::pkcs8::DecodePrivateKey as _;
    use rsa::traits::PublicKeyParts as _;
    use serde_json::json;

    use super::super::header::check_token_header;
    use super::super::Jwks;
    use super::*;
    use crate::identity::DenyKind;

    const KEY_A: &str = include_str!("../../../../tests/fixtures/access/key-a.pem");
    const KEY_B: &str = include_str!("../../../../tests/fixtures/access/key-b.pem");

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
        let mut claims = crate::identity::jwt_parse::strict_json_object(&raw)
            .map_err(|e| Deny::invalid(format!("token payload: {e}")))?;
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
        assert_eq!(d.kind(), DenyKind::Invalid);
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

    // ---- RFC 7515 A.2 (moved here from tests/tests/access_jwt.rs with `verify_rs256`) --------------

    /// RFC 7515, Appendix A.2: the published RS256 JWS and its key (public part).
    const RFC7515_A2_JWS: &str = "eyJhbGciOiJSUzI1NiJ9\
.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ\
.cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";
    const RFC7515_A2_N: &str = "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ";
    const JWKS_A: &str = include_str!("../../../../tests/fixtures/access/jwks-a.json");

    fn assert_denied<T: std::fmt::Debug>(r: Result<T, Deny>, kind: DenyKind, what: &str) -> Deny {
        let d = r.expect_err(what);
        assert_eq!(d.kind(), kind, "{what}: {d:?}");
        d
    }

    #[test]
    fn rfc7515_appendix_a2_vector_verifies() {
        // The key goes through the same JWKS parser as Access's keys.
        let jwks = format!(r#"{{"keys":[{{"kty":"RSA","kid":"rfc7515-a2","e":"AQAB","n":"{RFC7515_A2_N}"}}]}}"#);
        let jwks = Jwks::parse(jwks.as_bytes()).unwrap();
        let key = jwks.get("rfc7515-a2").unwrap();
        let payload = verify_rs256(RFC7515_A2_JWS, key).expect("the RFC's signature verifies");
        assert_eq!(payload["iss"], "joe");
        assert_eq!(payload["exp"], 1_300_819_380);
        assert_eq!(payload["http://example.com/is_root"], true);
        // One bit anywhere in the signature, and it no longer does.
        let (signed, sig) = RFC7515_A2_JWS.rsplit_once('.').unwrap();
        let mut raw = URL_SAFE_NO_PAD.decode(sig).unwrap();
        raw[100] ^= 0x10;
        let flipped = format!("{signed}.{}", b64(&raw));
        assert_denied(verify_rs256(&flipped, key), DenyKind::Invalid, "flipped RFC signature");
        // Our keys do not verify it either (key a: the fixture JWKS's only key).
        let a = Jwks::parse(JWKS_A.as_bytes()).unwrap();
        let kid_a = a.kids().next().unwrap().to_owned();
        assert_denied(verify_rs256(RFC7515_A2_JWS, a.get(&kid_a).unwrap()), DenyKind::Invalid, "other key");
    }
}
