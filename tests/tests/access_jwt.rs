//! Native tests of `AccessJwt` (Cloudflare Access) and of verifier composition (`Guarded`,
//! `EmailAllowlist`, `AnyOf`), with real RSA-2048 keys (tests/fixtures/access), tokens minted
//! here with jwt-compact, an in-process JWKS server that counts its fetches, and hostile input.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use futures::executor::block_on;
use jwt_compact::alg::{Hs256, Hs256Key, Rsa, RsaPrivateKey, RsaPublicKey};
use jwt_compact::{AlgorithmExt as _, AlgorithmSignature as _, Claims as JwtClaims, Header};
use layers_core::identity::{
    AccessClaims, AccessConfig, AccessJwt, AccessSettings, AllowlistConfig, AnyOf, ApiKey, Deny, DenyKind,
    EmailAllowlist, Guarded, Jwks, OneOf, Policy, Verifier, VerifierState, VerifyCx, VerifyCxBuilder,
};
use layers_core::outbound::{FetchFuture, Fetcher, OutboundRequest, OutboundResponse};
use rsa::pkcs8::{DecodePrivateKey as _, EncodePublicKey as _};
use rsa::traits::PublicKeyParts as _;
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

const NOW: u64 = 1_800_000_000;
const TEAM: &str = "layers-test.cloudflareaccess.com";
const ISS: &str = "https://layers-test.cloudflareaccess.com";
const AUD: &str = "4714c1358e65fe4b408ad6d432a5f878f08194bdb4752441fd56faefa9b2b6f2";

const PEM_A: &str = include_str!("../fixtures/access/key-a.pem");
const PEM_B: &str = include_str!("../fixtures/access/key-b.pem");
const JWKS_A: &str = include_str!("../fixtures/access/jwks-a.json");
const JWKS_B: &str = include_str!("../fixtures/access/jwks-b.json");
const JWKS_AB: &str = include_str!("../fixtures/access/jwks-ab.json");

// ---- keys, fixtures ---------------------------------------------------------------------------

fn private(pem: &str) -> RsaPrivateKey {
    RsaPrivateKey::from_pkcs8_pem(pem).expect("fixture PEM parses")
}

thread_local! {
    static KEY_A: RsaPrivateKey = private(PEM_A);
    static KEY_B: RsaPrivateKey = private(PEM_B);
}

fn key_a() -> RsaPrivateKey {
    KEY_A.with(Clone::clone)
}
fn key_b() -> RsaPrivateKey {
    KEY_B.with(Clone::clone)
}

/// The kid of a public key: hex SHA-256 of its RFC 7638 thumbprint input (Access kids are
/// 64 hex characters too).
fn kid_of(public: &RsaPublicKey) -> String {
    let n = URL_SAFE_NO_PAD.encode(public.n().to_bytes_be());
    let e = URL_SAFE_NO_PAD.encode(public.e().to_bytes_be());
    let digest = Sha256::digest(format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#).as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn kid_a() -> String {
    kid_of(&key_a().to_public_key())
}
fn kid_b() -> String {
    kid_of(&key_b().to_public_key())
}

/// One JWK as Access publishes it (`kid`, `kty`, `alg`, `use`, `e`, `n`).
fn jwk_json(pem: &str) -> String {
    let public = private(pem).to_public_key();
    let n = URL_SAFE_NO_PAD.encode(public.n().to_bytes_be());
    let e = URL_SAFE_NO_PAD.encode(public.e().to_bytes_be());
    let kid = kid_of(&public);
    format!(r#"{{"kid":"{kid}","kty":"RSA","alg":"RS256","use":"sig","e":"{e}","n":"{n}"}}"#)
}

fn jwks_json(pems: &[&str]) -> String {
    let keys: Vec<String> = pems.iter().map(|p| format!("    {}", jwk_json(p))).collect();
    format!("{{\n  \"keys\": [\n{}\n  ]\n}}\n", keys.join(",\n"))
}

/// The JWKS fixtures are derived from the PEMs by this code. Run with
/// `LAYERS_REGENERATE_FIXTURES=1` after replacing a PEM to rewrite them.
#[test]
fn fixtures_are_derived_from_the_pems() {
    let derived = [
        ("jwks-a.json", jwks_json(&[PEM_A])),
        ("jwks-b.json", jwks_json(&[PEM_B])),
        ("jwks-ab.json", jwks_json(&[PEM_A, PEM_B])),
    ];
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/access");
    if std::env::var_os("LAYERS_REGENERATE_FIXTURES").is_some() {
        for (name, body) in &derived {
            std::fs::write(format!("{dir}/{name}"), body).unwrap();
        }
    }
    assert_eq!(derived[0].1, JWKS_A);
    assert_eq!(derived[1].1, JWKS_B);
    assert_eq!(derived[2].1, JWKS_AB);
    for pem in [PEM_A, PEM_B] {
        assert_eq!(private(pem).to_public_key().n().bits(), 2048);
    }
    assert_ne!(kid_a(), kid_b());
    let ab = Jwks::parse(JWKS_AB.as_bytes()).unwrap();
    assert_eq!(ab.kids().collect::<Vec<_>>(), [kid_a(), kid_b()]);
}

// ---- minting ----------------------------------------------------------------------------------

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn user_payload() -> Value {
    json!({
        "aud": [AUD],
        "email": "ada@example.com",
        "exp": NOW + 300,
        "iat": NOW - 10,
        "nbf": NOW - 10,
        "iss": ISS,
        "type": "app",
        "identity_nonce": "6ei69kawdKzMIAPF",
        "sub": "7335d417-61da-459d-899c-0a01c76a2f94",
        "country": "NL",
        "groups": ["eng", "ops"],
    })
}

fn service_payload() -> Value {
    json!({
        "aud": [AUD],
        "exp": NOW + 300,
        "iat": NOW - 10,
        "iss": ISS,
        "type": "app",
        "common_name": "0123abcd.access",
        "sub": "",
    })
}

/// The ordinary way: jwt-compact's `token` with header `{alg: RS256, kid, typ: JWT}`.
fn mint(key: &RsaPrivateKey, kid: &str, payload: &Value) -> String {
    let Value::Object(custom) = payload.clone() else { panic!("payload must be an object") };
    let header = Header::empty().with_key_id(kid).with_token_type("JWT");
    Rsa::rs256().token(&header, &JwtClaims::new(custom), key).unwrap()
}

fn mint_a(payload: &Value) -> String {
    mint(&key_a(), &kid_a(), payload)
}

/// Any header text, any payload text, signed with `alg` over exactly those bytes.
fn sign_raw<A: jwt_compact::Algorithm>(alg: &A, key: &A::SigningKey, header: &str, payload: &str) -> String {
    let msg = format!("{}.{}", b64(header), b64(payload));
    let sig = alg.sign(key, msg.as_bytes());
    format!("{msg}.{}", b64(sig.as_bytes()))
}

fn rs256_header_a() -> String {
    format!(r#"{{"alg":"RS256","kid":"{}","typ":"JWT"}}"#, kid_a())
}

// ---- verifier context with an in-process JWKS server ---------------------------------------------

/// An in-process JWKS endpoint: serves `body` with `status` (or fails), counts fetches.
#[derive(Clone)]
struct Server {
    body: Rc<RefCell<String>>,
    status: Rc<Cell<u16>>,
    down: Rc<Cell<bool>>,
    fetches: Rc<Cell<usize>>,
    url: String,
    /// What the verifiers of this test's contexts remember between them (its "isolate").
    state: Rc<VerifierState>,
}

impl Server {
    fn new(name: &str, body: &str) -> Server {
        Server {
            body: Rc::new(RefCell::new(body.to_owned())),
            status: Rc::new(Cell::new(200)),
            down: Rc::new(Cell::new(false)),
            fetches: Rc::new(Cell::new(0)),
            url: format!("http://127.0.0.1:9/{name}/cdn-cgi/access/certs"),
            state: Rc::new(VerifierState::new()),
        }
    }
    fn serve(&self, body: &str) {
        *self.body.borrow_mut() = body.to_owned();
    }
    fn fetcher(&self) -> Fetcher {
        let s = self.clone();
        Rc::new(move |req: OutboundRequest| -> FetchFuture {
            let s = s.clone();
            Box::pin(async move {
                s.fetches.set(s.fetches.get() + 1);
                assert_eq!(req.method, "GET");
                assert_eq!(req.url, s.url, "fetched the configured JWKS URL");
                assert_eq!(req.redirect, layers_core::outbound::RedirectMode::Manual, "a config URL never redirects");
                assert_eq!(req.max_body, Some(layers_core::identity::MAX_JWKS_LEN), "a bounded answer");
                if s.down.get() {
                    return Err("connection refused".to_owned());
                }
                Ok(OutboundResponse {
                    status: s.status.get(),
                    headers: vec![("content-type".into(), "application/json".into())],
                    body: s.body.borrow().as_bytes().to_vec(),
                })
            })
        })
    }
    fn fetches(&self) -> usize {
        self.fetches.get()
    }
    fn state(&self) -> Rc<VerifierState> {
        Rc::clone(&self.state)
    }
}

fn vars(url: String, extra: Vec<(&'static str, &'static str)>) -> impl Fn(&str) -> Option<String> {
    move |name| match name {
        "ACCESS_TEAM_DOMAIN" => Some(TEAM.to_owned()),
        "ACCESS_AUD" => Some(AUD.to_owned()),
        "ACCESS_CERTS_URL" => Some(url.clone()),
        "ADMIN_EMAILS" => Some("ada@example.com, grace@example.org".to_owned()),
        _ => extra.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned()),
    }
}

fn cx_at<'a>(server: &Server, now: u64) -> VerifyCxBuilder<'a> {
    VerifyCx::builder().now(now).vars(vars(server.url.clone(), vec![])).fetcher(server.fetcher()).state(server.state())
}

fn with_token<'a>(server: &Server, token: &str) -> VerifyCx<'a> {
    cx_at(server, NOW).header("Cf-Access-Jwt-Assertion", token).build()
}

fn verify<V: Verifier>(cx: &VerifyCx<'_>) -> Result<V::Claims, Deny> {
    block_on(V::verify(cx))
}

fn access(server: &Server, token: &str) -> Result<AccessClaims, Deny> {
    verify::<AccessJwt>(&with_token(server, token))
}

fn settings() -> AccessSettings {
    AccessSettings::new(TEAM, AUD, None, 60).unwrap()
}

/// Pure path (no cache, no fetch): token against the A+B key set.
fn pure(token: &str) -> Result<AccessClaims, Deny> {
    settings().verify(token, &Jwks::parse(JWKS_AB.as_bytes()).unwrap(), NOW)
}

#[track_caller]
fn assert_denied<T: std::fmt::Debug>(r: Result<T, Deny>, kind: DenyKind, what: &str) -> Deny {
    let d = r.expect_err(what);
    assert_eq!(d.kind(), kind, "{what}: {d:?}");
    d
}

/// A detail must not carry token contents: no segment, no kid, no claim value.
#[track_caller]
fn assert_clean(d: &Deny, token: &str) {
    let detail = d.detail();
    for seg in token.split('.').filter(|s| s.len() >= 8) {
        assert!(!detail.contains(seg), "detail leaks a token segment: {detail}");
    }
    for secretish in ["ada@example.com", "7335d417", "6ei69kawdKzMIAPF", "0123abcd.access", &kid_a(), &kid_b()] {
        assert!(!detail.contains(secretish), "detail leaks {secretish}: {detail}");
    }
}

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

// ---- algorithm confusion ------------------------------------------------------------------------

#[test]
fn attack_alg_none() {
    let payload = user_payload().to_string();
    let valid_sig = mint_a(&user_payload()).rsplit_once('.').unwrap().1.to_owned();
    for alg in ["none", "None", "NONE", "nOnE", ""] {
        let h = format!(r#"{{"alg":"{alg}","kid":"{}","typ":"JWT"}}"#, kid_a());
        for sig in ["", valid_sig.as_str()] {
            let t = format!("{}.{}.{sig}", b64(&h), b64(&payload));
            let d = assert_denied(pure(&t), DenyKind::Invalid, alg);
            assert_clean(&d, &t);
        }
    }
    // Unsecured JWS without the trailing dot, too.
    let h = format!(r#"{{"alg":"none","kid":"{}"}}"#, kid_a());
    assert_denied(pure(&format!("{}.{}", b64(&h), b64(&payload))), DenyKind::Invalid, "two segments");
}

#[test]
fn attack_hs256_keyed_with_the_rsa_public_key() {
    let public = key_a().to_public_key();
    let pem = public.to_public_key_pem(rsa::pkcs8::LineEnding::LF).unwrap();
    let der = public.to_public_key_der().unwrap();
    let pkcs1 = rsa::pkcs1::EncodeRsaPublicKey::to_pkcs1_der(&public).unwrap();
    let jwks_text = JWKS_A.to_owned();
    let payload = user_payload().to_string();
    let mut tried = 0;
    for secret in [pem.as_bytes(), der.as_bytes(), pkcs1.as_bytes(), jwks_text.as_bytes(), &public.n().to_bytes_be()] {
        let key = Hs256Key::new(secret);
        for alg in ["HS256", "RS256"] {
            // The classic confusion (alg HS256), and an HMAC passed off as RS256.
            let h = format!(r#"{{"alg":"{alg}","kid":"{}","typ":"JWT"}}"#, kid_a());
            let t = sign_raw(&Hs256, &key, &h, &payload);
            let d = assert_denied(pure(&t), DenyKind::Invalid, alg);
            assert_clean(&d, &t);
            tried += 1;
        }
    }
    assert_eq!(tried, 10);
}

#[test]
fn attack_other_rsa_algorithms() {
    let payload = user_payload().to_string();
    for (name, alg) in [
        ("RS384", Rsa::rs384()),
        ("RS512", Rsa::rs512()),
        ("PS256", Rsa::ps256()),
        ("PS384", Rsa::ps384()),
        ("PS512", Rsa::ps512()),
    ] {
        // Honestly labelled, and mislabelled as RS256: both refused.
        let honest = format!(r#"{{"alg":"{name}","kid":"{}","typ":"JWT"}}"#, kid_a());
        assert_denied(pure(&sign_raw(&alg, &key_a(), &honest, &payload)), DenyKind::Invalid, name);
        let lying = sign_raw(&alg, &key_a(), &rs256_header_a(), &payload);
        assert_denied(pure(&lying), DenyKind::Invalid, name);
    }
    // Spellings of RS256 that are not RS256, and alg of the wrong type.
    for alg in [r#""rs256""#, r#""RS256 ""#, r#"" RS256""#, r#""RS256\u0000""#, r#"["RS256"]"#, "256", "null"] {
        let h = format!(r#"{{"alg":{alg},"kid":"{}"}}"#, kid_a());
        assert_denied(pure(&sign_raw(&Rsa::rs256(), &key_a(), &h, &payload)), DenyKind::Invalid, alg);
    }
    let no_alg = format!(r#"{{"kid":"{}"}}"#, kid_a());
    assert_denied(pure(&sign_raw(&Rsa::rs256(), &key_a(), &no_alg, &payload)), DenyKind::Invalid, "no alg");
}

#[test]
fn attack_header_extensions_and_duplicates() {
    let payload = user_payload().to_string();
    let kid = kid_a();
    for h in [
        // Duplicate alg, either order; serde_json alone would keep the last one.
        format!(r#"{{"alg":"none","kid":"{kid}","alg":"RS256"}}"#),
        format!(r#"{{"alg":"RS256","kid":"{kid}","alg":"HS256"}}"#),
        format!(r#"{{"alg":"RS256","kid":"{kid}","alg":"RS256"}}"#),
        // Duplicate alg hidden behind a JSON escape ("al\u0067" is "alg").
        format!(r#"{{"alg":"RS256","kid":"{kid}","al\u0067":"none"}}"#),
        // Duplicate kid.
        format!(r#"{{"alg":"RS256","kid":"other","kid":"{kid}"}}"#),
        // Duplicate name in a nested object.
        format!(r#"{{"alg":"RS256","kid":"{kid}","x":{{"a":1,"a":2}}}}"#),
        // Extensions we do not understand.
        format!(r#"{{"alg":"RS256","kid":"{kid}","crit":["exp"],"exp":1}}"#),
        format!(r#"{{"alg":"RS256","kid":"{kid}","b64":false,"crit":["b64"]}}"#),
        format!(r#"{{"alg":"RS256","kid":"{kid}","cty":"JWT"}}"#),
    ] {
        // Correctly signed over these header bytes, and still refused.
        let t = sign_raw(&Rsa::rs256(), &key_a(), &h, &payload);
        assert_denied(pure(&t), DenyKind::Invalid, &h);
    }
    // jku/x5u/jwk are never followed: a token naming another key source still needs our key.
    let foreign = format!(
        r#"{{"alg":"RS256","kid":"{}","jku":"https://evil.example/jwks","x5u":"https://evil.example/c"}}"#,
        kid_b()
    );
    let server = Server::new("jku", JWKS_A);
    let t = sign_raw(&Rsa::rs256(), &key_b(), &foreign, &payload);
    assert_denied(access(&server, &t), DenyKind::Invalid, "jku");
    // With our key, such a header is just ignored.
    let ours = format!(r#"{{"alg":"RS256","kid":"{kid}","jku":"https://evil.example/jwks"}}"#);
    access(&server, &sign_raw(&Rsa::rs256(), &key_a(), &ours, &payload)).unwrap();
}

#[test]
fn attack_duplicate_claims_in_signed_payload() {
    for p in [
        format!(
            r#"{{"email":"eve@example.com","email":"ada@example.com","aud":["{AUD}"],"iss":"{ISS}","exp":{},"type":"app","sub":"x"}}"#,
            NOW + 60
        ),
        format!(
            r#"{{"email":"ada@example.com","aud":["{AUD}"],"iss":"{ISS}","exp":1,"exp":{},"type":"app","sub":"x"}}"#,
            NOW + 60
        ),
        format!(
            r#"{{"email":"ada@example.com","aud":"other","aud":["{AUD}"],"iss":"{ISS}","exp":{},"type":"app","sub":"x"}}"#,
            NOW + 60
        ),
    ] {
        let t = sign_raw(&Rsa::rs256(), &key_a(), &rs256_header_a(), &p);
        assert_denied(pure(&t), DenyKind::Invalid, &p);
    }
}

// ---- kid ----------------------------------------------------------------------------------------

#[test]
fn unknown_kid_refetches_once_per_interval() {
    let server = Server::new("unknown-kid", JWKS_A);
    access(&server, &mint_a(&user_payload())).unwrap();
    assert_eq!(server.fetches(), 1);
    // 100 s later (past the 30 s refetch interval, within the 600 s TTL): an unknown kid
    // causes exactly one refetch, then 403.
    let later = NOW + 100;
    let unknown = mint(&key_a(), "no-such-kid-1", &user_payload());
    let cx = cx_at(&server, later).header("Cf-Access-Jwt-Assertion", &unknown).build();
    assert_denied(verify::<AccessJwt>(&cx), DenyKind::Invalid, "unknown kid");
    assert_eq!(server.fetches(), 2);
    // Another unknown kid within the interval: no new fetch.
    let other = mint(&key_a(), "no-such-kid-2", &user_payload());
    for t in [later + 1, later + 29] {
        let cx = cx_at(&server, t).header("Cf-Access-Jwt-Assertion", &other).build();
        assert_denied(verify::<AccessJwt>(&cx), DenyKind::Invalid, "second unknown kid");
    }
    assert_eq!(server.fetches(), 2);
    // Known kids keep working from the cache meanwhile.
    let cx = cx_at(&server, later + 5).header("Cf-Access-Jwt-Assertion", &mint_a(&user_payload())).build();
    verify::<AccessJwt>(&cx).unwrap();
    assert_eq!(server.fetches(), 2);
    // After the interval, one more refetch is allowed.
    let cx = cx_at(&server, later + 30).header("Cf-Access-Jwt-Assertion", &other).build();
    assert_denied(verify::<AccessJwt>(&cx), DenyKind::Invalid, "unknown kid after interval");
    assert_eq!(server.fetches(), 3);
}

#[test]
fn unknown_kid_after_a_failed_refetch_is_503_not_403() {
    // Keys cached, then the JWKS server goes down and a new key appears: nobody can decide
    // whether the new kid is genuine until a fetch succeeds, so the answer is 503 throughout
    // the rate-limit interval — never a 403 that would reject a legitimate rotation.
    let server = Server::new("failed-refetch", JWKS_A);
    access(&server, &mint_a(&user_payload())).unwrap();
    server.down.set(true);
    let later = NOW + 40;
    let new_kid = mint(&key_b(), &kid_b(), &user_payload());
    for t in [later, later + 1, later + 5] {
        let cx = cx_at(&server, t).header("Cf-Access-Jwt-Assertion", &new_kid).build();
        assert_denied(verify::<AccessJwt>(&cx), DenyKind::Unavailable, "kid unknown while the JWKS is down");
    }
    assert_eq!(server.fetches(), 2, "one refetch, then rate-limited");
    // Known kids still pass from the cache meanwhile.
    let cx = cx_at(&server, later + 5).header("Cf-Access-Jwt-Assertion", &mint_a(&user_payload())).build();
    verify::<AccessJwt>(&cx).unwrap();
    // Back up with both keys: after the interval the new kid is fetched and accepted.
    server.down.set(false);
    server.serve(JWKS_AB);
    let cx = cx_at(&server, later + 31).header("Cf-Access-Jwt-Assertion", &new_kid).build();
    verify::<AccessJwt>(&cx).unwrap();
    assert_eq!(server.fetches(), 3);
}

#[test]
fn attack_hostile_kids() {
    let server = Server::new("hostile-kid", JWKS_A);
    access(&server, &mint_a(&user_payload())).unwrap();
    let payload = user_payload().to_string();
    let long = "k".repeat(10 * 1024);
    let kids: Vec<(String, &str)> = vec![
        (json!("../../../../etc/passwd").to_string(), "path traversal"),
        (json!("..\\..\\windows\\win.ini").to_string(), "backslash traversal"),
        (json!("' OR 1=1 --").to_string(), "SQL injection"),
        (json!("\" OR \"\"=\"").to_string(), "quote injection"),
        (json!("%2e%2e%2f").to_string(), "encoded traversal"),
        (json!("https://evil.example/key.pem").to_string(), "URL"),
        (json!("k\u{0}").to_string(), "NUL"),
        (json!("kid\nx").to_string(), "newline"),
        (json!("ключ").to_string(), "non-ASCII"),
        (json!("").to_string(), "empty"),
        (json!("k".repeat(129)).to_string(), "129 bytes"),
        (json!(long).to_string(), "10 KiB"),
        ("123".into(), "number"),
        ("null".into(), "null"),
        (format!(r#"["{}"]"#, kid_a()), "array holding the right kid"),
        (format!(r#"{{"kid":"{}"}}"#, kid_a()), "object"),
    ];
    for (kid, what) in &kids {
        let h = format!(r#"{{"alg":"RS256","kid":{kid}}}"#);
        let t = sign_raw(&Rsa::rs256(), &key_a(), &h, &payload);
        let d = assert_denied(access(&server, &t), DenyKind::Invalid, what);
        assert_clean(&d, &t);
        assert!(!d.detail().contains("passwd") && !d.detail().contains("OR 1=1"), "{what}: {}", d.detail());
    }
    let no_kid = sign_raw(&Rsa::rs256(), &key_a(), r#"{"alg":"RS256"}"#, &payload);
    assert_denied(access(&server, &no_kid), DenyKind::Invalid, "no kid");
    // All at the warm-up instant: the rate limit allowed no refetch for any of them, and
    // malformed kids never reach the key lookup at all.
    assert_eq!(server.fetches(), 1);
}

// ---- time ---------------------------------------------------------------------------------------

fn with(mut p: Value, name: &str, v: Value) -> Value {
    p[name] = v;
    p
}

#[test]
fn expiry_with_leeway() {
    let ok = |exp: u64| pure(&mint_a(&with(user_payload(), "exp", json!(exp))));
    ok(NOW + 1).unwrap();
    ok(NOW).unwrap();
    ok(NOW - 60).unwrap(); // within the 60 s leeway
    let d = assert_denied(ok(NOW - 61), DenyKind::Invalid, "expired");
    assert!(d.detail().contains("expired"), "{}", d.detail());
    assert_denied(ok(0), DenyKind::Invalid, "exp 0");
    let mut p = user_payload();
    p.as_object_mut().unwrap().remove("exp");
    let d = assert_denied(pure(&mint_a(&p)), DenyKind::Invalid, "no exp");
    assert!(d.detail().contains("exp"), "{}", d.detail());
    for bad in [json!("1900000000"), json!(null), json!(true), json!([NOW + 60]), json!(1e300), json!(-1e300)] {
        assert_denied(pure(&mint_a(&with(user_payload(), "exp", bad.clone()))), DenyKind::Invalid, &bad.to_string());
    }
}

#[test]
fn not_before_and_issued_at() {
    let nbf = |v: u64| pure(&mint_a(&with(user_payload(), "nbf", json!(v))));
    nbf(NOW + 60).unwrap();
    let d = assert_denied(nbf(NOW + 61), DenyKind::Invalid, "nbf in the future");
    assert!(d.detail().contains("nbf"), "{}", d.detail());
    let iat = |v: u64| pure(&mint_a(&with(user_payload(), "iat", json!(v))));
    iat(NOW + 60).unwrap();
    let d = assert_denied(iat(NOW + 61), DenyKind::Invalid, "iat in the future");
    assert!(d.detail().contains("iat"), "{}", d.detail());
    // Absent nbf/iat are fine.
    let mut p = user_payload();
    p.as_object_mut().unwrap().remove("nbf");
    p.as_object_mut().unwrap().remove("iat");
    pure(&mint_a(&p)).unwrap();
}

#[test]
fn extreme_timestamps_do_not_panic() {
    // chrono's limits: jwt-compact 0.8's `validate_maturity` computes `nbf - leeway` with
    // chrono's panicking `Sub` — our integer checks saturate instead.
    let min = -8_334_601_228_800_i64; // 0001-01-01 minus ~262k years: near chrono's MIN_UTC
    let max = 8_210_266_876_799_i64;
    for (name, v) in [("nbf", min), ("nbf", max), ("iat", min), ("iat", max), ("exp", min), ("exp", max)] {
        let _ = pure(&mint_a(&with(user_payload(), name, json!(v))));
    }
    for v in [i64::MIN, i64::MAX] {
        let _ = pure(&mint_a(&with(user_payload(), "nbf", json!(v))));
    }
    let far = with(user_payload(), "exp", json!(max));
    pure(&mint_a(&far)).unwrap();
}

// ---- aud, iss -----------------------------------------------------------------------------------

#[test]
fn audience() {
    let aud = |v: Value| pure(&mint_a(&with(user_payload(), "aud", v)));
    aud(json!(AUD)).unwrap(); // a string
    aud(json!([AUD])).unwrap(); // an array
    aud(json!(["another-app", AUD])).unwrap();
    for bad in [
        json!("another-app"),
        json!(["another-app"]),
        json!([]),
        json!(AUD.to_uppercase()),
        json!(format!("{AUD} ")),
        json!([[AUD]]),
        json!([AUD, 1]),
        json!({ "aud": AUD }),
        json!(null),
        json!(1),
    ] {
        assert_denied(aud(bad.clone()), DenyKind::Invalid, &bad.to_string());
    }
    let mut p = user_payload();
    p.as_object_mut().unwrap().remove("aud");
    assert_denied(pure(&mint_a(&p)), DenyKind::Invalid, "no aud");
    // Several AUDs configured (one Worker, two Access apps).
    let two = AccessSettings::new(TEAM, &format!("other-app, {AUD}"), None, 60).unwrap();
    let a = Jwks::parse(JWKS_A.as_bytes()).unwrap();
    two.verify(&mint_a(&user_payload()), &a, NOW).unwrap();
}

#[test]
fn issuer() {
    let iss = |v: Value| pure(&mint_a(&with(user_payload(), "iss", v)));
    iss(json!(ISS)).unwrap();
    for bad in [
        json!(format!("{ISS}/")),
        json!("http://layers-test.cloudflareaccess.com"),
        json!("https://other-team.cloudflareaccess.com"),
        json!("https://layers-test.cloudflareaccess.com.evil.example"),
        json!("https://LAYERS-TEST.cloudflareaccess.com"),
        json!(TEAM),
        json!(""),
        json!([ISS]),
        json!(null),
    ] {
        assert_denied(iss(bad.clone()), DenyKind::Invalid, &bad.to_string());
    }
    let mut p = user_payload();
    p.as_object_mut().unwrap().remove("iss");
    assert_denied(pure(&mint_a(&p)), DenyKind::Invalid, "no iss");
    // The team var may be written several ways; the issuer is the same.
    let a = Jwks::parse(JWKS_A.as_bytes()).unwrap();
    for team in [
        TEAM,
        "https://layers-test.cloudflareaccess.com",
        "https://layers-test.cloudflareaccess.com/",
        " Layers-Test.CloudflareAccess.com ",
    ] {
        let s = AccessSettings::new(team, AUD, None, 60).unwrap();
        assert_eq!(s.issuer(), ISS, "{team}");
        assert_eq!(s.certs_url(), "https://layers-test.cloudflareaccess.com/cdn-cgi/access/certs");
        s.verify(&mint_a(&user_payload()), &a, NOW).unwrap();
    }
}

#[test]
fn configuration_fails_closed() {
    let t = mint_a(&user_payload());
    let server = Server::new("config", JWKS_A);
    let run = |vars: Vec<(&'static str, &'static str)>| {
        let lookup = move |n: &str| vars.iter().find(|(k, _)| *k == n).map(|(_, v)| (*v).to_owned());
        let cx = VerifyCx::builder()
            .now(NOW)
            .vars(lookup)
            .fetcher(server.fetcher())
            .state(server.state())
            .header("Cf-Access-Jwt-Assertion", &t)
            .build();
        verify::<AccessJwt>(&cx)
    };
    let url: &'static str = Box::leak(server.url.clone().into_boxed_str());
    assert!(run(vec![("ACCESS_TEAM_DOMAIN", TEAM), ("ACCESS_AUD", AUD), ("ACCESS_CERTS_URL", url)]).is_ok());
    for (vars, what) in [
        (vec![("ACCESS_AUD", AUD), ("ACCESS_CERTS_URL", url)], "no team"),
        (vec![("ACCESS_TEAM_DOMAIN", TEAM), ("ACCESS_CERTS_URL", url)], "no AUD"),
        (vec![("ACCESS_TEAM_DOMAIN", TEAM), ("ACCESS_AUD", " , "), ("ACCESS_CERTS_URL", url)], "empty AUD"),
        (vec![("ACCESS_TEAM_DOMAIN", "http://x.cloudflareaccess.com"), ("ACCESS_AUD", AUD)], "http team"),
        (vec![("ACCESS_TEAM_DOMAIN", "team/../x"), ("ACCESS_AUD", AUD)], "path in team"),
        (vec![("ACCESS_TEAM_DOMAIN", "user@evil.example"), ("ACCESS_AUD", AUD)], "userinfo in team"),
        (
            vec![("ACCESS_TEAM_DOMAIN", TEAM), ("ACCESS_AUD", AUD), ("ACCESS_CERTS_URL", "http://evil.example/certs")],
            "http JWKS off loopback",
        ),
        (
            vec![
                ("ACCESS_TEAM_DOMAIN", TEAM),
                ("ACCESS_AUD", AUD),
                ("ACCESS_CERTS_URL", "http://127.0.0.1.evil.example/certs"),
            ],
            "loopback lookalike",
        ),
        (
            vec![("ACCESS_TEAM_DOMAIN", TEAM), ("ACCESS_AUD", AUD), ("ACCESS_CERTS_URL", "ftp://127.0.0.1/certs")],
            "ftp JWKS",
        ),
    ] {
        assert_denied(run(vars), DenyKind::Unavailable, what);
    }
    // Configuration is checked before the token: a misconfigured app answers 503 even to
    // requests without credentials.
    let cx = VerifyCx::builder().now(NOW).build();
    assert_denied(verify::<AccessJwt>(&cx), DenyKind::Unavailable, "nothing configured");
    assert_eq!(server.fetches(), 1);
}

// ---- signature, shape -----------------------------------------------------------------------------

#[test]
fn attack_every_signature_byte_flipped() {
    let t = mint_a(&user_payload());
    pure(&t).unwrap();
    let (signed, sig) = t.rsplit_once('.').unwrap();
    let raw = URL_SAFE_NO_PAD.decode(sig).unwrap();
    assert_eq!(raw.len(), 256);
    for i in 0..raw.len() {
        for bit in [0x01_u8, 0x80] {
            let mut v = raw.clone();
            v[i] ^= bit;
            let forged = format!("{signed}.{}", b64(&v));
            assert_denied(pure(&forged), DenyKind::Invalid, &format!("byte {i} ^ {bit:#x}"));
        }
    }
    // Signature too short / too long / empty / of the other key.
    for v in [&raw[..255], &[raw.as_slice(), &[0]].concat()[..], &[][..]] {
        assert_denied(pure(&format!("{signed}.{}", b64(v))), DenyKind::Invalid, "signature length");
    }
    let by_b = sign_raw(&Rsa::rs256(), &key_b(), &rs256_header_a(), &user_payload().to_string());
    assert_denied(pure(&by_b), DenyKind::Invalid, "B's signature under A's kid");
}

#[test]
fn attack_payload_tampering() {
    let t = mint_a(&user_payload());
    let (h, rest) = t.split_once('.').unwrap();
    let sig = rest.rsplit_once('.').unwrap().1;
    for p in [
        with(user_payload(), "email", json!("eve@example.com")),
        with(user_payload(), "exp", json!(NOW + 86_400 * 365)),
        with(service_payload(), "common_name", json!("other")),
    ] {
        let forged = format!("{h}.{}.{sig}", b64(p.to_string()));
        assert_denied(pure(&forged), DenyKind::Invalid, "swapped payload");
    }
}

#[test]
fn attack_malformed_tokens() {
    let t = mint_a(&user_payload());
    let (h, rest) = t.split_once('.').unwrap();
    let (p, s) = rest.split_once('.').unwrap();
    let mut cases: Vec<(String, String)> = Vec::new();
    // Truncated anywhere.
    for n in (1..t.len()).step_by(37).chain([t.len() - 1, h.len(), h.len() + 1, h.len() + 1 + p.len() + 1]) {
        cases.push((t[..n].to_owned(), format!("truncated at {n}")));
    }
    // Segment count.
    cases.push((format!("{h}.{p}"), "two segments".into()));
    cases.push((format!("{h}.{p}.{s}.{s}"), "four segments".into()));
    cases.push((format!("{h}.{p}.{s}.{s}.{s}"), "JWE-shaped".into()));
    cases.push((format!("{t}."), "trailing dot".into()));
    cases.push((format!(".{t}"), "leading dot".into()));
    cases.push((format!("{h}..{s}"), "empty payload".into()));
    cases.push((format!(".{p}.{s}"), "empty header".into()));
    // Not base64url: standard alphabet, padding, spaces, percent-encoding.
    let std_b64 = base64::engine::general_purpose::STANDARD.encode(rs256_header_a().as_bytes());
    cases.push((format!("{std_b64}.{p}.{s}"), "padded standard base64 header".into()));
    cases.push((format!("{h}=.{p}.{s}"), "padding".into()));
    cases.push((format!("{}+/.{p}.{s}", &h[..h.len() - 2]), "+/ in header".into()));
    cases.push((format!("{h} .{p}.{s}"), "inner space".into()));
    cases.push((format!("{h}%3D.{p}.{s}"), "percent".into()));
    cases.push((format!("{h}.{p}=.{s}"), "padded payload".into()));
    cases.push((format!("{h}.{p}.{s}="), "padded signature".into()));
    cases.push((format!("{h}.{p}.{}", s.replace('-', "+").replace('_', "/")), "std alphabet signature".into()));
    // Not JSON, or not an object.
    for header in
        ["not json", "[]", r#""RS256""#, "null", "{", r#"{"alg":"RS256"} trailing"#, "{\"alg\":\"RS256\",}", ""]
    {
        cases.push((format!("{}.{p}.{s}", b64(header)), format!("header {header:?}")));
    }
    cases.push((format!("{}.{p}.{s}", b64([0xff, 0xfe, b'{', b'}'])), "header not UTF-8".into()));
    for payload in ["not json", "[]", "null", "{", "\u{feff}{}"] {
        cases.push((sign_raw(&Rsa::rs256(), &key_a(), &rs256_header_a(), payload), format!("payload {payload:?}")));
    }
    // Surrounding whitespace is HTTP's (the header value is trimmed); the token itself has none.
    assert_denied(pure(&format!(" {t}")), DenyKind::Invalid, "leading space");
    // Oversized: refused before decoding.
    let big = format!("{h}.{}.{s}", b64(with(user_payload(), "pad", json!("x".repeat(8 * 1024))).to_string()));
    cases.push((big, "oversized".into()));
    let server = Server::new("malformed", JWKS_A);
    for (token, what) in &cases {
        let d = assert_denied(pure(token), DenyKind::Invalid, what);
        assert_clean(&d, token);
        assert_denied(access(&server, token), DenyKind::Invalid, what);
    }
    // Header-valid ones (bad signature or payload encoding) fetched the keys once, then hit the cache.
    assert!(server.fetches() <= 1, "{}", server.fetches());
    assert!(cases.len() > 40, "{}", cases.len());
}

#[test]
fn oversized_token_is_refused_unread() {
    let server = Server::new("oversized", JWKS_A);
    let t = "a".repeat(8 * 1024 + 1);
    let d = assert_denied(access(&server, &t), DenyKind::Invalid, "8 KiB + 1");
    assert!(d.detail().contains("longer than"), "{}", d.detail());
    // Exactly at the limit is parsed (and refused for being garbage, not for its size).
    let d = assert_denied(access(&server, &"a".repeat(8 * 1024)), DenyKind::Invalid, "8 KiB");
    assert!(!d.detail().contains("longer than"), "{}", d.detail());
    assert_eq!(server.fetches(), 0);
}

// ---- JWKS: failures, garbage, rotation --------------------------------------------------------

#[test]
fn jwks_unreachable_is_503_and_retried_after_the_interval() {
    let server = Server::new("jwks-down", JWKS_A);
    server.down.set(true);
    let t = mint_a(&user_payload());
    let d = assert_denied(access(&server, &t), DenyKind::Unavailable, "JWKS down");
    assert_clean(&d, &t);
    assert_eq!(server.fetches(), 1);
    // Within the interval: still 503, without hammering the key server.
    let cx = cx_at(&server, NOW + 10).header("Cf-Access-Jwt-Assertion", &t).build();
    assert_denied(verify::<AccessJwt>(&cx), DenyKind::Unavailable, "still down");
    assert_eq!(server.fetches(), 1);
    // Back up, after the interval: recovers.
    server.down.set(false);
    let cx = cx_at(&server, NOW + 30).header("Cf-Access-Jwt-Assertion", &t).build();
    verify::<AccessJwt>(&cx).unwrap();
    assert_eq!(server.fetches(), 2);
}

#[test]
fn jwks_bad_status_or_garbage_is_503() {
    let t = mint_a(&user_payload());
    for (i, status) in [500_u16, 404, 403, 301, 204, 201].into_iter().enumerate() {
        let server = Server::new(&format!("jwks-status-{i}"), JWKS_A);
        server.status.set(status);
        assert_denied(access(&server, &t), DenyKind::Unavailable, &status.to_string());
    }
    let weak = {
        // A 1024-bit key is refused even when it is the only one.
        let k = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 1024).unwrap().to_public_key();
        format!(
            r#"{{"keys":[{{"kid":"{}","kty":"RSA","alg":"RS256","use":"sig","e":"AQAB","n":"{}"}}]}}"#,
            kid_a(),
            b64(k.n().to_bytes_be())
        )
    };
    let a = Jwks::parse(JWKS_A.as_bytes()).unwrap();
    let n = b64(a.get(&kid_a()).unwrap().n().to_bytes_be());
    let garbage = [
        "".to_owned(),
        "<html>502 Bad Gateway</html>".to_owned(),
        "null".to_owned(),
        "[]".to_owned(),
        r#"{"keys":"nope"}"#.to_owned(),
        r#"{"keys":[]}"#.to_owned(),
        r#"{"public_cert":{"kid":"x","cert":"-----BEGIN CERTIFICATE-----"}}"#.to_owned(),
        format!(r#"{{"keys":[{{"kty":"EC","kid":"{}","crv":"P-256","x":"AA","y":"AA"}}]}}"#, kid_a()),
        format!(r#"{{"keys":[{{"kty":"oct","kid":"{}","k":"c2VjcmV0"}}]}}"#, kid_a()),
        format!(r#"{{"keys":[{{"kty":"RSA","kid":"{}","use":"enc","e":"AQAB","n":"{n}"}}]}}"#, kid_a()),
        format!(r#"{{"keys":[{{"kty":"RSA","kid":"{}","alg":"RS384","e":"AQAB","n":"{n}"}}]}}"#, kid_a()),
        format!(r#"{{"keys":[{{"kty":"RSA","e":"AQAB","n":"{n}"}}]}}"#),
        format!(r#"{{"keys":[{{"kty":"RSA","kid":"{}","e":"AQAB","n":"not base64!"}}]}}"#, kid_a()),
        format!(r#"{{"keys":[{{"kty":"RSA","kid":"{}","e":"AQAB"}}]}}"#, kid_a()),
        weak,
        JWKS_A[..JWKS_A.len() / 2].to_owned(),
        format!("{{\"keys\":[{}]}}", "{},".repeat(300_000)),
    ];
    for (i, body) in garbage.iter().enumerate() {
        let server = Server::new(&format!("jwks-garbage-{i}"), body);
        let d = assert_denied(access(&server, &t), DenyKind::Unavailable, &format!("garbage #{i}"));
        assert_clean(&d, &t);
        assert!(Jwks::parse(body.as_bytes()).is_err(), "garbage #{i} parsed");
        assert_denied(settings().verify_with_jwks(&t, body.as_bytes(), NOW), DenyKind::Unavailable, "pure");
    }
}

#[test]
fn jwks_parser_keeps_only_usable_keys() {
    let a = jwk_json(PEM_A);
    let b = jwk_json(PEM_B);
    let kb = kid_b();
    let b_as_enc = b.replace(r#""use":"sig""#, r#""use":"enc""#);
    let a_bare: Value = serde_json::from_str(&a).unwrap();
    let bare = json!({"kid": "bare", "kty": "RSA", "n": a_bare["n"], "e": a_bare["e"]});
    let doc = format!(
        r#"{{"keys":[{b_as_enc},{a},{{"kty":"EC","kid":"ec"}},{bare},{b}],"public_cert":{{"kid":"{kb}","cert":"x"}},"public_certs":[]}}"#
    );
    let jwks = Jwks::parse(doc.as_bytes()).unwrap();
    // B appears first as an encryption key (skipped), then as a signing key (kept).
    assert_eq!(jwks.kids().collect::<Vec<_>>(), [kid_a(), "bare".to_owned(), kb.clone()]);
    assert_eq!(jwks.len(), 3);
    // A repeated kid keeps the first key.
    let dup = format!(r#"{{"keys":[{a},{}]}}"#, b.replace(&kb, &kid_a()));
    let jwks = Jwks::parse(dup.as_bytes()).unwrap();
    assert_eq!(jwks.len(), 1);
    pure(&mint_a(&user_payload())).unwrap();
    settings().verify(&mint_a(&user_payload()), &jwks, NOW).unwrap();
}

#[test]
fn refetch_failure_keeps_fresh_cached_keys() {
    let server = Server::new("keep-cache", JWKS_A);
    let t = mint_a(&with(user_payload(), "exp", json!(NOW + 10_000)));
    access(&server, &t).unwrap();
    server.down.set(true);
    // Unknown kid after the interval: the refetch fails → 503 (cannot decide), cache kept.
    let unknown = mint(&key_b(), &kid_b(), &user_payload());
    let cx = cx_at(&server, NOW + 100).header("Cf-Access-Jwt-Assertion", &unknown).build();
    assert_denied(verify::<AccessJwt>(&cx), DenyKind::Unavailable, "refetch failed");
    assert_eq!(server.fetches(), 2);
    // Known kid, still within TTL: served from the cache, no fetch.
    let cx = cx_at(&server, NOW + 599).header("Cf-Access-Jwt-Assertion", &t).build();
    verify::<AccessJwt>(&cx).unwrap();
    assert_eq!(server.fetches(), 2);
    // Past the TTL with the server still down: no usable keys → 503.
    let cx = cx_at(&server, NOW + 600).header("Cf-Access-Jwt-Assertion", &t).build();
    assert_denied(verify::<AccessJwt>(&cx), DenyKind::Unavailable, "stale and down");
    assert_eq!(server.fetches(), 3);
    // A refetch that answers garbage does not replace good keys either.
    let server = Server::new("keep-cache-garbage", JWKS_A);
    access(&server, &t).unwrap();
    server.serve(r#"{"keys":[]}"#);
    let cx = cx_at(&server, NOW + 100).header("Cf-Access-Jwt-Assertion", &unknown).build();
    assert_denied(verify::<AccessJwt>(&cx), DenyKind::Unavailable, "garbage refetch");
    let cx = cx_at(&server, NOW + 101).header("Cf-Access-Jwt-Assertion", &t).build();
    verify::<AccessJwt>(&cx).unwrap();
}

/// Pending once, then ready: lets two verifications interleave around a fetch.
struct YieldOnce(bool);
impl std::future::Future for YieldOnce {
    type Output = ();
    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        if self.0 {
            std::task::Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    }
}

#[test]
fn concurrent_cold_requests_share_one_fetch() {
    // Fifty requests in one cold isolate: one JWKS fetch, which the others wait on — none is
    // refused (or told a fetch "failed") while it is in flight.
    let server = Server::new("concurrent", JWKS_A);
    let inner = server.fetcher();
    let slow: Fetcher = Rc::new(move |req: OutboundRequest| -> FetchFuture {
        let f = inner(req);
        Box::pin(async move {
            YieldOnce(false).await;
            f.await
        })
    });
    let t = mint_a(&user_payload());
    let cx = || {
        VerifyCx::builder()
            .now(NOW)
            .vars(vars(server.url.clone(), vec![]))
            .fetcher(Rc::clone(&slow))
            .state(server.state())
            .header("Cf-Access-Jwt-Assertion", &t)
            .build()
    };
    let cxs: Vec<_> = (0..50).map(|_| cx()).collect();
    let results = block_on(futures::future::join_all(cxs.iter().map(|c| <AccessJwt>::verify(c))));
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(server.fetches(), 1, "one fetch for all fifty");
    // Then the cache serves them.
    verify::<AccessJwt>(&cx()).unwrap();
    assert_eq!(server.fetches(), 1);

    // A fetch that fails fails every request that waited on it (503, none a 403), once.
    let down = Server::new("concurrent-down", JWKS_A);
    down.down.set(true);
    let inner = down.fetcher();
    let slow: Fetcher = Rc::new(move |req: OutboundRequest| -> FetchFuture {
        let f = inner(req);
        Box::pin(async move {
            YieldOnce(false).await;
            f.await
        })
    });
    let cxs: Vec<_> = (0..20)
        .map(|_| {
            VerifyCx::builder()
                .now(NOW)
                .vars(vars(down.url.clone(), vec![]))
                .fetcher(Rc::clone(&slow))
                .state(down.state())
                .header("Cf-Access-Jwt-Assertion", &t)
                .build()
        })
        .collect();
    let results = block_on(futures::future::join_all(cxs.iter().map(|c| <AccessJwt>::verify(c))));
    for r in results {
        assert_eq!(r.expect_err("keys unreachable").kind(), DenyKind::Unavailable);
    }
    assert_eq!(down.fetches(), 1);
}

#[test]
fn key_rotation() {
    let server = Server::new("rotation", JWKS_A);
    let t0 = NOW;
    let by_a = |now: u64| mint(&key_a(), &kid_a(), &with(user_payload(), "exp", json!(now + 300)));
    let by_b = |now: u64| mint(&key_b(), &kid_b(), &with(user_payload(), "exp", json!(now + 300)));
    let run = |now: u64, token: &str| {
        let cx = cx_at(&server, now).header("Cf-Access-Jwt-Assertion", token).build();
        verify::<AccessJwt>(&cx)
    };
    // Cache holds A.
    run(t0, &by_a(t0)).unwrap();
    assert_eq!(server.fetches(), 1);
    // Access rotates: publishes A (previous) and B (current). A B-signed token arrives:
    // unknown kid → one refetch → B is known → 200.
    server.serve(JWKS_AB);
    run(t0 + 100, &by_b(t0 + 100)).unwrap();
    assert_eq!(server.fetches(), 2);
    // Both verify from the cache now.
    run(t0 + 200, &by_a(t0 + 200)).unwrap();
    run(t0 + 200, &by_b(t0 + 200)).unwrap();
    assert_eq!(server.fetches(), 2);
    // Access drops A. Within the TTL the cache still holds A…
    server.serve(JWKS_B);
    run(t0 + 650, &by_a(t0 + 650)).unwrap();
    assert_eq!(server.fetches(), 2);
    // …and once the TTL has passed, the refetch drops it: A-signed tokens are refused.
    let later = t0 + 100 + 600;
    assert_denied(run(later, &by_a(later)), DenyKind::Invalid, "A after rotation");
    assert_eq!(server.fetches(), 3);
    run(later + 1, &by_b(later + 1)).unwrap();
    assert_denied(run(later + 1000, &by_a(later + 1000)), DenyKind::Invalid, "A much later");
}

#[test]
fn custom_config_reads_its_own_vars() {
    struct Staff;
    impl AccessConfig for Staff {
        const TEAM_DOMAIN_VAR: &'static str = "STAFF_TEAM";
        const AUD_VAR: &'static str = "STAFF_AUD";
        const CERTS_URL_VAR: &'static str = "STAFF_CERTS";
        const LEEWAY_SECS: u64 = 0;
        const NAME: &'static str = "Staff";
    }
    let server = Server::new("custom-config", JWKS_A);
    let url = server.url.clone();
    let cx = |token: &str| {
        let url = url.clone();
        VerifyCx::builder()
            .now(NOW)
            .vars(move |n| match n {
                "STAFF_TEAM" => Some(format!("https://{TEAM}/")),
                "STAFF_AUD" => Some(AUD.to_owned()),
                "STAFF_CERTS" => Some(url.clone()),
                _ => None,
            })
            .fetcher(server.fetcher())
            .state(server.state())
            .header("cf-access-jwt-assertion", token)
            .build()
    };
    assert_eq!(<AccessJwt<Staff> as Verifier>::NAME, "Staff");
    verify::<AccessJwt<Staff>>(&cx(&mint_a(&user_payload()))).unwrap();
    // Zero leeway: one second past exp is too late.
    let late = mint_a(&with(user_payload(), "exp", json!(NOW - 1)));
    assert_denied(verify::<AccessJwt<Staff>>(&cx(&late)), DenyKind::Invalid, "no leeway");
    // The default config does not see these vars.
    assert_denied(verify::<AccessJwt>(&cx(&mint_a(&user_payload()))), DenyKind::Unavailable, "default vars unset");
}

// ---- policies -------------------------------------------------------------------------------------

type Admin = Guarded<AccessJwt, EmailAllowlist>;

fn admin_cx<'a>(server: &Server, token: &str, emails: Option<&'static str>) -> VerifyCx<'a> {
    let url = server.url.clone();
    VerifyCx::builder()
        .now(NOW)
        .vars(move |n| match n {
            "ADMIN_EMAILS" => emails.map(str::to_owned),
            other => vars(url.clone(), vec![])(other),
        })
        .fetcher(server.fetcher())
        .state(server.state())
        .header("Cf-Access-Jwt-Assertion", token)
        .build()
}

#[test]
fn email_allowlist_policy() {
    let server = Server::new("allowlist", JWKS_A);
    let user = |email: &str| mint_a(&with(user_payload(), "email", json!(email)));
    let list = Some("ada@example.com, grace@example.org\n*@ops.example.net");
    assert_eq!(<Admin as Verifier>::NAME, "AccessJwt+EmailAllowlist");
    let c = verify::<Admin>(&admin_cx(&server, &user("ada@example.com"), list)).unwrap();
    assert_eq!(c.email(), Some("ada@example.com"));
    verify::<Admin>(&admin_cx(&server, &user("Grace@Example.ORG"), list)).unwrap();
    verify::<Admin>(&admin_cx(&server, &user("anyone@ops.example.net"), list)).unwrap();
    verify::<Admin>(&admin_cx(&server, &user("ANYONE@OPS.EXAMPLE.NET"), list)).unwrap();
    for email in [
        "eve@example.com",
        "ada@example.com.evil.example",
        "ada@example.co",
        "xada@example.com",
        "ada@example.com ",
        "a\u{212a}a@example.com", // Kelvin sign: lower-cases to 'k' under Unicode folding
        "anyone@sub.ops.example.net",
        "anyone@ops.example.net.evil",
        "@ops.example.net",
        "ops.example.net",
    ] {
        let d = assert_denied(verify::<Admin>(&admin_cx(&server, &user(email), list)), DenyKind::Invalid, email);
        assert!(!d.detail().contains(email.trim()), "detail names the email: {}", d.detail());
    }
    // Unicode case folding must not merge addresses: "\u{212a}" (Kelvin) vs "k".
    let kelvin = Some("\u{212a}im@example.com");
    assert_denied(verify::<Admin>(&admin_cx(&server, &user("kim@example.com"), kelvin)), DenyKind::Invalid, "kelvin");
    // Service tokens carry no email: 403.
    let svc = mint_a(&service_payload());
    assert_denied(verify::<Admin>(&admin_cx(&server, &svc, list)), DenyKind::Invalid, "service token");
    // Var missing or unusable: 503.
    let ada = user("ada@example.com");
    assert_denied(verify::<Admin>(&admin_cx(&server, &ada, None)), DenyKind::Unavailable, "no ADMIN_EMAILS");
    for bad in ["", " , ", "*", "*@", "admin", "ada@example.com,*", "a*@example.com", "*@*.example.com", "@example.com"]
    {
        let leaked: &'static str = Box::leak(bad.to_owned().into_boxed_str());
        assert_denied(verify::<Admin>(&admin_cx(&server, &ada, Some(leaked))), DenyKind::Unavailable, bad);
    }
    // The verifier's own refusals pass through unchanged.
    let no_token = VerifyCx::builder()
        .now(NOW)
        .vars(vars(server.url.clone(), vec![]))
        .fetcher(server.fetcher())
        .state(server.state())
        .build();
    assert_denied(verify::<Admin>(&no_token), DenyKind::Missing, "no token");
    assert_denied(verify::<Admin>(&admin_cx(&server, "x.y.z", list)), DenyKind::Invalid, "garbage token");
}

struct Editors;
impl AllowlistConfig for Editors {
    const VAR: &'static str = "EDITOR_EMAILS";
    const NAME: &'static str = "Editors";
}

/// A policy that (wrongly) answers "missing": `Guarded` still makes it a 403.
struct SaysMissing;
impl Policy<AccessJwt> for SaysMissing {
    const NAME: &'static str = "SaysMissing";
    fn check(_: &AccessClaims, _: &VerifyCx<'_>) -> Result<(), Deny> {
        Err(Deny::missing("policy says missing"))
    }
}

#[test]
fn policy_configuration_and_status_mapping() {
    let server = Server::new("policy-config", JWKS_A);
    let ada = mint_a(&user_payload());
    let cx = |emails: &'static str| {
        let url = server.url.clone();
        VerifyCx::builder()
            .now(NOW)
            .vars(move |n| if n == "EDITOR_EMAILS" { Some(emails.to_owned()) } else { vars(url.clone(), vec![])(n) })
            .fetcher(server.fetcher())
            .state(server.state())
            .header("Cf-Access-Jwt-Assertion", &ada)
            .build()
    };
    type Editor = Guarded<AccessJwt, EmailAllowlist<Editors>>;
    assert_eq!(<Editor as Verifier>::NAME, "AccessJwt+Editors");
    verify::<Editor>(&cx("ada@example.com")).unwrap();
    assert_denied(verify::<Editor>(&cx("bob@example.com")), DenyKind::Invalid, "not an editor");
    let d = assert_denied(verify::<Guarded<AccessJwt, SaysMissing>>(&cx("")), DenyKind::Invalid, "mapped");
    assert_eq!(d.detail(), "policy says missing");
    // Policies stack.
    type Both = Guarded<Guarded<AccessJwt, EmailAllowlist>, EmailAllowlist<Editors>>;
    assert_eq!(<Both as Verifier>::NAME, "AccessJwt+EmailAllowlist+Editors");
    verify::<Both>(&cx("ada@example.com")).unwrap();
    assert_denied(verify::<Both>(&cx("grace@example.org")), DenyKind::Invalid, "admin but not editor");
}

#[test]
fn allowlist_matching_rules() {
    type L = EmailAllowlist;
    assert!(L::allows("ada@example.com", "ADA@EXAMPLE.COM").unwrap());
    assert!(L::allows("*@example.com", "x@example.com").unwrap());
    assert!(L::allows("*@example.com", "\"a@b\"@example.com").unwrap());
    assert!(!L::allows("*@example.com", "x@example.com@evil.example").unwrap());
    assert!(!L::allows("*@example.com", "@example.com").unwrap());
    assert!(!L::allows("*@example.com", "example.com").unwrap());
    assert!(!L::allows("ada@example.com", "").unwrap());
    assert!(L::allows("", "ada@example.com").is_err());
}

// ---- AnyOf --------------------------------------------------------------------------------------

/// 0 allows; 1 missing; 2 invalid; 3 unavailable.
struct Stub<const K: u8, const BODY: bool = false>;
impl<const K: u8, const BODY: bool> Verifier for Stub<K, BODY> {
    type Claims = u8;
    const NAME: &'static str = "Stub";
    const BODY: bool = BODY;
    async fn verify(_: &VerifyCx<'_>) -> Result<u8, Deny> {
        match K {
            0 => Ok(K),
            1 => Err(Deny::missing("stub: missing")),
            2 => Err(Deny::invalid("stub: invalid")),
            _ => Err(Deny::unavailable("stub: unavailable")),
        }
    }
}

fn any_of<A: Verifier<Claims = u8>, B: Verifier<Claims = u8>>() -> Result<OneOf<u8, u8>, DenyKind> {
    verify::<AnyOf<A, B>>(&VerifyCx::builder().build()).map_err(|d| d.kind())
}

#[test]
fn any_of_every_combination() {
    use DenyKind::{Invalid as I, Missing as M, Unavailable as U};
    // First allows: the second is not consulted (its outcome does not matter).
    assert_eq!(any_of::<Stub<0>, Stub<0>>(), Ok(OneOf::First(0)));
    assert_eq!(any_of::<Stub<0>, Stub<1>>(), Ok(OneOf::First(0)));
    assert_eq!(any_of::<Stub<0>, Stub<2>>(), Ok(OneOf::First(0)));
    assert_eq!(any_of::<Stub<0>, Stub<3>>(), Ok(OneOf::First(0)));
    // First refuses, second allows.
    assert_eq!(any_of::<Stub<1>, Stub<0>>(), Ok(OneOf::Second(0)));
    assert_eq!(any_of::<Stub<2>, Stub<0>>(), Ok(OneOf::Second(0)));
    assert_eq!(any_of::<Stub<3>, Stub<0>>(), Ok(OneOf::Second(0)));
    // Both refuse: 503 beats 403 beats 401.
    assert_eq!(any_of::<Stub<1>, Stub<1>>(), Err(M));
    assert_eq!(any_of::<Stub<1>, Stub<2>>(), Err(I));
    assert_eq!(any_of::<Stub<2>, Stub<1>>(), Err(I));
    assert_eq!(any_of::<Stub<2>, Stub<2>>(), Err(I));
    assert_eq!(any_of::<Stub<1>, Stub<3>>(), Err(U));
    assert_eq!(any_of::<Stub<3>, Stub<1>>(), Err(U));
    assert_eq!(any_of::<Stub<2>, Stub<3>>(), Err(U));
    assert_eq!(any_of::<Stub<3>, Stub<2>>(), Err(U));
    assert_eq!(any_of::<Stub<3>, Stub<3>>(), Err(U));
    // BODY if either needs it; the name shows both.
    const {
        assert!(!<AnyOf<Stub<0>, Stub<0>> as Verifier>::BODY);
        assert!(<AnyOf<Stub<0, true>, Stub<0>> as Verifier>::BODY);
        assert!(<AnyOf<Stub<0>, Stub<0, true>> as Verifier>::BODY);
        assert!(<AnyOf<Stub<0, true>, Stub<0, true>> as Verifier>::BODY);
    }
    assert_eq!(<AnyOf<AccessJwt, ApiKey> as Verifier>::NAME, "AnyOf(AccessJwt|ApiKey)");
    // The detail names both refusals.
    let d = verify::<AnyOf<Stub<1>, Stub<3>>>(&VerifyCx::builder().build()).unwrap_err();
    assert_eq!(d.detail(), "Stub: stub: missing; Stub: stub: unavailable");
}

#[test]
fn any_of_access_or_api_key() {
    type StaffOrCi = AnyOf<AccessJwt, ApiKey>;
    let server = Server::new("any-of", JWKS_A);
    let base = || {
        VerifyCx::builder()
            .now(NOW)
            .vars(vars(server.url.clone(), vec![]))
            .secrets(|n| (n == "API_KEYS").then(|| "ci:0123456789abcdef0123".to_owned()))
            .fetcher(server.fetcher())
            .state(server.state())
    };
    let t = mint_a(&user_payload());
    let c = verify::<StaffOrCi>(&base().header("Cf-Access-Jwt-Assertion", &t).build()).unwrap();
    assert!(matches!(&c, OneOf::First(a) if a.email() == Some("ada@example.com")));
    let c = verify::<StaffOrCi>(&base().header("x-api-key", "0123456789abcdef0123").build()).unwrap();
    assert!(matches!(&c, OneOf::Second(k) if k.label == "ci"));
    assert_denied(verify::<StaffOrCi>(&base().build()), DenyKind::Missing, "neither");
    assert_denied(
        verify::<StaffOrCi>(&base().header("x-api-key", "wrong-key-wrong-key").build()),
        DenyKind::Invalid,
        "bad key",
    );
    // An allowlist over AnyOf reads the email of whichever side allowed.
    type AdminOrCi = Guarded<AnyOf<AccessJwt, AccessJwt<Second>>, EmailAllowlist>;
    let c = verify::<AdminOrCi>(&base().header("Cf-Access-Jwt-Assertion", &t).build()).unwrap();
    assert!(matches!(c, OneOf::First(_)));
}

struct Second;
impl AccessConfig for Second {
    const AUD_VAR: &'static str = "SECOND_AUD";
}

#[test]
fn denial_details_never_carry_token_contents() {
    // A sweep over the refusals above, checking the detail of each.
    let server = Server::new("details", JWKS_A);
    let mut tokens = vec![
        mint_a(&with(user_payload(), "exp", json!(NOW - 1000))),
        mint_a(&with(user_payload(), "aud", json!("ada@example.com"))),
        mint_a(&with(user_payload(), "iss", json!("https://ada@example.com"))),
        mint_a(&with(user_payload(), "nbf", json!(NOW + 1000))),
        mint_a(&with(user_payload(), "type", json!(7))),
        mint(&key_b(), &kid_a(), &user_payload()),
        sign_raw(&Rsa::rs256(), &key_a(), r#"{"alg":"ada@example.com","kid":"x"}"#, "{}"),
    ];
    tokens.push(format!("{}.{}", tokens[0], "ada@example.com"));
    for t in &tokens {
        let d = access(&server, t).unwrap_err();
        assert_clean(&d, t);
        assert!(!d.detail().contains("ada@example.com"), "{}", d.detail());
    }
}

// ---- repeated tokens (the verified-token cache) -------------------------------------------------

/// The same AUD as the default config would read, from another var: settings equal only when
/// the values are.
struct OtherAud;
impl AccessConfig for OtherAud {
    const AUD_VAR: &'static str = "OTHER_AUD";
    const NAME: &'static str = "OtherAud";
}

/// Remembers nothing.
struct NoMemory;
impl AccessConfig for NoMemory {
    const VERIFIED_TOKENS: usize = 0;
}

#[test]
fn a_repeated_token_gets_the_answer_a_full_verification_gives() {
    let server = Server::new("repeat", JWKS_AB);
    let remembered_token_count = || server.state.remembered_access_tokens();
    let t = mint_a(&user_payload());
    let first = access(&server, &t).unwrap();
    assert_eq!(remembered_token_count(), 1);
    for _ in 0..3 {
        assert_eq!(access(&server, &t).unwrap(), first);
    }
    assert_eq!(remembered_token_count(), 1);
    // The clock is checked again on every request, with the full path's denial.
    let at = |now: u64| cx_at(&server, now).header("Cf-Access-Jwt-Assertion", &t).build();
    verify::<AccessJwt>(&at(NOW + 360)).unwrap(); // exp + leeway
    let d = assert_denied(verify::<AccessJwt>(&at(NOW + 361)), DenyKind::Invalid, "expired while remembered");
    assert_eq!(d.detail(), pure_at(&t, NOW + 361).unwrap_err().detail());
    let d = assert_denied(verify::<AccessJwt>(&at(NOW - 71)), DenyKind::Invalid, "not yet valid while remembered");
    assert_eq!(d.detail(), pure_at(&t, NOW - 71).unwrap_err().detail());
    // Other settings (another AUD) do not reuse it.
    let other = |aud: &'static str| {
        let cx = VerifyCx::builder()
            .now(NOW)
            .vars(vars(server.url.clone(), vec![("OTHER_AUD", aud)]))
            .fetcher(server.fetcher())
            .state(server.state())
            .header("Cf-Access-Jwt-Assertion", &t)
            .build();
        verify::<AccessJwt<OtherAud>>(&cx)
    };
    let d = assert_denied(other("another-app"), DenyKind::Invalid, "remembered under another AUD");
    assert!(d.detail().contains("aud"), "{}", d.detail());
    assert_eq!(other(AUD).unwrap(), first);
    // A config that remembers nothing verifies in full every time and adds nothing.
    server.state.clear();
    let cx = with_token(&server, &t);
    verify::<AccessJwt<NoMemory>>(&cx).unwrap();
    assert_eq!(remembered_token_count(), 0);
}

#[test]
fn a_remembered_token_follows_key_rotation() {
    let long = with(user_payload(), "exp", json!(NOW + 100_000));
    let t = mint_a(&long);
    // The kid comes to name another key: the token no longer verifies.
    let server = Server::new("rotate-same-kid", JWKS_A);
    access(&server, &t).unwrap();
    server.serve(&jwks_json(&[PEM_B]).replace(&kid_b(), &kid_a()));
    let after_ttl = |s: &Server| cx_at(s, NOW + 601).header("Cf-Access-Jwt-Assertion", &t).build();
    let d = assert_denied(verify::<AccessJwt>(&after_ttl(&server)), DenyKind::Invalid, "kid now names key B");
    assert!(d.detail().contains("signature"), "{}", d.detail());
    assert_eq!(server.fetches(), 2);
    // The key leaves the set: denied as a first request would be.
    let server = Server::new("rotate-out", JWKS_A);
    access(&server, &t).unwrap();
    server.serve(JWKS_B);
    let d = assert_denied(verify::<AccessJwt>(&after_ttl(&server)), DenyKind::Invalid, "key rotated out");
    assert!(d.detail().contains("kid"), "{}", d.detail());
    // Keys unreachable once the cached set is stale: 503, as for a first request.
    let server = Server::new("rotate-down", JWKS_A);
    access(&server, &t).unwrap();
    server.down.set(true);
    assert_denied(verify::<AccessJwt>(&after_ttl(&server)), DenyKind::Unavailable, "keys unreachable");
}

#[test]
fn only_tokens_that_verified_are_remembered() {
    let server = Server::new("remember-only-good", JWKS_AB);
    let remembered_token_count = || server.state.remembered_access_tokens();
    let good = mint_a(&user_payload());
    let mut flipped = good.clone().into_bytes();
    let last = flipped.len() - 2;
    flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).unwrap();
    let hostile = [
        flipped,
        mint_a(&with(user_payload(), "aud", json!("another-app"))),
        mint_a(&with(user_payload(), "exp", json!(NOW - 3600))),
        mint(&key_b(), &kid_a(), &user_payload()),
        sign_raw(&Hs256, &Hs256Key::new(b"k"), &rs256_header_a(), &user_payload().to_string()),
    ];
    for t in &hostile {
        let first = assert_denied(access(&server, t), DenyKind::Invalid, "hostile");
        let again = assert_denied(access(&server, t), DenyKind::Invalid, "hostile, again");
        assert_eq!(first.detail(), again.detail());
    }
    assert_eq!(remembered_token_count(), 0);
    access(&server, &good).unwrap();
    assert_eq!(remembered_token_count(), 1);
}

/// [`pure`] at another time.
fn pure_at(token: &str, now: u64) -> Result<AccessClaims, Deny> {
    settings().verify(token, &Jwks::parse(JWKS_AB.as_bytes()).unwrap(), now)
}

// ---- whose state ----------------------------------------------------------------------------------

/// The attack on verifier state: a context built by hand (as a Public handler could build one)
/// with the real URL and vars, a fetcher serving the attacker's key set (key B under key A's
/// kid) and a clock ten years ahead. It verifies the attacker's token in its own state; the
/// contexts standing for dispatch (sharing `server.state`) never see those keys.
#[test]
fn a_context_built_by_hand_cannot_feed_another_contexts_keys() {
    let server = Server::new("poison", JWKS_A);
    let genuine = mint_a(&user_payload());
    access(&server, &genuine).unwrap();
    let evil_jwks = jwks_json(&[PEM_B]).replace(&kid_b(), &kid_a());
    let attacker = Server::new("poison", &evil_jwks);
    assert_eq!(attacker.url, server.url, "the same JWKS URL: the same cache key, were caches global");
    let decade = 10 * 365 * 86_400;
    let evil = mint(&key_b(), &kid_a(), &with(user_payload(), "exp", json!(NOW + 2 * decade)));
    for _ in 0..2 {
        let cx = VerifyCx::builder()
            .now(NOW + decade)
            .vars(vars(attacker.url.clone(), vec![]))
            .fetcher(attacker.fetcher())
            .header("Cf-Access-Jwt-Assertion", &evil)
            .build();
        verify::<Guarded<AccessJwt, EmailAllowlist>>(&cx).unwrap();
    }
    assert_eq!(attacker.fetches(), 2, "each built context starts from a fresh state");
    for _ in 0..3 {
        let d = assert_denied(access(&server, &evil), DenyKind::Invalid, "the attacker's token");
        assert!(d.detail().contains("signature"), "{}", d.detail());
        access(&server, &genuine).unwrap();
    }
    let cx = cx_at(&server, NOW).header("Cf-Access-Jwt-Assertion", &evil).build();
    assert_denied(verify::<Guarded<AccessJwt, EmailAllowlist>>(&cx), DenyKind::Invalid, "the admin route");
    assert_eq!(server.fetches(), 1, "dispatch's keys were fetched once, by dispatch");
    assert_eq!(server.state.remembered_access_tokens(), 1, "only the genuine token is remembered");
}

/// Clearing one state clears only it.
#[test]
fn clearing_a_state_forgets_its_keys_and_tokens_only() {
    let (one, other) = (Server::new("clear-one", JWKS_A), Server::new("clear-other", JWKS_A));
    let t = mint_a(&user_payload());
    access(&one, &t).unwrap();
    access(&other, &t).unwrap();
    one.state.clear();
    assert_eq!(one.state.remembered_access_tokens(), 0);
    assert_eq!(other.state.remembered_access_tokens(), 1);
    access(&one, &t).unwrap();
    access(&other, &t).unwrap();
    assert_eq!((one.fetches(), other.fetches()), (2, 1));
}

/// Remembers tokens for 10 s only.
struct ShortMemory;
impl AccessConfig for ShortMemory {
    const VERIFIED_TOKEN_SECS: u64 = 10;
}

/// Asks for an hour: still 60 s at most.
struct LongMemory;
impl AccessConfig for LongMemory {
    const VERIFIED_TOKEN_SECS: u64 = 3600;
}

/// Remembers nothing, by time.
struct NoTime;
impl AccessConfig for NoTime {
    const VERIFIED_TOKEN_SECS: u64 = 0;
}

/// Seed gotcha ④: a verified token is remembered 60 s at most from the verification that made
/// it (configurable down, never up); past that it is verified in full again.
#[test]
fn a_remembered_token_lives_sixty_seconds_at_most() {
    assert_eq!(layers_core::identity::MAX_VERIFIED_TOKEN_SECS, 60);
    let long = with(user_payload(), "exp", json!(NOW + 100_000));
    let t = mint_a(&long);
    let at = |server: &Server, now: u64| cx_at(server, now).header("Cf-Access-Jwt-Assertion", &t).build();

    let server = Server::new("sixty", JWKS_A);
    verify::<AccessJwt>(&at(&server, NOW)).unwrap();
    assert_eq!(server.state.usable_access_tokens_at(NOW + 60), 1, "usable for 60 s");
    assert_eq!(server.state.usable_access_tokens_at(NOW + 61), 0, "not a second longer");
    assert_eq!(server.state.usable_access_tokens_at(NOW - 1), 0, "nor with the clock moved back");
    // Used at +30: still the entry of the first verification (its 60 s count from NOW).
    verify::<AccessJwt>(&at(&server, NOW + 30)).unwrap();
    assert_eq!(server.state.usable_access_tokens_at(NOW + 61), 0);
    // At +61 the old entry is dropped and the token verified in full again: a new 60 s.
    verify::<AccessJwt>(&at(&server, NOW + 61)).unwrap();
    assert_eq!(server.state.remembered_access_tokens(), 1);
    assert_eq!(server.state.usable_access_tokens_at(NOW + 121), 1);
    assert_eq!(server.state.usable_access_tokens_at(NOW + 122), 0);

    // A configuration may shorten it; asking for more than 60 s still gets 60 s.
    let short = Server::new("ten", JWKS_A);
    verify::<AccessJwt<ShortMemory>>(&at(&short, NOW)).unwrap();
    verify::<AccessJwt<ShortMemory>>(&at(&short, NOW + 11)).unwrap(); // the stale entry is replaced
    assert_eq!(short.state.remembered_access_tokens(), 1);
    let longer = Server::new("hour", JWKS_A);
    verify::<AccessJwt<LongMemory>>(&at(&longer, NOW)).unwrap();
    assert_eq!(longer.state.usable_access_tokens_at(NOW + 61), 0);
    // `0`: nothing remembered at all.
    let none = Server::new("zero", JWKS_A);
    verify::<AccessJwt<NoTime>>(&at(&none, NOW)).unwrap();
    assert_eq!(none.state.remembered_access_tokens(), 0);
}
