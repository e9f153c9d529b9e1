//! Native tests of verifier composition over `AccessJwt` (Cloudflare Access), real RSA-2048
//! keys: `Guarded` with `EmailAllowlist` and other policies (matching rules, configuration,
//! how a policy's refusal maps to a status, stacking) and `AnyOf` (every combination of
//! outcomes; Access or an API key). The shared keys, minting and in-process JWKS server are in
//! `access/mod.rs`.

mod access;

use access::*;
use layers_core::identity::{
    AccessClaims, AccessConfig, AccessJwt, AllowlistConfig, AnyOf, ApiKey, Deny, DenyKind, EmailAllowlist, Guarded,
    OneOf, Policy, Verifier, VerifyCx,
};
use serde_json::json;

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
