//! One verification per iteration, through `Verifier::verify` as the Worker runs it:
//! `ApiKey` (the baseline), `SignedToken` (HMAC token in a path parameter), `Webhook` (Svix
//! signature over a 1 KiB body) and `AccessJwt` (RS256) with a warm key cache and an
//! in-process JWKS — a token seen for the first time (the verified-token cache emptied before
//! each call), and the same token again (`AccessJwt-repeat`: remembered, so the signature is
//! not checked again). Ids: `verify/ApiKey`, `verify/SignedToken`, `verify/Webhook`,
//! `verify/AccessJwt`, `verify/AccessJwt-repeat` (the xtask reads
//! `target/criterion/verify/<id>/new/estimates.json`).
//!
//! `cargo bench -p layers-tests --bench verify -- --warm-up-time 1 --measurement-time 3`

#![allow(missing_docs)]

use std::hint::black_box;
use std::rc::Rc;

use criterion::{criterion_group, criterion_main, Criterion};
use futures::executor::block_on;
use jwt_compact::alg::{Rsa, RsaPrivateKey};
use jwt_compact::{AlgorithmExt as _, Claims, Header};
use layers_core::identity::{
    mint, sign_webhook, AccessConfig, AccessJwt, ApiKey, SignedToken, Verifier, VerifyCx, Webhook,
};
use layers_core::outbound::{FetchFuture, Fetcher, OutboundRequest, OutboundResponse};
use rsa::pkcs8::DecodePrivateKey as _;
use serde_json::json;

const NOW: u64 = 1_800_000_000;
const TEAM: &str = "layers-bench.cloudflareaccess.com";
const AUD: &str = "4714c1358e65fe4b408ad6d432a5f878f08194bdb4752441fd56faefa9b2b6f2";
const CERTS: &str = "http://127.0.0.1:9/bench/cdn-cgi/access/certs";
const PEM_A: &str = include_str!("../fixtures/access/key-a.pem");
const JWKS_A: &str = include_str!("../fixtures/access/jwks-a.json");

fn jwks_fetcher() -> Fetcher {
    Rc::new(|_: OutboundRequest| -> FetchFuture {
        Box::pin(async { Ok(OutboundResponse { status: 200, headers: Vec::new(), body: JWKS_A.as_bytes().to_vec() }) })
    })
}

fn access_token() -> String {
    let key = RsaPrivateKey::from_pkcs8_pem(PEM_A).unwrap();
    let jwks: serde_json::Value = serde_json::from_str(JWKS_A).unwrap();
    let kid = jwks["keys"][0]["kid"].as_str().unwrap().to_owned();
    let payload = json!({
        "aud": [AUD], "email": "ada@example.com", "exp": NOW + 300, "iat": NOW - 10, "nbf": NOW - 10,
        "iss": format!("https://{TEAM}"), "type": "app", "identity_nonce": "6ei69kawdKzMIAPF",
        "sub": "7335d417-61da-459d-899c-0a01c76a2f94", "country": "NL",
    });
    let serde_json::Value::Object(custom) = payload else { unreachable!() };
    Rsa::rs256().token(&Header::empty().with_key_id(kid).with_token_type("JWT"), &Claims::new(custom), &key).unwrap()
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("verify");

    let keys = "ci:0123456789abcdef0123,deploy:fedcba9876543210fedc";
    let cx = VerifyCx::builder()
        .secrets(move |n| (n == "API_KEYS").then(|| keys.to_owned()))
        .header("x-api-key", "fedcba9876543210fedc")
        .build();
    block_on(<ApiKey>::verify(&cx)).unwrap();
    group.bench_function("ApiKey", |b| {
        b.iter(|| black_box(block_on(<ApiKey>::verify(black_box(&cx))).unwrap()));
    });

    // `SignedToken<DefaultToken>`: secret SIGNING_KEY, purpose "token", token in `:token`.
    let signing_key = "0123456789abcdef0123456789abcdef";
    let token = mint(signing_key.as_bytes(), "token", "ada@example.com", NOW + 3600);
    let cx = VerifyCx::builder()
        .now(NOW)
        .secrets(move |n| (n == "SIGNING_KEY").then(|| signing_key.to_owned()))
        .param("token", &token)
        .build();
    block_on(<SignedToken>::verify(&cx)).unwrap();
    group.bench_function("SignedToken", |b| {
        b.iter(|| black_box(block_on(<SignedToken>::verify(black_box(&cx))).unwrap()));
    });

    // `Webhook<DefaultWebhook>`: secret WEBHOOK_SECRET, Svix headers, signed raw body.
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let body = format!(r#"{{"type":"email.received","data":"{}"}}"#, "x".repeat(1000));
    let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    let signature = sign_webhook(secret, id, NOW - 5, body.as_bytes()).unwrap();
    let cx = VerifyCx::builder()
        .now(NOW)
        .secrets(move |n| (n == "WEBHOOK_SECRET").then(|| secret.to_owned()))
        .header("svix-id", id)
        .header("svix-timestamp", &(NOW - 5).to_string())
        .header("svix-signature", &signature)
        .body(body.into_bytes())
        .build();
    block_on(<Webhook>::verify(&cx)).unwrap();
    group.bench_function("Webhook", |b| {
        b.iter(|| black_box(block_on(<Webhook>::verify(black_box(&cx))).unwrap()));
    });

    let token = access_token();
    let cx = VerifyCx::builder()
        .now(NOW)
        .vars(|n| match n {
            "ACCESS_TEAM_DOMAIN" => Some(TEAM.to_owned()),
            "ACCESS_AUD" => Some(AUD.to_owned()),
            "ACCESS_CERTS_URL" => Some(CERTS.to_owned()),
            _ => None,
        })
        .fetcher(jwks_fetcher())
        .header("Cf-Access-Jwt-Assertion", &token)
        .build();
    // Warm the key cache (the context's state); every measured call then verifies without
    // fetching. This configuration remembers no token, so each call verifies in full.
    block_on(AccessJwt::<NoTokenCache>::verify(&cx)).unwrap();
    group.bench_function("AccessJwt", |b| {
        b.iter(|| black_box(block_on(AccessJwt::<NoTokenCache>::verify(black_box(&cx))).unwrap()));
    });
    block_on(<AccessJwt>::verify(&cx)).unwrap();
    group.bench_function("AccessJwt-repeat", |b| {
        b.iter(|| black_box(block_on(<AccessJwt>::verify(black_box(&cx))).unwrap()));
    });
    group.finish();
}

/// Access with the verified-token cache off: every verification runs in full.
struct NoTokenCache;
impl AccessConfig for NoTokenCache {
    const VERIFIED_TOKENS: usize = 0;
}

criterion_group!(benches, bench);
criterion_main!(benches);
