//! Native tests of the `Webhook` verifier (Svix / Standard Webhooks, as Resend sends them), with
//! Svix's published vectors, real HMAC and hostile input.

use futures::executor::block_on;
use layers_core::identity::{
    sign_webhook, webhook_key, Deny, DenyKind, Verifier, VerifyCx, VerifyCxBuilder, Webhook, WebhookConfig,
    MAX_WEBHOOK_ID_LEN, MAX_WEBHOOK_SIGNATURES, MAX_WEBHOOK_SIGNATURE_LEN,
};

// Svix's documented example (docs.svix.com "Verifying Webhooks Manually"; svix-webhooks
// go/webhook_test.go `TestWebhookSign`).
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const TS: u64 = 1_614_265_330;
const BODY: &str = r#"{"test": 2432232314}"#;
const SIG: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
const SIG_B64: &str = "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

fn cx_with<'a>(secret: Option<&'a str>, now: u64) -> VerifyCxBuilder<'a> {
    VerifyCx::builder().method("POST").now(now).secrets(move |name| {
        if name == "WEBHOOK_SECRET" {
            secret.map(str::to_owned)
        } else {
            None
        }
    })
}

fn cx<'a>() -> VerifyCxBuilder<'a> {
    cx_with(Some(SECRET), TS)
}

/// The documented delivery, with the given headers replaced.
fn delivery<'a>(id: &str, ts: &str, sig: &str) -> VerifyCxBuilder<'a> {
    cx().header("svix-id", id).header("svix-timestamp", ts).header("svix-signature", sig).body(BODY)
}

fn verify<V: Verifier>(cx: VerifyCx<'_>) -> Result<V::Claims, Deny> {
    block_on(V::verify(&cx))
}

/// The denial, after checking its detail leaks neither the signature nor the secret.
fn deny(r: Result<layers_core::identity::WebhookClaims, Deny>) -> DenyKind {
    let d = r.expect_err("expected a denial");
    for leak in [SIG_B64, &SIG_B64[..12], "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_"] {
        assert!(!d.detail().contains(leak), "detail leaks {leak:?}: {}", d.detail());
    }
    d.kind()
}

// The body is signed, so the verifier asks for it.
const _: () = assert!(<Webhook as Verifier>::BODY);

fn ts() -> String {
    TS.to_string()
}

#[test]
fn reproduces_svixs_published_signatures() {
    assert_eq!(sign_webhook(SECRET, ID, TS, BODY.as_bytes()).unwrap(), SIG);
    // svix-webhooks rust/src/webhooks.rs `test_sign`.
    assert_eq!(
        sign_webhook(
            "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
            "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
            1_649_367_553,
            br#"{"email":"test@example.com","username":"test_user"}"#
        )
        .unwrap(),
        "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="
    );
}

#[test]
fn accepts_svixs_documented_delivery() {
    let c = verify::<Webhook>(delivery(ID, &ts(), SIG).build()).unwrap();
    assert_eq!(c.id, ID);
    assert_eq!(c.timestamp, TS);
    // Header names are case-insensitive.
    let upper =
        cx().header("Svix-Id", ID).header("SVIX-TIMESTAMP", &ts()).header("Svix-Signature", SIG).body(BODY).build();
    verify::<Webhook>(upper).unwrap();
}

#[test]
fn accepts_the_second_published_vector() {
    let body = br#"{"email":"test@example.com","username":"test_user"}"#;
    let c = VerifyCx::builder()
        .now(1_649_367_553)
        .secrets(|_| Some("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD".into()))
        .header("svix-id", "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk")
        .header("svix-timestamp", "1649367553")
        .header("svix-signature", "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=")
        .body(body.to_vec())
        .build();
    verify::<Webhook>(c).unwrap();
}

#[test]
fn unbranded_webhook_headers_and_mixtures() {
    let unbranded = cx()
        .header("webhook-id", ID)
        .header("webhook-timestamp", &ts())
        .header("webhook-signature", SIG)
        .body(BODY)
        .build();
    assert_eq!(verify::<Webhook>(unbranded).unwrap().id, ID);
    // Both spellings, agreeing.
    let both = delivery(ID, &ts(), SIG)
        .header("webhook-id", ID)
        .header("webhook-timestamp", &ts())
        .header("webhook-signature", SIG)
        .build();
    verify::<Webhook>(both).unwrap();
    // Each header looked up on its own, as the Svix libraries do.
    let mixed =
        cx().header("svix-id", ID).header("webhook-timestamp", &ts()).header("svix-signature", SIG).body(BODY).build();
    verify::<Webhook>(mixed).unwrap();
}

#[test]
fn conflicting_aliases_are_refused() {
    let other_sig = sign_webhook(SECRET, "msg_other", TS, BODY.as_bytes()).unwrap();
    for (name, value) in
        [("webhook-id", "msg_other"), ("webhook-timestamp", "1614265331"), ("webhook-signature", other_sig.as_str())]
    {
        let c = delivery(ID, &ts(), SIG).header(name, value).build();
        assert_eq!(deny(verify::<Webhook>(c)), DenyKind::Invalid, "{name}");
    }
    // Even when the unbranded family alone would verify.
    let c = cx()
        .header("svix-id", "msg_other")
        .header("webhook-id", ID)
        .header("webhook-timestamp", &ts())
        .header("webhook-signature", SIG)
        .body(BODY)
        .build();
    assert_eq!(deny(verify::<Webhook>(c)), DenyKind::Invalid);
}

#[test]
fn every_flipped_body_byte_is_refused() {
    let body = BODY.as_bytes();
    let mut tried = 0;
    for i in 0..body.len() {
        for bit in [0x01u8, 0x20, 0x80] {
            let mut b = body.to_vec();
            b[i] ^= bit;
            let c = cx().header("svix-id", ID).header("svix-timestamp", &ts()).header("svix-signature", SIG).body(b);
            assert_eq!(deny(verify::<Webhook>(c.build())), DenyKind::Invalid, "byte {i} ^ {bit:#x}");
            tried += 1;
        }
    }
    assert_eq!(tried, body.len() * 3);
    // Truncated, extended, re-serialized, empty.
    let mut reserialized = BODY.replace(": ", ":");
    reserialized.push(' ');
    for b in [&BODY[..BODY.len() - 1], &format!("{BODY} "), &format!("{BODY}\n"), &reserialized, ""] {
        let c = cx().header("svix-id", ID).header("svix-timestamp", &ts()).header("svix-signature", SIG).body(b);
        assert_eq!(deny(verify::<Webhook>(c.build())), DenyKind::Invalid, "{b:?}");
    }
}

#[test]
fn tampered_id_and_timestamp_are_refused() {
    for id in ["msg_p5jXN8AQM9LWM0D4loKWxJeK", "msg_p5jXN8AQM9LWM0D4loKWxJe", "msg_p5jXN8AQM9LWM0D4loKWxJekk", "x"] {
        assert_eq!(deny(verify::<Webhook>(delivery(id, &ts(), SIG).build())), DenyKind::Invalid, "{id}");
    }
    // Another second, within tolerance of the clock: the MAC no longer matches.
    for t in [TS - 1, TS + 1] {
        let c = delivery(ID, &t.to_string(), SIG).build();
        assert_eq!(deny(verify::<Webhook>(c)), DenyKind::Invalid, "{t}");
    }
    // Not canonical decimal seconds.
    for t in [
        "+1614265330",
        "01614265330",
        " 1614265330",
        "1614265330 ",
        "1614265330.0",
        "1614265330000",
        "-1",
        "0x6037",
        "",
        "99999999999999999999999",
        "١٦١٤٢٦٥٣٣٠",
    ] {
        let c = delivery(ID, t, SIG).build();
        let k = deny(verify::<Webhook>(c));
        // An empty header counts as absent.
        let want = if t.is_empty() { DenyKind::Missing } else { DenyKind::Invalid };
        assert_eq!(k, want, "{t:?}");
    }
}

#[test]
fn ids_that_could_shift_the_dot_boundaries_are_refused() {
    // A body that starts with digits makes "{id}.{ts}.{body}" ambiguous if ids may hold dots:
    // the id must not.
    let body = "1614265999.rest";
    let sig = sign_webhook(SECRET, "msg", TS, body.as_bytes()).unwrap();
    let ok =
        cx().header("svix-id", "msg").header("svix-timestamp", &ts()).header("svix-signature", &sig).body(body).build();
    verify::<Webhook>(ok).unwrap();
    let shifted = cx_with(Some(SECRET), 1_614_265_999)
        .header("svix-id", &format!("msg.{TS}"))
        .header("svix-timestamp", "1614265999")
        .header("svix-signature", &sig)
        .body("rest")
        .build();
    assert_eq!(deny(verify::<Webhook>(shifted)), DenyKind::Invalid);
    for id in ["msg id", "msg\tid", "msg\u{7f}", "msg_é"] {
        let sig = sign_webhook(SECRET, id, TS, BODY.as_bytes()).unwrap();
        assert_eq!(deny(verify::<Webhook>(delivery(id, &ts(), &sig).build())), DenyKind::Invalid, "{id:?}");
    }
}

#[test]
fn tolerance_is_five_minutes_either_way_inclusive() {
    for now in [TS - 300, TS, TS + 300] {
        let c = cx_with(Some(SECRET), now)
            .header("svix-id", ID)
            .header("svix-timestamp", &ts())
            .header("svix-signature", SIG)
            .body(BODY);
        verify::<Webhook>(c.build()).unwrap_or_else(|e| panic!("now {now}: {e:?}"));
    }
    // Stale (signed 301 s ago) and future (signed 301 s ahead).
    for now in [TS + 301, TS - 301, TS + 86_400, 0, u64::MAX] {
        let c = cx_with(Some(SECRET), now)
            .header("svix-id", ID)
            .header("svix-timestamp", &ts())
            .header("svix-signature", SIG)
            .body(BODY);
        assert_eq!(deny(verify::<Webhook>(c.build())), DenyKind::Invalid, "now {now}");
    }
    // A fresh signature over a far-future timestamp is still refused.
    let far = u64::MAX;
    let sig = sign_webhook(SECRET, ID, far, BODY.as_bytes()).unwrap();
    assert_eq!(deny(verify::<Webhook>(delivery(ID, &far.to_string(), &sig).build())), DenyKind::Invalid);
}

struct OneMinute;
impl WebhookConfig for OneMinute {
    const SECRET: &'static str = "WEBHOOK_SECRET";
    const TOLERANCE_SECS: u64 = 60;
}

#[test]
fn tolerance_is_configurable() {
    let at = |now: u64| {
        cx_with(Some(SECRET), now)
            .header("svix-id", ID)
            .header("svix-timestamp", &ts())
            .header("svix-signature", SIG)
            .body(BODY)
            .build()
    };
    verify::<Webhook<OneMinute>>(at(TS + 60)).unwrap();
    assert_eq!(deny(verify::<Webhook<OneMinute>>(at(TS + 61))), DenyKind::Invalid);
    assert_eq!(deny(verify::<Webhook<OneMinute>>(at(TS - 61))), DenyKind::Invalid);
}

#[test]
fn any_matching_v1_entry_among_several() {
    let rotated = sign_webhook("whsec_c2VjcmV0LW9mLWEtcm90YXRlZC1lbmRwb2ludA==", ID, TS, BODY.as_bytes()).unwrap();
    for header in [
        format!("{rotated} {SIG}"),
        format!("{SIG} {rotated}"),
        format!("v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v2,{SIG_B64} {SIG} v1a,xyz"),
        format!("v1,!!! v1, v1 {SIG}"),
        format!("  {SIG}  "),
        format!("{} {SIG}", vec!["v1,AAAA"; MAX_WEBHOOK_SIGNATURES - 1].join(" ")),
    ] {
        verify::<Webhook>(delivery(ID, &ts(), &header).build()).unwrap_or_else(|e| panic!("{header}: {e:?}"));
    }
    // None matching.
    let none = format!("{rotated} v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=");
    assert_eq!(deny(verify::<Webhook>(delivery(ID, &ts(), &none).build())), DenyKind::Invalid);
    // More entries than looked at, even with the good one among them.
    let many = format!("{} {SIG}", vec!["v1,AAAA"; MAX_WEBHOOK_SIGNATURES].join(" "));
    assert_eq!(deny(verify::<Webhook>(delivery(ID, &ts(), &many).build())), DenyKind::Invalid);
}

#[test]
fn other_versions_and_malformed_signatures_are_refused() {
    let url_safe = SIG_B64.replace('+', "-").replace('/', "_");
    let cases = [
        format!("v2,{SIG_B64}"),
        format!("v1a,{SIG_B64}"),
        format!("V1,{SIG_B64}"),
        format!("v0,{SIG_B64}"),
        format!("v1={SIG_B64}"),
        format!("v1;{SIG_B64}"),
        format!(",{SIG_B64}"),
        SIG_B64.to_owned(),
        format!("v1,{url_safe}"),
        format!("v1,{}", SIG_B64.trim_end_matches('=')),
        format!("v1,{SIG_B64}="),
        format!("v1,{SIG_B64}AAAA"),
        format!("v1,{}", &SIG_B64[..40]),
        format!("v1,{}", SIG_B64.to_lowercase()),
        format!("v1, {SIG_B64}"),
        format!("v1,{SIG_B64},"),
        format!("v1,{SIG_B64}\u{0}"),
        "v1,".into(),
        "v1".into(),
        "v1,!!!!not base64!!!!".into(),
        "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".into(),
        format!("v1,{SIG_B64},v1,{SIG_B64}"), // comma-joined, as a duplicated header might arrive
    ];
    for sig in &cases {
        assert_eq!(deny(verify::<Webhook>(delivery(ID, &ts(), sig).build())), DenyKind::Invalid, "{sig:?}");
    }
}

#[test]
fn missing_headers_are_401() {
    let all = [("svix-id", ID.to_owned()), ("svix-timestamp", ts()), ("svix-signature", SIG.to_owned())];
    for skip in 0..3 {
        let mut c = cx().body(BODY);
        for (i, (k, v)) in all.iter().enumerate() {
            if i != skip {
                c = c.header(k, v);
            }
        }
        assert_eq!(deny(verify::<Webhook>(c.build())), DenyKind::Missing, "without {}", all[skip].0);
        // And with the header present but empty.
        let mut c = cx().body(BODY);
        for (i, (k, v)) in all.iter().enumerate() {
            c = c.header(k, if i == skip { "" } else { v });
        }
        assert_eq!(deny(verify::<Webhook>(c.build())), DenyKind::Missing, "empty {}", all[skip].0);
    }
    assert_eq!(deny(verify::<Webhook>(cx().body(BODY).build())), DenyKind::Missing);
    // Other providers' signature headers are not ours.
    let stripe = cx().header("stripe-signature", "t=1,v1=abc").body(BODY).build();
    assert_eq!(deny(verify::<Webhook>(stripe)), DenyKind::Missing);
}

#[test]
fn headers_sent_twice_are_refused() {
    for name in ["svix-id", "svix-timestamp", "svix-signature", "webhook-signature"] {
        let value = match name {
            "svix-id" => ID.to_owned(),
            "svix-timestamp" => ts(),
            _ => SIG.to_owned(),
        };
        let mut c = delivery(ID, &ts(), SIG).header(name, &value);
        if name == "webhook-signature" {
            c = c.header(name, &value);
        }
        assert_eq!(deny(verify::<Webhook>(c.build())), DenyKind::Invalid, "{name}");
    }
}

#[test]
fn secrets_wrong_bare_and_unusable() {
    // The wrong (well-formed) secret.
    let wrong = cx_with(Some("whsec_c2VjcmV0LW9mLWEtcm90YXRlZC1lbmRwb2ludA=="), TS)
        .header("svix-id", ID)
        .header("svix-timestamp", &ts())
        .header("svix-signature", SIG)
        .body(BODY);
    assert_eq!(deny(verify::<Webhook>(wrong.build())), DenyKind::Invalid);
    // The same key without the prefix, or with spaces around it (as pasted), verifies.
    for s in ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", " whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n"] {
        let c = cx_with(Some(s), TS)
            .header("svix-id", ID)
            .header("svix-timestamp", &ts())
            .header("svix-signature", SIG)
            .body(BODY);
        verify::<Webhook>(c.build()).unwrap_or_else(|e| panic!("{s:?}: {e:?}"));
    }
    // Unset, empty, not base64, too short: 503, whatever the request.
    for s in [
        None,
        Some(""),
        Some("whsec_"),
        Some("whsec_!!!!notbase64!!!!"),
        Some("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS"),
        Some("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw-_"),
        Some("whsec_c2hvcnQ="),
        Some("a plain shared secret"),
    ] {
        for req in [delivery(ID, &ts(), SIG), VerifyCx::builder().body(BODY)] {
            let c = req.now(TS).secrets(move |_| s.map(str::to_owned)).build();
            let d = verify::<Webhook>(c).unwrap_err();
            assert_eq!(d.kind(), DenyKind::Unavailable, "{s:?}");
            if let Some(s) = s.filter(|s| s.len() > 8) {
                assert!(!d.detail().contains(&s[6..]), "{}", d.detail());
            }
        }
    }
    assert!(webhook_key("whsec_c2hvcnQ=").is_err());
    assert_eq!(webhook_key(SECRET).unwrap().len(), 24);
}

struct Resend;
impl WebhookConfig for Resend {
    const SECRET: &'static str = "RESEND_WEBHOOK_SECRET";
    const NAME: &'static str = "ResendWebhook";
}

#[test]
fn secret_name_is_configurable() {
    let c = VerifyCx::builder()
        .now(TS)
        .secrets(|n| (n == "RESEND_WEBHOOK_SECRET").then(|| SECRET.to_owned()))
        .header("svix-id", ID)
        .header("svix-timestamp", &ts())
        .header("svix-signature", SIG)
        .body(BODY)
        .build();
    verify::<Webhook<Resend>>(c).unwrap();
    assert_eq!(<Webhook<Resend> as Verifier>::NAME, "ResendWebhook");
    // The default secret name is not consulted.
    assert_eq!(deny(verify::<Webhook<Resend>>(delivery(ID, &ts(), SIG).build())), DenyKind::Unavailable);
}

#[test]
fn oversized_headers_are_refused_unread() {
    let long_id = "m".repeat(MAX_WEBHOOK_ID_LEN);
    let sig = sign_webhook(SECRET, &long_id, TS, BODY.as_bytes()).unwrap();
    verify::<Webhook>(delivery(&long_id, &ts(), &sig).build()).unwrap();
    let too_long = "m".repeat(MAX_WEBHOOK_ID_LEN + 1);
    let sig = sign_webhook(SECRET, &too_long, TS, BODY.as_bytes()).unwrap();
    assert_eq!(deny(verify::<Webhook>(delivery(&too_long, &ts(), &sig).build())), DenyKind::Invalid);
    // A signature header over the limit, with the good entry in it.
    let padding = " ".repeat(MAX_WEBHOOK_SIGNATURE_LEN);
    assert_eq!(deny(verify::<Webhook>(delivery(ID, &ts(), &format!("{SIG}{padding}")).build())), DenyKind::Invalid);
    let huge = format!("v1,{} {SIG}", "A".repeat(1 << 20));
    assert_eq!(deny(verify::<Webhook>(delivery(ID, &ts(), &huge).build())), DenyKind::Invalid);
    assert_eq!(deny(verify::<Webhook>(delivery(&"i".repeat(1 << 20), &ts(), SIG).build())), DenyKind::Invalid);
    assert_eq!(deny(verify::<Webhook>(delivery(ID, &"9".repeat(1 << 16), SIG).build())), DenyKind::Invalid);
}

#[test]
fn a_large_body_verifies_byte_for_byte() {
    let body: Vec<u8> = (0..=255u8).cycle().take(1 << 20).collect();
    let sig = sign_webhook(SECRET, ID, TS, &body).unwrap();
    let c = cx().header("svix-id", ID).header("svix-timestamp", &ts()).header("svix-signature", &sig);
    verify::<Webhook>(c.body(body.clone()).build()).unwrap();
    let mut last = body;
    if let Some(b) = last.last_mut() {
        *b ^= 1;
    }
    let c = cx().header("svix-id", ID).header("svix-timestamp", &ts()).header("svix-signature", &sig);
    assert_eq!(deny(verify::<Webhook>(c.body(last).build())), DenyKind::Invalid);
}

#[test]
fn no_body_handed_over_fails_closed() {
    let c = cx().header("svix-id", ID).header("svix-timestamp", &ts()).header("svix-signature", SIG).build();
    assert_eq!(deny(verify::<Webhook>(c)), DenyKind::Unavailable);
}
