//! End-to-end: AI summaries through OIDC federation to Bedrock. The Worker publishes its issuer
//! documents (`/.well-known/openid-configuration`, `/.well-known/jwks.json`); the loopback STS
//! stub verifies every assertion with the key published *there* (registered by `common/run.rs`),
//! and the Bedrock stub verifies the SigV4 signature of the request as it arrives, against the
//! credentials that STS issued. `POST /admin/posts/:slug/summary` then caches the summary in D1
//! `ai_summaries`, and the post page shows it.

mod common;
use common::*;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rsa::pkcs8::DecodePrivateKey as _;
use rsa::traits::PublicKeyParts as _;

const ADMIN: &str = "admin@example.com";
const POST: &str = "hello-layers";

fn bedrock() -> serde_json::Value {
    serde_json::from_str(&stub("GET", "/__control/bedrock", None)).unwrap()
}

fn issuer_fetches() -> u64 {
    stub("GET", "/__control/sts-issuer-fetches", None).trim().parse().unwrap()
}

fn summarize(token: &str, slug: &str) -> Resp {
    as_admin("POST", &format!("/admin/posts/{slug}/summary"), token, Some("{}"))
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn summary_a_the_issuer_documents_publish_the_public_key_only() {
    let r = get("/.well-known/openid-configuration");
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.header("cache-control").is_some_and(|c| c.starts_with("public")), "{:?}", r.headers);
    let doc = json(&r);
    assert_eq!(doc["issuer"], "https://layers.test");
    assert_eq!(doc["jwks_uri"], "https://layers.test/.well-known/jwks.json");
    assert_eq!(doc["id_token_signing_alg_values_supported"], serde_json::json!(["RS256"]));

    let jwks = json(&get("/.well-known/jwks.json"));
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1, "{jwks}");
    let k = &keys[0];
    assert_eq!(
        (k["kty"].as_str(), k["alg"].as_str(), k["kid"].as_str()),
        (Some("RSA"), Some("RS256"), Some("layers-federation-1"))
    );
    // The public half of FEDERATION_KEY (fixture key a), and nothing of the private half.
    let pem = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/access/key-a.pem")).unwrap();
    let key = rsa::RsaPrivateKey::from_pkcs8_pem(&pem).unwrap();
    assert_eq!(k["n"].as_str().unwrap(), URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()));
    assert_eq!(k["e"], "AQAB");
    for private in ["d", "p", "q", "dp", "dq", "qi"] {
        assert!(k.get(private).is_none(), "{private} published: {k}");
    }
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn summary_b_an_sts_that_cannot_read_the_published_key_refuses_and_nothing_is_cached() {
    let token = admin_token_of(ADMIN);
    // Point the STS at a place with no issuer documents: AWS would refuse the assertion.
    assert_eq!(stub("POST", "/__control/sts-issuer", Some(&stubs_url())), "ok");
    let r = summarize(&token, POST);
    assert_eq!(stub("POST", "/__control/sts-issuer", Some(&app().url())), "ok");
    assert!(r.status >= 500, "{} {}", r.status, r.body);
    assert!(!r.body.contains("stubsecret") && !r.body.contains("ASIA"), "{}", r.body);
    assert_eq!(bedrock()["answered"], 0, "no credentials, no model call");
    assert!(!get(&format!("/blog/{POST}")).body.contains("ai-summary"));
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn summary_c_written_by_bedrock_cached_in_d1_and_shown_on_the_post() {
    let token = admin_token_of(ADMIN);
    let (fetches, answered) = (issuer_fetches(), bedrock()["answered"].as_u64().unwrap());
    let r = summarize(&token, POST);
    assert_eq!(r.status, 200, "{}", r.body);
    let v = json(&r);
    assert_eq!(v["summary"], "A stub summary of \"Hello, layers\": Request, then identity, then storage: in that order, checked by the compiler.");
    assert_eq!(v["model"], "us.anthropic.claude-opus-4-1-20250805-v1:0");
    assert_eq!(v["credentials_from_cache"], false);
    assert!(issuer_fetches() > fetches, "the STS checked the assertion with the published key");
    assert_eq!(bedrock()["answered"].as_u64().unwrap(), answered + 1, "{}", bedrock());

    let page = get(&format!("/blog/{POST}")).body;
    assert!(
        page.contains("<section class=ai-summary><h2>AI summary</h2><p>A stub summary of &quot;Hello, layers&quot;: Request, then identity"),
        "{page}"
    );

    // Regenerating reuses the cached credentials: no second exchange, a second signed call.
    let exchanges = stub("GET", "/__control/sts-count", None);
    let again = json(&summarize(&token, POST));
    assert_eq!(again["credentials_from_cache"], true);
    assert_eq!(stub("GET", "/__control/sts-count", None), exchanges);
    assert_eq!(bedrock()["answered"].as_u64().unwrap(), answered + 2);
    assert_eq!(bedrock()["refused"], 0, "every call the Worker signed verified: {}", bedrock());
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn summary_d_failures_and_refusals() {
    let token = admin_token_of(ADMIN);
    assert_eq!(stub("POST", "/__control/bedrock", Some("fail")), "ok");
    let r = summarize(&token, POST);
    assert_eq!(stub("POST", "/__control/bedrock", Some("ok")), "ok");
    assert_eq!(r.status, 502, "{}", r.body);
    // The cached summary is still the last good one.
    assert!(get(&format!("/blog/{POST}")).body.contains("A stub summary of &quot;Hello, layers&quot;"));
    assert_eq!(summarize(&token, "no-such-post").status, 404);
    let h = [("cf-access-jwt-assertion", token.as_str()), ("content-type", "application/x-www-form-urlencoded")];
    assert_eq!(send("POST", &format!("/admin/posts/{POST}/summary"), &h, Some("a=b")).status, 415);
    let r = send("POST", &format!("/admin/posts/{POST}/summary"), &[("content-type", "application/json")], Some("{}"));
    assert_eq!(r.status, 401, "no identity, no model call: {}", r.body);
}
