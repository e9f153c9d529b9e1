//! Native tests of `AccessJwt` (Cloudflare Access), real RSA-2048 keys: the tokens it accepts —
//! a user's and a service's, and the claims each yields — where it reads them from (the
//! `Cf-Access-Jwt-Assertion` header, the `CF_Authorization` cookie; missing or ambiguous
//! credentials), and a standard JWS (RFC 7515 A.2) that is not an Access token. The shared
//! keys, minting and in-process JWKS server are in `access/mod.rs`.

mod access;

use access::*;
use layers_core::identity::{AccessClaims, AccessJwt, DenyKind, Jwks};
use serde_json::json;

// ---- the happy paths --------------------------------------------------------------------------

#[test]
fn valid_user_token_yields_user_claims() {
    let server = Server::new("valid-user", JWKS_A);
    let claims = access(&server, &mint_a(&user_payload())).unwrap();
    let AccessClaims::User { email, sub, identity_nonce, country, kind, custom } = &claims else {
        panic!("expected a user: {claims:?}");
    };
    assert_eq!(email, "ada@example.com");
    assert_eq!(sub, "7335d417-61da-459d-899c-0a01c76a2f94");
    assert_eq!(identity_nonce.as_deref(), Some("6ei69kawdKzMIAPF"));
    assert_eq!(country.as_deref(), Some("NL"));
    assert_eq!(kind, "app");
    // Only unknown claims land in `custom`.
    assert_eq!(custom.keys().collect::<Vec<_>>(), ["groups"]);
    assert_eq!(custom["groups"], json!(["eng", "ops"]));
    assert_eq!(claims.email(), Some("ada@example.com"));
    assert_eq!(claims.common_name(), None);
    assert_eq!(server.fetches(), 1);
    // Warm cache: no second fetch.
    access(&server, &mint_a(&user_payload())).unwrap();
    assert_eq!(server.fetches(), 1);
}

#[test]
fn valid_service_token_yields_service_claims() {
    let server = Server::new("valid-service", JWKS_A);
    let claims = access(&server, &mint_a(&service_payload())).unwrap();
    assert_eq!(claims, AccessClaims::Service { common_name: "0123abcd.access".into(), sub: String::new() });
    assert_eq!(claims.email(), None);
    assert_eq!(claims.sub(), "");
    // Neither email nor common_name: refused.
    let mut p = service_payload();
    p.as_object_mut().unwrap().remove("common_name");
    assert_denied(pure(&mint_a(&p)), DenyKind::Invalid, "no email, no common_name");
    // A user token lacking type or sub is refused.
    for drop in ["type", "sub"] {
        let mut p = user_payload();
        p.as_object_mut().unwrap().remove(drop);
        assert_denied(pure(&mint_a(&p)), DenyKind::Invalid, drop);
    }
}

#[test]
fn token_from_cookie_when_no_header() {
    let server = Server::new("cookie", JWKS_A);
    let t = mint_a(&user_payload());
    let cx = cx_at(&server, NOW).header("cookie", &format!("theme=dark; CF_Authorization={t}; x=1")).build();
    assert_eq!(verify::<AccessJwt>(&cx).unwrap().email(), Some("ada@example.com"));
}

#[test]
fn header_wins_over_cookie() {
    let server = Server::new("header-wins", JWKS_A);
    let good = mint_a(&user_payload());
    let mut svc = service_payload();
    svc["common_name"] = json!("cookie-token");
    let other = mint_a(&svc);
    // Both valid: the header's token is the one verified.
    let cx = cx_at(&server, NOW)
        .header("Cf-Access-Jwt-Assertion", &good)
        .header("cookie", &format!("CF_Authorization={other}"))
        .build();
    assert_eq!(verify::<AccessJwt>(&cx).unwrap().email(), Some("ada@example.com"));
    // A bad header is not rescued by a good cookie.
    let cx = cx_at(&server, NOW)
        .header("Cf-Access-Jwt-Assertion", "garbage")
        .header("cookie", &format!("CF_Authorization={good}"))
        .build();
    assert_denied(verify::<AccessJwt>(&cx), DenyKind::Invalid, "bad header, good cookie");
}

#[test]
fn missing_or_ambiguous_credentials() {
    let server = Server::new("missing", JWKS_A);
    let t = mint_a(&user_payload());
    assert_denied(verify::<AccessJwt>(&cx_at(&server, NOW).build()), DenyKind::Missing, "nothing sent");
    let empty = cx_at(&server, NOW).header("Cf-Access-Jwt-Assertion", "  ").build();
    assert_denied(verify::<AccessJwt>(&empty), DenyKind::Missing, "empty header");
    let twice = cx_at(&server, NOW).header("cookie", &format!("CF_Authorization={t}; CF_Authorization={t}")).build();
    assert_denied(verify::<AccessJwt>(&twice), DenyKind::Missing, "cookie sent twice is not taken");
    let two_headers =
        cx_at(&server, NOW).header("Cf-Access-Jwt-Assertion", &t).header("cf-access-jwt-assertion", &t).build();
    assert_denied(verify::<AccessJwt>(&two_headers), DenyKind::Invalid, "header sent twice");
    assert_eq!(server.fetches(), 0, "no fetch for requests without a usable token");
}

// ---- RFC 7515 A.2 ---------------------------------------------------------------------------------

/// RFC 7515, Appendix A.2: the published RS256 JWS and its key (public part).
const RFC7515_A2_JWS: &str = "eyJhbGciOiJSUzI1NiJ9\
.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ\
.cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";
const RFC7515_A2_N: &str = "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ";

/// That the vector's signature verifies (and a flipped bit, or another key, does not) is checked
/// on the signature check alone, by the unit test `rfc7515_appendix_a2_vector_verifies` in
/// `layers-core/src/identity/access_jwt/signature.rs`.
#[test]
fn rfc7515_appendix_a2_vector_is_not_an_access_token() {
    // The key goes through the same JWKS parser as Access's keys.
    let jwks = format!(r#"{{"keys":[{{"kty":"RSA","kid":"rfc7515-a2","e":"AQAB","n":"{RFC7515_A2_N}"}}]}}"#);
    let jwks = Jwks::parse(jwks.as_bytes()).unwrap();
    assert!(jwks.get("rfc7515-a2").is_some());
    // Through the Access path it is refused: no kid, wrong iss, no aud, long expired.
    assert_denied(settings().verify(RFC7515_A2_JWS, &jwks, NOW), DenyKind::Invalid, "RFC token as Access token");
}
