//! Native tests of `AccessJwt` (Cloudflare Access), real RSA-2048 keys: the claim checks past
//! the signature — `exp` (with leeway), `nbf`, `iat`, extreme timestamps, `aud`, `iss` — and the
//! configuration they are checked against (vars missing or unsafe fail closed; a custom
//! `AccessConfig` reads its own vars). The shared keys, minting and in-process JWKS server are
//! in `access/mod.rs`.

mod access;

use access::*;
use layers_core::identity::{AccessConfig, AccessJwt, AccessSettings, DenyKind, Jwks, Verifier, VerifyCx};
use serde_json::{json, Value};

// ---- time ---------------------------------------------------------------------------------------

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

// ---- configuration --------------------------------------------------------------------------------

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
