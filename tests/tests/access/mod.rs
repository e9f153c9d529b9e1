//! What the native `AccessJwt` test targets (`access_jwt_*.rs`) share: the fixture keys
//! (tests/fixtures/access) and their kids and JWKS, tokens minted with jwt-compact (ordinary and
//! byte-for-byte hostile), an in-process JWKS server that counts its fetches, and verification
//! contexts against it. Each target is its own binary and uses only part of this.

#![allow(dead_code)]

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use futures::executor::block_on;
use jwt_compact::alg::{Rsa, RsaPrivateKey, RsaPublicKey};
use jwt_compact::{AlgorithmExt as _, AlgorithmSignature as _, Claims as JwtClaims, Header};
use layers_core::identity::{
    AccessClaims, AccessJwt, AccessSettings, Deny, DenyKind, Jwks, Verifier, VerifierState, VerifyCx, VerifyCxBuilder,
};
use layers_core::outbound::{FetchFuture, Fetcher, OutboundRequest, OutboundResponse};
use rsa::pkcs8::DecodePrivateKey as _;
use rsa::traits::PublicKeyParts as _;
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

pub(crate) const NOW: u64 = 1_800_000_000;
pub(crate) const TEAM: &str = "layers-test.cloudflareaccess.com";
pub(crate) const ISS: &str = "https://layers-test.cloudflareaccess.com";
pub(crate) const AUD: &str = "4714c1358e65fe4b408ad6d432a5f878f08194bdb4752441fd56faefa9b2b6f2";

pub(crate) const PEM_A: &str = include_str!("../../fixtures/access/key-a.pem");
pub(crate) const PEM_B: &str = include_str!("../../fixtures/access/key-b.pem");
pub(crate) const JWKS_A: &str = include_str!("../../fixtures/access/jwks-a.json");
pub(crate) const JWKS_B: &str = include_str!("../../fixtures/access/jwks-b.json");
pub(crate) const JWKS_AB: &str = include_str!("../../fixtures/access/jwks-ab.json");

// ---- keys, fixtures ---------------------------------------------------------------------------

pub(crate) fn private(pem: &str) -> RsaPrivateKey {
    RsaPrivateKey::from_pkcs8_pem(pem).expect("fixture PEM parses")
}

thread_local! {
    static KEY_A: RsaPrivateKey = private(PEM_A);
    static KEY_B: RsaPrivateKey = private(PEM_B);
}

pub(crate) fn key_a() -> RsaPrivateKey {
    KEY_A.with(Clone::clone)
}
pub(crate) fn key_b() -> RsaPrivateKey {
    KEY_B.with(Clone::clone)
}

/// The kid of a public key: hex SHA-256 of its RFC 7638 thumbprint input (Access kids are
/// 64 hex characters too).
pub(crate) fn kid_of(public: &RsaPublicKey) -> String {
    let n = URL_SAFE_NO_PAD.encode(public.n().to_bytes_be());
    let e = URL_SAFE_NO_PAD.encode(public.e().to_bytes_be());
    let digest = Sha256::digest(format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#).as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn kid_a() -> String {
    kid_of(&key_a().to_public_key())
}
pub(crate) fn kid_b() -> String {
    kid_of(&key_b().to_public_key())
}

/// One JWK as Access publishes it (`kid`, `kty`, `alg`, `use`, `e`, `n`).
pub(crate) fn jwk_json(pem: &str) -> String {
    let public = private(pem).to_public_key();
    let n = URL_SAFE_NO_PAD.encode(public.n().to_bytes_be());
    let e = URL_SAFE_NO_PAD.encode(public.e().to_bytes_be());
    let kid = kid_of(&public);
    format!(r#"{{"kid":"{kid}","kty":"RSA","alg":"RS256","use":"sig","e":"{e}","n":"{n}"}}"#)
}

pub(crate) fn jwks_json(pems: &[&str]) -> String {
    let keys: Vec<String> = pems.iter().map(|p| format!("    {}", jwk_json(p))).collect();
    format!("{{\n  \"keys\": [\n{}\n  ]\n}}\n", keys.join(",\n"))
}

// ---- minting ----------------------------------------------------------------------------------

pub(crate) fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn user_payload() -> Value {
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

pub(crate) fn service_payload() -> Value {
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

/// `p` with claim `name` set to `v`.
pub(crate) fn with(mut p: Value, name: &str, v: Value) -> Value {
    p[name] = v;
    p
}

/// The ordinary way: jwt-compact's `token` with header `{alg: RS256, kid, typ: JWT}`.
pub(crate) fn mint(key: &RsaPrivateKey, kid: &str, payload: &Value) -> String {
    let Value::Object(custom) = payload.clone() else { panic!("payload must be an object") };
    let header = Header::empty().with_key_id(kid).with_token_type("JWT");
    Rsa::rs256().token(&header, &JwtClaims::new(custom), key).unwrap()
}

pub(crate) fn mint_a(payload: &Value) -> String {
    mint(&key_a(), &kid_a(), payload)
}

/// Any header text, any payload text, signed with `alg` over exactly those bytes.
pub(crate) fn sign_raw<A: jwt_compact::Algorithm>(alg: &A, key: &A::SigningKey, header: &str, payload: &str) -> String {
    let msg = format!("{}.{}", b64(header), b64(payload));
    let sig = alg.sign(key, msg.as_bytes());
    format!("{msg}.{}", b64(sig.as_bytes()))
}

pub(crate) fn rs256_header_a() -> String {
    format!(r#"{{"alg":"RS256","kid":"{}","typ":"JWT"}}"#, kid_a())
}

// ---- verifier context with an in-process JWKS server ---------------------------------------------

/// An in-process JWKS endpoint: serves `body` with `status` (or fails), counts fetches.
#[derive(Clone)]
pub(crate) struct Server {
    pub(crate) body: Rc<RefCell<String>>,
    pub(crate) status: Rc<Cell<u16>>,
    pub(crate) down: Rc<Cell<bool>>,
    pub(crate) fetches: Rc<Cell<usize>>,
    pub(crate) url: String,
    /// What the verifiers of this test's contexts remember between them (its "isolate").
    pub(crate) state: Rc<VerifierState>,
}

impl Server {
    pub(crate) fn new(name: &str, body: &str) -> Server {
        Server {
            body: Rc::new(RefCell::new(body.to_owned())),
            status: Rc::new(Cell::new(200)),
            down: Rc::new(Cell::new(false)),
            fetches: Rc::new(Cell::new(0)),
            url: format!("http://127.0.0.1:9/{name}/cdn-cgi/access/certs"),
            state: Rc::new(VerifierState::new()),
        }
    }
    pub(crate) fn serve(&self, body: &str) {
        *self.body.borrow_mut() = body.to_owned();
    }
    pub(crate) fn fetcher(&self) -> Fetcher {
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
    pub(crate) fn fetches(&self) -> usize {
        self.fetches.get()
    }
    pub(crate) fn state(&self) -> Rc<VerifierState> {
        Rc::clone(&self.state)
    }
}

pub(crate) fn vars(url: String, extra: Vec<(&'static str, &'static str)>) -> impl Fn(&str) -> Option<String> {
    move |name| match name {
        "ACCESS_TEAM_DOMAIN" => Some(TEAM.to_owned()),
        "ACCESS_AUD" => Some(AUD.to_owned()),
        "ACCESS_CERTS_URL" => Some(url.clone()),
        "ADMIN_EMAILS" => Some("ada@example.com, grace@example.org".to_owned()),
        _ => extra.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned()),
    }
}

pub(crate) fn cx_at<'a>(server: &Server, now: u64) -> VerifyCxBuilder<'a> {
    VerifyCx::builder().now(now).vars(vars(server.url.clone(), vec![])).fetcher(server.fetcher()).state(server.state())
}

pub(crate) fn with_token<'a>(server: &Server, token: &str) -> VerifyCx<'a> {
    cx_at(server, NOW).header("Cf-Access-Jwt-Assertion", token).build()
}

pub(crate) fn verify<V: Verifier>(cx: &VerifyCx<'_>) -> Result<V::Claims, Deny> {
    block_on(V::verify(cx))
}

pub(crate) fn access(server: &Server, token: &str) -> Result<AccessClaims, Deny> {
    verify::<AccessJwt>(&with_token(server, token))
}

pub(crate) fn settings() -> AccessSettings {
    AccessSettings::new(TEAM, AUD, None, 60).unwrap()
}

/// Pure path (no cache, no fetch): token against the A+B key set.
pub(crate) fn pure(token: &str) -> Result<AccessClaims, Deny> {
    settings().verify(token, &Jwks::parse(JWKS_AB.as_bytes()).unwrap(), NOW)
}

/// [`pure`] at another time.
pub(crate) fn pure_at(token: &str, now: u64) -> Result<AccessClaims, Deny> {
    settings().verify(token, &Jwks::parse(JWKS_AB.as_bytes()).unwrap(), now)
}

#[track_caller]
pub(crate) fn assert_denied<T: std::fmt::Debug>(r: Result<T, Deny>, kind: DenyKind, what: &str) -> Deny {
    let d = r.expect_err(what);
    assert_eq!(d.kind(), kind, "{what}: {d:?}");
    d
}

/// A detail must not carry token contents: no segment, no kid, no claim value.
#[track_caller]
pub(crate) fn assert_clean(d: &Deny, token: &str) {
    let detail = d.detail();
    for seg in token.split('.').filter(|s| s.len() >= 8) {
        assert!(!detail.contains(seg), "detail leaks a token segment: {detail}");
    }
    for secretish in ["ada@example.com", "7335d417", "6ei69kawdKzMIAPF", "0123abcd.access", &kid_a(), &kid_b()] {
        assert!(!detail.contains(secretish), "detail leaks {secretish}: {detail}");
    }
}
