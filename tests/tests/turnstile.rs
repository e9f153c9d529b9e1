//! Native tests of the `Turnstile` verifier against an in-process siteverify that behaves like
//! Cloudflare's (single-use tokens, error codes), plus broken siteverifies and hostile input.

use std::cell::RefCell;
use std::collections::HashSet;
use std::rc::Rc;

use futures::executor::block_on;
use layers_core::identity::{
    Deny, DenyKind, Turnstile, TurnstileClaims, TurnstileConfig, Verifier, VerifyCx, VerifyCxBuilder,
    MAX_TURNSTILE_TOKEN_LEN, SITEVERIFY_URL, TURNSTILE_FIELD,
};
use layers_core::outbound::{FetchFuture, Fetcher, OutboundRequest, OutboundResponse};
use layers_core::request::parse_query;

const SECRET: &str = "0x4AAAAAAA-test-secret-for-siteverify";
const TOKEN: &str = "ok.0.sEcreTToKeN_abc-123";

/// A siteverify that answers like Cloudflare's, and records what it was sent.
#[derive(Default)]
struct FakeSiteverify {
    seen: RefCell<HashSet<String>>,
    requests: RefCell<Vec<OutboundRequest>>,
    hostname: RefCell<Option<String>>,
    action: RefCell<Option<String>>,
}

impl FakeSiteverify {
    fn new() -> Rc<Self> {
        let f = Rc::new(FakeSiteverify::default());
        *f.hostname.borrow_mut() = Some("example.com".into());
        *f.action.borrow_mut() = Some("subscribe".into());
        f
    }

    fn answer(&self, req: &OutboundRequest) -> String {
        let form = parse_query(std::str::from_utf8(req.body.as_deref().unwrap_or_default()).unwrap());
        let field = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let fail = |code: &str| format!(r#"{{"success":false,"error-codes":["{code}"],"messages":[]}}"#);
        if field("secret").as_deref() != Some(SECRET) {
            return fail("invalid-input-secret");
        }
        let Some(response) = field("response") else { return fail("missing-input-response") };
        if response == "boom" {
            return fail("internal-error");
        }
        if !response.starts_with("ok") {
            return fail("invalid-input-response");
        }
        if !self.seen.borrow_mut().insert(response) {
            return fail("timeout-or-duplicate");
        }
        let mut v = serde_json::json!({
            "success": true,
            "error-codes": [],
            "challenge_ts": "2026-05-01T12:00:00.000Z",
            "cdata": "sessionid-123",
            "metadata": {"interactive": false},
        });
        if let Some(h) = self.hostname.borrow().as_ref() {
            v["hostname"] = h.as_str().into();
        }
        if let Some(a) = self.action.borrow().as_ref() {
            v["action"] = a.as_str().into();
        }
        v.to_string()
    }

    fn fetcher(self: &Rc<Self>) -> Fetcher {
        let me = self.clone();
        Rc::new(move |req: OutboundRequest| -> FetchFuture {
            let body = me.answer(&req);
            me.requests.borrow_mut().push(req);
            Box::pin(async move { Ok(OutboundResponse { status: 200, headers: Vec::new(), body: body.into_bytes() }) })
        })
    }

    fn calls(&self) -> usize {
        self.requests.borrow().len()
    }
}

/// A siteverify that always answers `status` with `body`.
fn canned(status: u16, body: &'static str) -> Fetcher {
    Rc::new(move |_req: OutboundRequest| -> FetchFuture {
        Box::pin(async move { Ok(OutboundResponse { status, headers: Vec::new(), body: body.as_bytes().to_vec() }) })
    })
}

fn unreachable_siteverify() -> Fetcher {
    Rc::new(|r: OutboundRequest| -> FetchFuture {
        Box::pin(async move { Err(format!("fetch {}: connection refused", r.url)) })
    })
}

fn cx<'a>(sv: &Rc<FakeSiteverify>) -> VerifyCxBuilder<'a> {
    VerifyCx::builder()
        .method("POST")
        .now(1_800_000_000)
        .secrets(|n| (n == "TURNSTILE_SECRET").then(|| SECRET.to_owned()))
        .fetcher(sv.fetcher())
}

fn verify<V: Verifier>(cx: VerifyCx<'_>) -> Result<V::Claims, Deny> {
    block_on(V::verify(&cx))
}

/// The denial, after checking its detail leaks neither a token nor the secret.
fn deny(r: Result<TurnstileClaims, Deny>) -> DenyKind {
    let d = r.expect_err("expected a denial");
    for leak in [SECRET, "sEcreTToKeN", "ok.", "x-secret"] {
        assert!(!d.detail().contains(leak), "detail leaks {leak:?}: {}", d.detail());
    }
    d.kind()
}

// The token may be a form field, so the verifier asks for the body.
const _: () = assert!(<Turnstile as Verifier>::BODY);

fn form_of(req: &OutboundRequest) -> Vec<(String, String)> {
    parse_query(std::str::from_utf8(req.body.as_deref().unwrap()).unwrap())
}

#[test]
fn success_posts_the_documented_form_to_siteverify() {
    let sv = FakeSiteverify::new();
    let c = cx(&sv).header("cf-turnstile-response", TOKEN).header("cf-connecting-ip", "203.0.113.7").build();
    let claims = verify::<Turnstile>(c).unwrap();
    assert_eq!(
        claims,
        TurnstileClaims {
            hostname: "example.com".into(),
            action: Some("subscribe".into()),
            challenge_ts: "2026-05-01T12:00:00.000Z".into(),
            cdata: Some("sessionid-123".into()),
        }
    );
    let reqs = sv.requests.borrow();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.url, SITEVERIFY_URL);
    assert_eq!(r.url, "https://challenges.cloudflare.com/turnstile/v0/siteverify");
    assert!(r
        .headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("content-type") && v == "application/x-www-form-urlencoded"));
    let form = form_of(r);
    assert_eq!(
        form,
        vec![
            ("secret".to_owned(), SECRET.to_owned()),
            ("response".to_owned(), TOKEN.to_owned()),
            ("remoteip".to_owned(), "203.0.113.7".to_owned()),
        ]
    );
}

#[test]
fn tokens_are_single_use() {
    let sv = FakeSiteverify::new();
    verify::<Turnstile>(cx(&sv).header("cf-turnstile-response", TOKEN).build()).unwrap();
    let again = verify::<Turnstile>(cx(&sv).header("cf-turnstile-response", TOKEN).build());
    let d = again.clone().unwrap_err();
    assert!(d.detail().contains("timeout-or-duplicate"), "{}", d.detail());
    assert_eq!(deny(again), DenyKind::Invalid);
    assert_eq!(sv.calls(), 2);
}

#[test]
fn siteverify_refusals_and_trouble() {
    let sv = FakeSiteverify::new();
    let r = verify::<Turnstile>(cx(&sv).header("cf-turnstile-response", "forged-token").build());
    assert!(r.clone().unwrap_err().detail().contains("invalid-input-response"));
    assert_eq!(deny(r), DenyKind::Invalid);
    // Siteverify's own failure: cannot decide.
    let r = verify::<Turnstile>(cx(&sv).header("cf-turnstile-response", "boom").build());
    assert!(r.clone().unwrap_err().detail().contains("internal-error"));
    assert_eq!(deny(r), DenyKind::Unavailable);
    // A wrong secret configured: our fault, not the visitor's.
    let wrong = VerifyCx::builder()
        .secrets(|_| Some("0x-wrong-secret".into()))
        .fetcher(sv.fetcher())
        .header("cf-turnstile-response", "ok-never-seen")
        .build();
    let d = verify::<Turnstile>(wrong).unwrap_err();
    assert_eq!(d.kind(), DenyKind::Unavailable);
    assert!(d.detail().contains("invalid-input-secret") && !d.detail().contains("0x-wrong-secret"));
}

#[test]
fn broken_siteverify_fails_closed() {
    let cases: Vec<(Fetcher, &str)> = vec![
        (canned(500, r#"{"success":true}"#), "HTTP 500"),
        (canned(429, r#"{"success":true}"#), "HTTP 429"),
        (canned(302, ""), "HTTP 302"),
        (canned(200, "<html>gateway timeout</html>"), "not JSON"),
        (canned(200, ""), "empty"),
        (canned(200, r#"{"error-codes":[]}"#), "no success field"),
        (canned(200, r#"{"success":"true"}"#), "success as a string"),
        (canned(200, r#"[true]"#), "array"),
        (canned(200, r#"[true, [], "example.com"]"#), "array with fields"),
        (canned(200, r#"true"#), "bare true"),
        (canned(200, r#"{"success":false,"error-codes":["internal-error","x"]}"#), "internal-error among others"),
        (canned(200, r#"{"success":false,"error-codes":["bad-request"]}"#), "bad-request"),
        (unreachable_siteverify(), "unreachable"),
        (layers_core::outbound::no_fetch(), "no fetch configured"),
    ];
    for (fetcher, what) in cases {
        let c = VerifyCx::builder()
            .secrets(|_| Some(SECRET.into()))
            .fetcher(fetcher)
            .header("cf-turnstile-response", TOKEN)
            .build();
        assert_eq!(deny(verify::<Turnstile>(c)), DenyKind::Unavailable, "{what}");
    }
    // A refusal with odd codes is still a refusal, and the codes are sanitized for the log.
    let c = VerifyCx::builder()
        .secrets(|_| Some(SECRET.into()))
        .fetcher(canned(200, r#"{"success":false,"error-codes":["\n{\"evil\":1}", ""]}"#))
        .header("cf-turnstile-response", TOKEN)
        .build();
    let d = verify::<Turnstile>(c).unwrap_err();
    assert_eq!(d.kind(), DenyKind::Invalid);
    assert!(!d.detail().contains('\n') && !d.detail().contains("evil"), "{}", d.detail());
    let c = VerifyCx::builder()
        .secrets(|_| Some(SECRET.into()))
        .fetcher(canned(200, r#"{"success":false}"#))
        .header("cf-turnstile-response", TOKEN)
        .build();
    assert_eq!(deny(verify::<Turnstile>(c)), DenyKind::Invalid);
}

#[test]
fn verify_url_comes_from_the_var() {
    let sv = FakeSiteverify::new();
    let c = cx(&sv)
        .vars(|n| (n == "TURNSTILE_VERIFY_URL").then(|| "http://127.0.0.1:8788/siteverify".to_owned()))
        .header("cf-turnstile-response", TOKEN)
        .build();
    verify::<Turnstile>(c).unwrap();
    assert_eq!(sv.requests.borrow()[0].url, "http://127.0.0.1:8788/siteverify");
    // The request to a config URL follows no redirect and reads a bounded answer.
    {
        let first = &sv.requests.borrow()[0];
        assert_eq!(first.redirect, layers_core::outbound::RedirectMode::Manual);
        assert_eq!(first.max_body, Some(layers_core::identity::MAX_SITEVERIFY_LEN));
    }
    // Unset: the default URL.
    let c = cx(&sv).header("cf-turnstile-response", "ok-2").build();
    verify::<Turnstile>(c).unwrap();
    assert_eq!(sv.requests.borrow()[1].url, SITEVERIFY_URL);
    // Set means set: empty, plain http off loopback, or not a URL is a misconfiguration (503),
    // and nothing is sent.
    for bad in ["", "   ", "http://challenges.example.com/siteverify", "ftp://127.0.0.1/x", "not a url"] {
        let c = cx(&sv)
            .vars(move |n| (n == "TURNSTILE_VERIFY_URL").then(|| bad.to_owned()))
            .header("cf-turnstile-response", "ok-3")
            .build();
        assert_eq!(deny(verify::<Turnstile>(c)), DenyKind::Unavailable, "{bad:?}");
    }
    assert_eq!(sv.requests.borrow().len(), 2);
}

#[test]
fn hostname_check() {
    let sv = FakeSiteverify::new();
    let with_hosts = |hosts: &'static str, token: &str| {
        cx(&sv)
            .vars(move |n| (n == "TURNSTILE_HOSTNAME").then(|| hosts.to_owned()))
            .header("cf-turnstile-response", token)
            .build()
    };
    verify::<Turnstile>(with_hosts("example.com", "ok-1")).unwrap();
    verify::<Turnstile>(with_hosts("EXAMPLE.COM", "ok-2")).unwrap();
    verify::<Turnstile>(with_hosts("www.example.com, example.com", "ok-3")).unwrap();
    // Set but empty is a misconfiguration (503), never "any hostname".
    for (empty, token) in [("", "ok-4a"), (" ,\n", "ok-4b")] {
        assert_eq!(deny(verify::<Turnstile>(with_hosts(empty, token))), DenyKind::Unavailable, "{empty:?}");
    }
    for (hosts, token) in [("evil.example", "ok-5"), ("www.example.com", "ok-6"), ("example.co", "ok-7")] {
        assert_eq!(deny(verify::<Turnstile>(with_hosts(hosts, token))), DenyKind::Invalid, "{hosts}");
    }
    // Siteverify names no hostname while one is required.
    *sv.hostname.borrow_mut() = None;
    assert_eq!(deny(verify::<Turnstile>(with_hosts("example.com", "ok-8"))), DenyKind::Invalid);
    // Without the var, any hostname (or none) passes.
    let c = cx(&sv).header("cf-turnstile-response", "ok-9").build();
    assert_eq!(verify::<Turnstile>(c).unwrap().hostname, "");
}

struct SubscribeForm;
impl TurnstileConfig for SubscribeForm {
    const SECRET: &'static str = "TURNSTILE_SECRET";
    const ACTION: Option<&'static str> = Some("subscribe");
    const NAME: &'static str = "SubscribeTurnstile";
}

#[test]
fn action_check() {
    type T = Turnstile<SubscribeForm>;
    assert_eq!(<T as Verifier>::NAME, "SubscribeTurnstile");
    let sv = FakeSiteverify::new();
    verify::<T>(cx(&sv).header("cf-turnstile-response", "ok-1").build()).unwrap();
    for action in [Some("login"), Some("Subscribe"), Some(""), None] {
        *sv.action.borrow_mut() = action.map(str::to_owned);
        let token = format!("ok-{action:?}");
        assert_eq!(deny(verify::<T>(cx(&sv).header("cf-turnstile-response", &token).build())), DenyKind::Invalid);
    }
    // The default configuration accepts any action.
    *sv.action.borrow_mut() = Some("login".into());
    let c = verify::<Turnstile>(cx(&sv).header("cf-turnstile-response", "ok-any").build()).unwrap();
    assert_eq!(c.action.as_deref(), Some("login"));
}

fn urlencoded<'a>(sv: &Rc<FakeSiteverify>, body: &str) -> VerifyCxBuilder<'a> {
    cx(sv).header("content-type", "application/x-www-form-urlencoded; charset=UTF-8").body(body)
}

#[test]
fn token_from_a_urlencoded_form() {
    let sv = FakeSiteverify::new();
    let body = "email=ada%40example.com&cf-turnstile-response=ok.0.sEcreTToKeN_abc-123&x=1";
    verify::<Turnstile>(urlencoded(&sv, body).build()).unwrap();
    assert_eq!(form_of(&sv.requests.borrow()[0])[1].1, TOKEN);
    // Percent-encoded characters are decoded before being sent on.
    verify::<Turnstile>(urlencoded(&sv, "cf-turnstile-response=ok%2Bplus%2Fslash%3D").build()).unwrap();
    assert_eq!(form_of(&sv.requests.borrow()[1])[1].1, "ok+plus/slash=");
    // The header wins over the body.
    let c = urlencoded(&sv, "cf-turnstile-response=forged").header("cf-turnstile-response", "ok-header").build();
    verify::<Turnstile>(c).unwrap();
    assert_eq!(form_of(&sv.requests.borrow()[2])[1].1, "ok-header");
}

#[test]
fn form_token_denials() {
    let sv = FakeSiteverify::new();
    let cases = [
        ("email=a%40b.c", DenyKind::Missing),
        ("cf-turnstile-response=", DenyKind::Missing),
        ("cf-turnstile-response", DenyKind::Missing),
        ("cf-turnstile-response=+++", DenyKind::Missing),
        ("cf_turnstile_response=ok-1", DenyKind::Missing),
        ("CF-TURNSTILE-RESPONSE=ok-1", DenyKind::Missing),
        ("cf-turnstile-response=ok-1&cf-turnstile-response=ok-2", DenyKind::Invalid),
        ("cf-turnstile-response=ok-1&cf-turnstile-response=", DenyKind::Invalid),
        ("", DenyKind::Missing),
    ];
    for (body, want) in cases {
        assert_eq!(deny(verify::<Turnstile>(urlencoded(&sv, body).build())), want, "{body:?}");
    }
    // Not a form: the body is not searched.
    for ct in ["text/plain", "application/json", "application/x-www-form-urlencoded-evil"] {
        let body = if ct == "application/json" {
            r#"{"cf-turnstile-response":"ok-json"}"#
        } else {
            "cf-turnstile-response=ok-text"
        };
        let c = cx(&sv).header("content-type", ct).body(body).build();
        assert_eq!(deny(verify::<Turnstile>(c)), DenyKind::Missing, "{ct}");
    }
    let c = cx(&sv).body("cf-turnstile-response=ok-no-ct").build();
    assert_eq!(deny(verify::<Turnstile>(c)), DenyKind::Missing);
    assert_eq!(sv.calls(), 0, "nothing reached siteverify");
}

fn multipart<'a>(sv: &Rc<FakeSiteverify>, ct: &str, body: &str) -> VerifyCxBuilder<'a> {
    cx(sv).header("content-type", ct).body(body.replace('\n', "\r\n"))
}

#[test]
fn token_from_a_multipart_form() {
    let sv = FakeSiteverify::new();
    let body = "--XyZ\n\
        Content-Disposition: form-data; name=\"email\"\n\
        \n\
        ada@example.com\n\
        --XyZ\n\
        Content-Disposition: form-data; name=\"cf-turnstile-response\"\n\
        \n\
        ok-multipart\n\
        --XyZ--\n";
    verify::<Turnstile>(multipart(&sv, "multipart/form-data; boundary=XyZ", body).build()).unwrap();
    assert_eq!(form_of(&sv.requests.borrow()[0])[1].1, "ok-multipart");
    // Quoted boundary, a preamble, transport padding, other header case, extra headers,
    // parameters in another order, a browser-like boundary.
    let body = "preamble to ignore\n\
        ------WebKitFormBoundary7MA4YWxkTrZu0gW  \n\
        content-disposition: FORM-DATA; foo=bar; name=cf-turnstile-response\n\
        Content-Type: text/plain; charset=utf-8\n\
        \n\
        ok-webkit\n\
        ------WebKitFormBoundary7MA4YWxkTrZu0gW--";
    let ct = "multipart/form-data; charset=utf-8; boundary=\"----WebKitFormBoundary7MA4YWxkTrZu0gW\"";
    verify::<Turnstile>(multipart(&sv, ct, body).build()).unwrap();
    assert_eq!(form_of(&sv.requests.borrow()[1])[1].1, "ok-webkit");
}

#[test]
fn multipart_denials() {
    let sv = FakeSiteverify::new();
    let ct = "multipart/form-data; boundary=B";
    let field = |name: &str, extra: &str, value: &str| {
        format!("--B\nContent-Disposition: form-data; name=\"{name}\"{extra}\n\n{value}\n")
    };
    let ok = field("cf-turnstile-response", "", "ok-1");
    let cases: Vec<(String, &str, DenyKind)> = vec![
        // No such field, or only as a file upload.
        (format!("{}--B--\n", field("email", "", "a@b.c")), ct, DenyKind::Missing),
        (
            format!("{}--B--\n", field("cf-turnstile-response", "; filename=\"t.txt\"", "ok-file")),
            ct,
            DenyKind::Missing,
        ),
        // A name hidden inside another parameter's quoted value.
        (
            format!("{}--B--\n", field("x", "; filename=\"; name=cf-turnstile-response\"", "ok-2")),
            ct,
            DenyKind::Missing,
        ),
        (format!("{}--B--\n", field("cf-turnstile-response", "", "")), ct, DenyKind::Missing),
        // Twice.
        (format!("{ok}{ok}--B--\n"), ct, DenyKind::Invalid),
        // Malformed bodies and content types.
        (format!("{ok}--B--\n"), "multipart/form-data", DenyKind::Invalid),
        (format!("{ok}--B--\n"), "multipart/form-data; boundary=", DenyKind::Invalid),
        (format!("{ok}--B--\n"), "multipart/form-data; boundary=C", DenyKind::Invalid),
        (format!("{ok}--B--\n"), "multipart/form-data; boundary=\"\"", DenyKind::Invalid),
        (format!("{ok}--B--\n"), "multipart/form-data; boundary=\"B\r\n\"", DenyKind::Invalid),
        (ok.clone(), ct, DenyKind::Invalid), // unterminated
        (
            "--B\nContent-Disposition: form-data; name=\"cf-turnstile-response\"\nok-1\n--B--".into(),
            ct,
            DenyKind::Invalid,
        ), // no blank line
        ("--Bjunk\n\nok-1\n--B--".into(), ct, DenyKind::Invalid),
        ("--B".into(), ct, DenyKind::Invalid),
        ("garbage without any boundary".into(), ct, DenyKind::Invalid),
    ];
    for (body, ct, want) in &cases {
        let got = deny(verify::<Turnstile>(multipart(&sv, ct, body).build()));
        assert_eq!(got, *want, "{ct}: {body:?}");
    }
    // A token that is not UTF-8.
    let mut raw = b"--B\r\nContent-Disposition: form-data; name=\"cf-turnstile-response\"\r\n\r\nok-".to_vec();
    raw.extend_from_slice(&[0xff, 0xfe]);
    raw.extend_from_slice(b"\r\n--B--\r\n");
    let c = cx(&sv).header("content-type", ct).body(raw).build();
    assert_eq!(deny(verify::<Turnstile>(c)), DenyKind::Invalid);
    // A boundary longer than RFC 2046 allows.
    let long = "b".repeat(71);
    let body = format!("--{long}\nContent-Disposition: form-data; name=\"cf-turnstile-response\"\n\nok-1\n--{long}--");
    let c = multipart(&sv, &format!("multipart/form-data; boundary={long}"), &body).build();
    assert_eq!(deny(verify::<Turnstile>(c)), DenyKind::Invalid);
    // Too many parts.
    let body = format!("{}{ok}--B--\n", field("a", "", "1").repeat(1000));
    assert_eq!(deny(verify::<Turnstile>(multipart(&sv, ct, &body).build())), DenyKind::Invalid);
    // Near-miss delimiters all the way through a large body finish quickly (linear scan).
    let body = format!("--B\nContent-Disposition: form-data; name=\"f\"\n\n{}", "\n--C".repeat(200_000));
    let t0 = std::time::Instant::now();
    assert_eq!(deny(verify::<Turnstile>(multipart(&sv, ct, &body).build())), DenyKind::Invalid);
    assert!(t0.elapsed().as_secs() < 5);
    assert_eq!(sv.calls(), 0, "nothing reached siteverify");
}

#[test]
fn missing_and_oversized_tokens() {
    let sv = FakeSiteverify::new();
    assert_eq!(deny(verify::<Turnstile>(cx(&sv).build())), DenyKind::Missing);
    assert_eq!(deny(verify::<Turnstile>(cx(&sv).header("cf-turnstile-response", "").build())), DenyKind::Missing);
    assert_eq!(deny(verify::<Turnstile>(cx(&sv).header("cf-turnstile-response", "   ").build())), DenyKind::Missing);
    let twice = cx(&sv).header("cf-turnstile-response", "ok-1").header("cf-turnstile-response", "ok-2").build();
    assert_eq!(deny(verify::<Turnstile>(twice)), DenyKind::Invalid);
    let longest = format!("ok{}", "a".repeat(MAX_TURNSTILE_TOKEN_LEN - 2));
    verify::<Turnstile>(cx(&sv).header("cf-turnstile-response", &longest).build()).unwrap();
    assert_eq!(sv.calls(), 1);
    let too_long = format!("ok{}", "a".repeat(MAX_TURNSTILE_TOKEN_LEN - 1));
    assert_eq!(
        deny(verify::<Turnstile>(cx(&sv).header("cf-turnstile-response", &too_long).build())),
        DenyKind::Invalid
    );
    let huge = format!("cf-turnstile-response=ok{}", "a".repeat(1 << 20));
    assert_eq!(deny(verify::<Turnstile>(urlencoded(&sv, &huge).build())), DenyKind::Invalid);
    // 2048 characters of two bytes each: over the byte limit.
    let wide = "é".repeat(MAX_TURNSTILE_TOKEN_LEN);
    assert_eq!(deny(verify::<Turnstile>(cx(&sv).header("cf-turnstile-response", &wide).build())), DenyKind::Invalid);
    assert_eq!(sv.calls(), 1, "oversized tokens never reach siteverify");
}

#[test]
fn hostile_token_characters_are_form_encoded_not_injected() {
    let sv = FakeSiteverify::new();
    let token = "ok&secret=attacker&response=ok-other";
    verify::<Turnstile>(cx(&sv).header("cf-turnstile-response", token).build()).unwrap();
    let form = form_of(&sv.requests.borrow()[0]);
    assert_eq!(form.len(), 2);
    assert_eq!(form[0], ("secret".to_owned(), SECRET.to_owned()));
    assert_eq!(form[1], ("response".to_owned(), token.to_owned()));
    // remoteip is only forwarded when plausible.
    let c = cx(&sv).header("cf-turnstile-response", "ok-ip").header("cf-connecting-ip", &"1".repeat(100)).build();
    verify::<Turnstile>(c).unwrap();
    assert!(form_of(&sv.requests.borrow()[1]).iter().all(|(k, _)| k != "remoteip"));
}

#[test]
fn missing_secret_is_503_without_calling_siteverify() {
    let sv = FakeSiteverify::new();
    for secret in [None, Some(""), Some("  ")] {
        let c = VerifyCx::builder()
            .secrets(move |_| secret.map(str::to_owned))
            .fetcher(sv.fetcher())
            .header("cf-turnstile-response", TOKEN)
            .build();
        assert_eq!(deny(verify::<Turnstile>(c)), DenyKind::Unavailable, "{secret:?}");
    }
    assert_eq!(sv.calls(), 0);
}

// ---- one siteverify call per token at a time ---------------------------------------------------

/// `sv`'s fetcher, answering only after giving other futures `turns` turns (a slow siteverify).
fn slow(sv: &Rc<FakeSiteverify>, turns: usize) -> Fetcher {
    let inner = sv.fetcher();
    Rc::new(move |req: OutboundRequest| -> FetchFuture {
        let answer = inner(req);
        Box::pin(async move {
            for _ in 0..turns {
                let mut yielded = false;
                std::future::poll_fn(|c| {
                    if yielded {
                        std::task::Poll::Ready(())
                    } else {
                        yielded = true;
                        c.waker().wake_by_ref();
                        std::task::Poll::Pending
                    }
                })
                .await;
            }
            answer.await
        })
    })
}

/// `n` verifications of `token` at once, through contexts sharing one verifier state.
fn concurrent(sv: &Rc<FakeSiteverify>, token: &str, n: usize) -> Vec<Result<TurnstileClaims, Deny>> {
    let state = Rc::new(layers_core::identity::VerifierState::new());
    let cxs: Vec<VerifyCx<'_>> = (0..n)
        .map(|_| cx(sv).fetcher(slow(sv, 10)).state(state.clone()).header(TURNSTILE_FIELD, token).build())
        .collect();
    block_on(futures::future::join_all(cxs.iter().map(|c| <Turnstile as Verifier>::verify(c))))
}

#[test]
fn concurrent_requests_with_one_token_make_one_call_and_only_one_passes() {
    let sv = FakeSiteverify::new();
    let answers = concurrent(&sv, TOKEN, 30);
    assert_eq!(sv.calls(), 1, "one siteverify call for 30 requests carrying one token");
    assert_eq!(answers.iter().filter(|a| a.is_ok()).count(), 1, "a token verifies once");
    for a in answers.into_iter().filter(Result::is_err) {
        assert_eq!(deny(a), DenyKind::Invalid, "the others are a duplicate: 403");
    }
    // The turn is over: the next request with the token asks siteverify, which says spent.
    let again = verify::<Turnstile>(cx(&sv).header(TURNSTILE_FIELD, TOKEN).build());
    assert_eq!(deny(again), DenyKind::Invalid);
    assert_eq!(sv.calls(), 2);
}

#[test]
fn a_refusal_or_an_outage_is_shared_by_the_requests_that_waited() {
    let sv = FakeSiteverify::new();
    let refused = concurrent(&sv, "bad-token", 10);
    assert_eq!(sv.calls(), 1);
    assert!(refused.into_iter().all(|a| deny(a) == DenyKind::Invalid));
    let outage = concurrent(&sv, "boom", 10);
    assert_eq!(sv.calls(), 2);
    assert!(outage.into_iter().all(|a| deny(a) == DenyKind::Unavailable));
}

#[test]
fn different_tokens_are_not_coalesced() {
    let sv = FakeSiteverify::new();
    let state = Rc::new(layers_core::identity::VerifierState::new());
    let tokens = ["ok.1.aaaa", "ok.2.bbbb", "ok.3.cccc"];
    let cxs: Vec<VerifyCx<'_>> = tokens
        .iter()
        .map(|t| cx(&sv).fetcher(slow(&sv, 5)).state(state.clone()).header(TURNSTILE_FIELD, t).build())
        .collect();
    let answers = block_on(futures::future::join_all(cxs.iter().map(|c| <Turnstile as Verifier>::verify(c))));
    assert_eq!(sv.calls(), 3);
    assert!(answers.iter().all(Result::is_ok));
}
