//! Native tests of `AccessJwt`'s verified-token cache (Cloudflare Access), real RSA-2048 keys:
//! a repeated token gets the answer a full verification gives (the clock and the settings are
//! checked again), a remembered token follows key rotation, only tokens that verified are
//! remembered, and for 60 s at most. Counted through layers-core's `test-support` hooks; the
//! shared keys, minting and in-process JWKS server are in `access/mod.rs`.

mod access;

use access::*;
use jwt_compact::alg::{Hs256, Hs256Key};
use layers_core::identity::{AccessConfig, AccessJwt, DenyKind, VerifyCx};
use serde_json::json;

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

/// Settings made from vars are kept per isolate, but only for the var values they were made
/// from: when a var's value is another (another configuration in the same state, a test
/// changing a var), the settings are made again and the token is checked against those.
#[test]
fn kept_settings_follow_the_var_values() {
    let server = Server::new("settings", JWKS_AB);
    let token = mint_a(&user_payload());
    let with_aud = |aud: &'static str| {
        VerifyCx::builder()
            .now(NOW)
            .vars({
                let url = server.url.clone();
                move |name| match name {
                    "ACCESS_AUD" => Some(aud.to_owned()),
                    other => vars(url.clone(), vec![])(other),
                }
            })
            .fetcher(server.fetcher())
            .state(server.state())
            .header("Cf-Access-Jwt-Assertion", &token)
            .build()
    };
    verify::<AccessJwt<NoMemory>>(&with_aud(AUD)).expect("the token's AUD");
    let other = verify::<AccessJwt<NoMemory>>(&with_aud("another-application-aud"));
    assert_denied(other, DenyKind::Invalid, "the same state, another AUD var value");
    verify::<AccessJwt<NoMemory>>(&with_aud(AUD)).expect("the first settings again");
    // An unset var is a misconfiguration however many settings are kept.
    let unset = VerifyCx::builder()
        .now(NOW)
        .vars(|name| (name == "ACCESS_TEAM_DOMAIN").then(|| TEAM.to_owned()))
        .fetcher(server.fetcher())
        .state(server.state())
        .header("Cf-Access-Jwt-Assertion", &token)
        .build();
    assert_denied(verify::<AccessJwt<NoMemory>>(&unset), DenyKind::Unavailable, "AUD unset");
}
