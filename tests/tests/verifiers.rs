//! Native tests of the built-in verifiers, through the same `Verifier::verify` the Worker
//! runs, with real HMAC and hostile input.

use futures::executor::block_on;
use layers_core::identity::{
    mint, ApiKey, ApiKeyConfig, ApiKeyHeader, DefaultToken, Deny, DenyKind, Public, SignedToken, TokenConfig,
    TokenError, TokenSource, Verifier, VerifyCx, VerifyCxBuilder,
};

const KEYS: &str = "ci:0123456789abcdef0123,deploy:fedcba9876543210fedc";
const SIGNING: &str = "a-signing-key-of-at-least-32-bytes!!";
const NOW: u64 = 1_800_000_000;

fn cx<'a>() -> VerifyCxBuilder<'a> {
    VerifyCx::builder().now(NOW).secrets(|name| match name {
        "API_KEYS" => Some(KEYS.to_owned()),
        "SIGNING_KEY" => Some(SIGNING.to_owned()),
        _ => None,
    })
}

fn verify<V: Verifier>(cx: VerifyCx<'_>) -> Result<V::Claims, Deny> {
    block_on(V::verify(&cx))
}

fn kind<T: std::fmt::Debug>(r: Result<T, Deny>) -> DenyKind {
    r.expect_err("expected a denial").kind()
}

#[test]
fn public_always_allows() {
    verify::<Public>(VerifyCx::builder().build()).unwrap();
}

#[test]
fn api_key_accepts_each_rotated_key_and_names_it() {
    let c = verify::<ApiKey>(cx().header("x-api-key", "0123456789abcdef0123").build()).unwrap();
    assert_eq!(c.label, "ci");
    let c = verify::<ApiKey>(cx().header("X-API-KEY", "fedcba9876543210fedc").build()).unwrap();
    assert_eq!(c.label, "deploy");
}

#[test]
fn api_key_denials() {
    assert_eq!(kind(verify::<ApiKey>(cx().build())), DenyKind::Missing);
    assert_eq!(kind(verify::<ApiKey>(cx().header("x-api-key", "").build())), DenyKind::Missing);
    for bad in [
        "0123456789abcdef012",     // prefix
        "0123456789abcdef01234",   // longer
        "0123456789ABCDEF0123",    // case
        "ci:0123456789abcdef0123", // with label
        "0123456789abcdef0123,fedcba9876543210fedc",
        "\u{0}0123456789abcdef0123",
    ] {
        assert_eq!(kind(verify::<ApiKey>(cx().header("x-api-key", bad).build())), DenyKind::Invalid, "{bad:?}");
    }
    let huge = "a".repeat(10_000);
    assert_eq!(kind(verify::<ApiKey>(cx().header("x-api-key", &huge).build())), DenyKind::Invalid);
    // Sent twice: refused rather than guessing which one counts.
    let twice = cx().header("x-api-key", "0123456789abcdef0123").header("x-api-key", "0123456789abcdef0123").build();
    assert_eq!(kind(verify::<ApiKey>(twice)), DenyKind::Invalid);
}

#[test]
fn api_key_fails_closed_on_bad_configuration() {
    let none = VerifyCx::builder().header("x-api-key", "0123456789abcdef0123").build();
    assert_eq!(kind(verify::<ApiKey>(none)), DenyKind::Unavailable);
    for secret in [
        "",
        " , ",
        "short",
        "ok:0123456789abcdef0123,bad:short",
        // No label: a misconfiguration, not an unlabeled key.
        "0123456789abcdef0123",
        ":0123456789abcdef0123",
        // An ambiguous `:` is not a key holding a colon.
        "ci:0123456789abcdef0123:more",
        "a:b:0123456789abcdef0123",
        // A label that is not a plain name, or used twice.
        "c i:0123456789abcdef0123",
        "ci:0123456789abcdef0123,ci:fedcba9876543210fedc",
    ] {
        let c = VerifyCx::builder()
            .header("x-api-key", "0123456789abcdef0123")
            .secrets(move |_| Some(secret.to_owned()))
            .build();
        let d = verify::<ApiKey>(c).unwrap_err();
        assert_eq!(d.kind(), DenyKind::Unavailable, "{secret:?}");
        // The detail names the problem, never key material.
        assert!(!d.detail().contains("0123456789abcdef0123"));
    }
}

struct BearerKeys;
impl ApiKeyConfig for BearerKeys {
    const HEADER: ApiKeyHeader = ApiKeyHeader::Bearer;
    const SECRET: &'static str = "API_KEYS";
}

#[test]
fn api_key_bearer_configuration() {
    type K = ApiKey<BearerKeys>;
    let ok = cx().header("authorization", "Bearer 0123456789abcdef0123").build();
    assert_eq!(verify::<K>(ok).unwrap().label, "ci");
    assert_eq!(kind(verify::<K>(cx().header("authorization", "Basic abc").build())), DenyKind::Invalid);
    assert_eq!(kind(verify::<K>(cx().header("x-api-key", "0123456789abcdef0123").build())), DenyKind::Missing);
}

struct Unsub;
impl TokenConfig for Unsub {
    const SECRET: &'static str = "SIGNING_KEY";
    const PURPOSE: &'static str = "unsubscribe";
    const SOURCE: TokenSource = TokenSource::Param("token");
}

fn tok(payload: &str, exp: u64) -> String {
    mint(SIGNING.as_bytes(), "unsubscribe", payload, exp)
}

#[test]
fn signed_token_round_trip() {
    let t = tok("ada@example.com", NOW + 60);
    let c = verify::<SignedToken<Unsub>>(cx().param("token", &t).build()).unwrap();
    assert_eq!(c.payload, "ada@example.com");
    assert_eq!(c.expires_at, NOW + 60);
}

#[test]
fn signed_token_denials() {
    type T = SignedToken<Unsub>;
    assert_eq!(kind(verify::<T>(cx().build())), DenyKind::Missing);
    let expired = tok("ada@example.com", NOW);
    assert_eq!(kind(verify::<T>(cx().param("token", &expired).build())), DenyKind::Invalid);
    let other_purpose = mint(SIGNING.as_bytes(), "login", "ada@example.com", NOW + 60);
    assert_eq!(kind(verify::<T>(cx().param("token", &other_purpose).build())), DenyKind::Invalid);
    let other_key = mint(b"another-key-of-at-least-32-bytes!!!!", "unsubscribe", "ada@example.com", NOW + 60);
    assert_eq!(kind(verify::<T>(cx().param("token", &other_key).build())), DenyKind::Invalid);
}

#[test]
fn signed_token_rejects_tampering_bit_by_bit() {
    let key = SIGNING.as_bytes();
    let t = tok("ada@example.com", NOW + 3600);
    assert!(SignedToken::<Unsub>::verify_token(key, "unsubscribe", &t, NOW).is_ok());
    // Flip every character of the token to each other base64url character at that place:
    // no variant may verify.
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";
    let chars: Vec<char> = t.chars().collect();
    let mut tried = 0;
    for i in 0..chars.len() {
        for c in alphabet.chars().step_by(7) {
            if c == chars[i] {
                continue;
            }
            let mut v = chars.clone();
            v[i] = c;
            let s: String = v.into_iter().collect();
            assert!(SignedToken::<Unsub>::verify_token(key, "unsubscribe", &s, NOW).is_err(), "{s}");
            tried += 1;
        }
    }
    assert!(tried > 500);
}

#[test]
fn signed_token_malformed_inputs() {
    let key = SIGNING.as_bytes();
    let good = tok("x", NOW + 60);
    let parts: Vec<&str> = good.split('.').collect();
    let sig = parts[3];
    let cases = [
        String::new(),
        ".".repeat(3),
        "v1".into(),
        format!("v2.{}.{}.{}", parts[1], parts[2], sig),
        format!("v1.{}.{}", parts[1], parts[2]),
        format!("v1.{}.{}.{}.extra", parts[1], parts[2], sig),
        format!("v1.{}.+{}.{}", parts[1], parts[2], sig),
        format!("v1.{}.0{}.{}", parts[1], parts[2], sig),
        format!("v1.{}.{}.{}", parts[1], "99999999999999999999999", sig),
        format!("v1.{}=.{}.{}", parts[1], parts[2], sig),
        format!("v1.{}.{}.{}", parts[1], parts[2], &sig[..sig.len() - 2]),
        format!("v1.{}.{}.{}AA", parts[1], parts[2], sig),
        format!("v1.{}.{}.{}", "!!!", parts[2], sig),
        "a".repeat(5000),
    ];
    for c in &cases {
        let e = SignedToken::<DefaultToken>::verify_token(key, "unsubscribe", c, NOW).unwrap_err();
        assert!(matches!(e, TokenError::Malformed | TokenError::BadSignature), "{c:?}: {e:?}");
    }
}

#[test]
fn signed_token_fails_closed_without_a_strong_key() {
    let t = tok("x", NOW + 60);
    let none = VerifyCx::builder().now(NOW).param("token", &t).build();
    assert_eq!(kind(verify::<SignedToken<Unsub>>(none)), DenyKind::Unavailable);
    let weak = VerifyCx::builder().now(NOW).param("token", &t).secrets(|_| Some("short".into())).build();
    assert_eq!(kind(verify::<SignedToken<Unsub>>(weak)), DenyKind::Unavailable);
}

struct QueryToken;
impl TokenConfig for QueryToken {
    const SECRET: &'static str = "SIGNING_KEY";
    const PURPOSE: &'static str = "unsubscribe";
    const SOURCE: TokenSource = TokenSource::Query("t");
}

#[test]
fn signed_token_sources() {
    let t = tok("q@example.com", NOW + 60);
    let ok = cx().query(&format!("a=1&t={t}")).build();
    assert_eq!(verify::<SignedToken<QueryToken>>(ok).unwrap().payload, "q@example.com");
    let twice = cx().query(&format!("t={t}&t={t}")).build();
    assert_eq!(kind(verify::<SignedToken<QueryToken>>(twice)), DenyKind::Invalid);
}

#[test]
fn deny_statuses_and_bodies_carry_no_detail() {
    let d = Deny::invalid("key mismatch for label ci");
    assert_eq!(d.status(), 403);
    assert!(!d.public_body().contains("ci"));
    assert_eq!(Deny::missing("x").status(), 401);
    assert_eq!(Deny::unavailable("x").status(), 503);
}
