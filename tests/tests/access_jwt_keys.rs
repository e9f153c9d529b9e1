//! Native tests of `AccessJwt`'s key set (Cloudflare Access), real RSA-2048 keys and an
//! in-process JWKS server that counts its fetches: the fixtures themselves, unknown kids
//! (one refetch per interval; 503 when the refetch fails), the JWKS unreachable, erroring or
//! garbage, which keys the parser keeps, a failed refetch keeping fresh keys, concurrent cold
//! requests sharing one fetch, rotation — and whose state the keys live in. The shared keys,
//! minting and server are in `access/mod.rs`.

mod access;

use std::rc::Rc;

use access::*;
use futures::executor::block_on;
use jwt_compact::alg::RsaPrivateKey;
use layers_core::identity::{AccessJwt, DenyKind, EmailAllowlist, Guarded, Jwks, Verifier, VerifyCx};
use layers_core::outbound::{FetchFuture, Fetcher, OutboundRequest};
use rsa::traits::PublicKeyParts as _;
use serde_json::{json, Value};

// ---- fixtures -------------------------------------------------------------------------------------

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
