//! End-to-end tests of the identity schemes other than Cloudflare Access (which `e2e.rs`
//! covers), in real workerd (run through `cargo xtask test`, see tests/tests/common/run.rs for the
//! setup): API keys (and a rotated second key), signed unsubscribe tokens (the flow, then
//! expired, forged, wrong-purpose and wrong-key tokens), Turnstile against the siteverify stub,
//! and Svix-signed webhooks (the stubs: `stubs_url()`; the secret: `webhook_secret()`).

mod common;

use std::time::{SystemTime, UNIX_EPOCH};

use common::*;
use layers_core::identity::mint;

// ---- API keys ----------------------------------------------------------------------------------

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn api_key_protects_the_endpoint() {
    let r = get("/api/subscribers");
    assert_eq!(r.status, 401);
    assert_eq!(r.body, "unauthorized\n");
    let r = send("GET", "/api/subscribers", &[("x-api-key", "wrong-key-wrong-key-wrong")], None);
    assert_eq!(r.status, 403);
    assert_eq!(r.body, "forbidden\n");
    let k = key();
    let r = send("GET", "/api/subscribers", &[("x-api-key", &format!("{k}x"))], None);
    assert_eq!(r.status, 403);
    let r = send("GET", "/api/subscribers?limit=1000", &[("x-api-key", &k)], None);
    assert_eq!(r.status, 200, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["key"], layers_test::API_KEY_LABEL);
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn rotated_second_key_also_works() {
    let k2 = old_key();
    let r = send("GET", "/api/subscribers", &[("x-api-key", &k2)], None);
    assert_eq!(r.status, 200);
    assert_eq!(serde_json::from_str::<serde_json::Value>(&r.body).unwrap()["key"], "old");
}

// ---- signed tokens -----------------------------------------------------------------------------

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn signed_token_unsubscribe_flow() {
    let email = &unique("flow");
    assert_eq!(add_subscriber(email).status, 201);
    let t = unsub_token(email, now() + 3600);
    let page = get(&format!("/api/unsubscribe/{t}"));
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<form"), "{}", page.body);
    let r = send("POST", &format!("/api/unsubscribe/{t}"), &[], Some(""));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(status_of(email).as_deref(), Some("unsubscribed"));
    // Idempotent, and the KV write is visible to the confirmation page.
    let r = send("POST", &format!("/api/unsubscribe/{t}"), &[], Some(""));
    assert_eq!(r.status, 200);
    let page = get(&format!("/api/unsubscribe/{t}"));
    assert!(page.body.contains("You are unsubscribed"), "{}", page.body);
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn signed_token_denials() {
    let email = &unique("deny");
    assert_eq!(add_subscriber(email).status, 201);
    // Expired.
    let expired = unsub_token(email, now() - 1);
    assert_eq!(send("POST", &format!("/api/unsubscribe/{expired}"), &[], Some("")).status, 403);
    // Tampered: payload swapped to another email, signature kept.
    let good = unsub_token(email, now() + 3600);
    let other = unsub_token("victim@example.com", now() + 3600);
    let g: Vec<&str> = good.split('.').collect();
    let o: Vec<&str> = other.split('.').collect();
    let forged = format!("v1.{}.{}.{}", o[1], g[2], g[3]);
    assert_eq!(send("POST", &format!("/api/unsubscribe/{forged}"), &[], Some("")).status, 403);
    // Signed for another purpose, or with another key.
    let wrong_purpose = mint(signing_key().as_bytes(), "login", email, now() + 3600);
    sensitive(&wrong_purpose);
    assert_eq!(get(&format!("/api/unsubscribe/{wrong_purpose}")).status, 403);
    let wrong_key = mint(b"not-the-key-not-the-key-not-the-key!", "unsubscribe", email, now() + 3600);
    assert_eq!(get(&format!("/api/unsubscribe/{wrong_key}")).status, 403);
    // Garbage.
    assert_eq!(get("/api/unsubscribe/garbage").status, 403);
    assert_eq!(status_of(email).as_deref(), Some("active"), "no denied request may write");
}

// ---- Turnstile (siteverify stub) ----------------------------------------------------------------

fn contact_form(token: Option<&str>) -> String {
    let mut f = "name=Ada&email=ada%40example.com&message=Hello+there".to_owned();
    if let Some(t) = token {
        f.push_str("&cf-turnstile-response=");
        f.push_str(t);
    }
    f
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn turnstile_pass_fail_and_spent() {
    let form = [("content-type", "application/x-www-form-urlencoded")];
    let token = format!("pass-{}", now());
    sensitive(&token);
    let r = send("POST", "/api/contact", &form, Some(&contact_form(Some(&token))));
    assert_eq!(r.status, 201, "{}", r.body);
    // Single use: the same token again is refused by siteverify (timeout-or-duplicate).
    assert_eq!(send("POST", "/api/contact", &form, Some(&contact_form(Some(&token)))).status, 403);
    assert_eq!(send("POST", "/api/contact", &form, Some(&contact_form(Some("spent-token")))).status, 403);
    assert_eq!(send("POST", "/api/contact", &form, Some(&contact_form(Some("fail-token")))).status, 403);
    assert_eq!(send("POST", "/api/contact", &form, Some(&contact_form(None))).status, 401);
    // Token in the header instead of the form.
    let token = format!("pass-header-{}", now());
    sensitive(&token);
    let h = [("content-type", "application/x-www-form-urlencoded"), ("cf-turnstile-response", token.as_str())];
    assert_eq!(send("POST", "/api/contact", &h, Some(&contact_form(None))).status, 201);
    // Verified, but the handler still validates its input.
    let token = format!("pass-bad-{}", now());
    sensitive(&token);
    let bad = format!("name=&email=x&message=&cf-turnstile-response={token}");
    assert_eq!(send("POST", "/api/contact", &form, Some(&bad)).status, 400);
}

// ---- Svix webhooks ------------------------------------------------------------------------------

fn svix(body: &str, id: &str, ts: u64) -> (String, String, String) {
    let sig = layers_core::identity::sign_webhook(&webhook_secret(), id, ts, body.as_bytes()).unwrap();
    sensitive(&sig);
    (id.to_owned(), ts.to_string(), sig)
}

fn inbound(body: &str, (id, ts, sig): &(String, String, String)) -> Resp {
    let h = [
        ("content-type", "application/json"),
        ("svix-id", id.as_str()),
        ("svix-timestamp", ts.as_str()),
        ("svix-signature", sig.as_str()),
    ];
    send("POST", "/api/email-inbound", &h, Some(body))
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn webhook_valid_tampered_stale() {
    let body = r#"{"type":"email.received","data":{"from":"ada@example.com","subject":"Hi"}}"#;
    let id = format!("msg_{}", SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos());
    let signed = svix(body, &id, now());
    let r = inbound(body, &signed);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("\"stored\":true"));
    // A retry (same svix-id) is accepted and stored once.
    let r = inbound(body, &signed);
    assert_eq!(r.status, 200);
    assert!(r.body.contains("\"stored\":false"));
    // Tampered body, tampered id, stale and future timestamps, no signature.
    let tampered = body.replace("Hi", "Hj");
    assert_eq!(inbound(&tampered, &signed).status, 403);
    let other_id = (format!("{id}x"), signed.1.clone(), signed.2.clone());
    assert_eq!(inbound(body, &other_id).status, 403);
    assert_eq!(inbound(body, &svix(body, &format!("{id}-old"), now() - 310)).status, 403);
    assert_eq!(inbound(body, &svix(body, &format!("{id}-new"), now() + 310)).status, 403);
    assert_eq!(send("POST", "/api/email-inbound", &[("content-type", "application/json")], Some(body)).status, 401);
    // Signed with another secret.
    let wrong =
        layers_core::identity::sign_webhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &id, now(), body.as_bytes())
            .unwrap();
    assert_eq!(inbound(body, &(id.clone(), now().to_string(), wrong)).status, 403);
}
