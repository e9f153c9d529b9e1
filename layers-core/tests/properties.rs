//! Property tests (proptest): path normalization, routing of protected paths, and the round trips
//! and tamper resistance of `SignedToken` and `Webhook`.
//!
//! Case counts are kept modest so `cargo test --workspace` stays fast; raise them locally with
//! `PROPTEST_CASES=10000 cargo test -p layers-core --test properties`.

use futures::executor::block_on;
use layers_core::identity::{
    mint, sign_webhook, webhook_key, DefaultToken, SignedToken, TokenClaims, Verifier, VerifyCx, Webhook,
};
use layers_core::request::path::normalize;
use layers_core::request::pattern::{Method, Seg, Seg::*};
use layers_core::request::router::{Routed, Router};
use proptest::prelude::*;

/// `n` cases, or `PROPTEST_CASES` when set.
fn cases(n: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(n)
}

// ---- routes: the reference app's patterns and identities ----------------------------------------

/// `(method, pattern, identity)` as declared in app/src (a subset with every shape: root,
/// literals, `:params`, a trailing `*`, the same path under several methods).
const ROUTES: &[(Method, &[Seg], &str)] = &[
    (Method::Get, &[], "Public"),
    (Method::Get, &[Lit("blog"), Param("slug")], "Public"),
    (Method::Get, &[Lit("og"), Param("file")], "Public"),
    (Method::Get, &[Lit("search")], "Public"),
    (Method::Get, &[Lit("hello"), Param("name")], "Public"),
    (Method::Post, &[Lit("api"), Lit("subscribe")], "SubscribeForm"),
    (Method::Get, &[Lit("api"), Lit("confirm"), Param("token")], "ConfirmToken"),
    (Method::Post, &[Lit("api"), Lit("unsubscribe"), Param("token")], "UnsubscribeToken"),
    (Method::Get, &[Lit("api"), Lit("unsubscribe"), Param("token")], "UnsubscribeToken"),
    (Method::Get, &[Lit("api"), Lit("subscribers")], "ApiKey"),
    (Method::Post, &[Lit("api"), Lit("subscribers")], "ApiKey"),
    (Method::Post, &[Lit("api"), Lit("subscribers"), Lit("typed")], "ApiKey"),
    (Method::Delete, &[Lit("api"), Lit("subscribers"), Param("email")], "ApiKey"),
    (Method::Get, &[Lit("api"), Lit("files"), Param("name")], "ApiKey"),
    (Method::Put, &[Lit("api"), Lit("files"), Param("name")], "ApiKey"),
    (Method::Get, &[Lit("api"), Lit("whoami")], "AnyOf<ApiKey, AccessJwt>"),
    (Method::Get, &[Lit("admin"), Rest], "Admin"),
    (Method::Post, &[Lit("admin"), Lit("flags"), Param("name")], "Admin"),
    (Method::Post, &[Lit("admin"), Lit("reindex")], "Admin"),
    (Method::Post, &[Lit("api"), Lit("email-inbound")], "Webhook"),
];

fn router() -> &'static Router {
    static R: std::sync::OnceLock<Router> = std::sync::OnceLock::new();
    R.get_or_init(|| Router::new(ROUTES.iter().map(|(m, s, _)| (*m, *s))).expect("the app's routes build"))
}

/// How a lenient server (or a proxy in front) might read a raw path: percent-decoding twice,
/// `\` as `/`, empty and `.` segments dropped, `..` resolved. The router must never be fooled
/// into a *different* handler than this reading lands on when that one is protected.
fn lenient(raw: &str) -> String {
    fn decode(s: &str) -> String {
        let b = s.as_bytes();
        let mut out = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'%' && i + 2 < b.len() {
                let hex = |c: u8| (c as char).to_digit(16);
                if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
            }
            out.push(b[i]);
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    let decoded = decode(&decode(raw)).replace('\\', "/");
    let mut stack: Vec<&str> = Vec::new();
    for seg in decoded.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                stack.pop();
            }
            s => stack.push(s),
        }
    }
    format!("/{}", stack.join("/"))
}

/// The route index a method and normalized path reach, if any.
fn found(method: Method, path: &str) -> Option<usize> {
    match router().route(Some(method), path) {
        Routed::Found { index, .. } => Some(index),
        _ => None,
    }
}

// ---- path generators ----------------------------------------------------------------------------

/// Segments that matter: route literals in several spellings, encodings of `/`, `\`, `%` and dots,
/// control characters, invalid UTF-8, look-alike Unicode.
fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "admin", "api", "subscribers", "flags", "files", "whoami", "blog", "typed", "x",
            "ada@example.com", "ada%40example.com", "ADMIN", "Admin", "aDmIn", "%61dmin", "%41dmin",
            "%61%64%6d%69%6e", "ａｄｍｉｎ", "ad\u{200b}min", "admin\u{0301}", "é", "caf%C3%A9", "%C3%A9",
            ".", "..", "%2e", "%2E", "%2e%2e", ".%2e", "%2E.", "", "%2f", "%2F", "%5c", "%5C", "\\",
            "%00", "%0a", "%7f", "%25", "%252f", "%2561dmin", "%", "%4", "%zz", "%ff", "%c3", "%C0%AF",
            "%C2%85", "\u{85}", "%c2%9a", "\u{2028}", "%E2%80%AE", "a%20b", "a b", "a;b", "a?b", "a#b", "%3f", "%23", "*", ":email", "{p0}", "{*rest}",
        ]).prop_map(str::to_owned),
        2 => "[a-zA-Z0-9._~%-]{0,6}",
        // Latin-1 (C0 and C1 controls, NBSP, …), each raw or percent-encoded.
        2 => prop::collection::vec((prop::char::range('\0', '\u{ff}'), any::<bool>()), 1..4).prop_map(|cs| {
            cs.into_iter().map(|(c, enc)| if enc { encode(c, c.is_ascii_digit()) } else { c.to_string() }).collect()
        }),
        1 => "\\PC{0,4}",
        1 => any::<String>().prop_map(|s| s.chars().take(4).collect()),
    ]
}

/// A raw path: `/` + segments, maybe a trailing `/`, maybe doubled slashes.
fn raw_path() -> impl Strategy<Value = String> {
    (prop::collection::vec(segment(), 0..6), any::<bool>(), any::<bool>()).prop_map(|(segs, trailing, double)| {
        let sep = if double { "//" } else { "/" };
        let mut p = format!("/{}", segs.join(sep));
        if trailing {
            p.push('/');
        }
        p
    })
}

/// A concrete path of a protected route.
fn protected_target() -> impl Strategy<Value = (Method, String)> {
    let tail = "[a-zA-Z0-9@._~é-]{1,12}";
    prop_oneof![
        (prop::collection::vec(tail, 1..4)).prop_map(|t| (Method::Get, format!("/admin/{}", t.join("/")))),
        tail.prop_map(|e| (Method::Delete, format!("/api/subscribers/{e}"))),
        tail.prop_map(|n| (Method::Post, format!("/admin/flags/{n}"))),
        tail.prop_map(|n| (Method::Put, format!("/api/files/{n}"))),
        Just((Method::Get, "/api/subscribers".to_owned())),
        Just((Method::Post, "/api/subscribers/typed".to_owned())),
        Just((Method::Get, "/api/whoami".to_owned())),
        Just((Method::Post, "/api/email-inbound".to_owned())),
        tail.prop_map(|t| (Method::Get, format!("/api/confirm/{t}"))),
    ]
}

/// How one character of a target path is disguised.
#[derive(Debug, Clone)]
enum Disguise {
    Plain,
    EncodeLower,
    EncodeUpper,
    DoubleEncode,
    FlipCase,
    DotBefore,
    DotDotBefore(String),
    DoubleSlash,
    Backslash,
}

fn disguise() -> impl Strategy<Value = Disguise> {
    prop_oneof![
        12 => Just(Disguise::Plain),
        2 => Just(Disguise::EncodeLower),
        2 => Just(Disguise::EncodeUpper),
        1 => Just(Disguise::DoubleEncode),
        1 => Just(Disguise::FlipCase),
        1 => Just(Disguise::DotBefore),
        1 => "[a-z]{1,5}|%2e|\\.".prop_map(Disguise::DotDotBefore),
        1 => Just(Disguise::DoubleSlash),
        1 => Just(Disguise::Backslash),
    ]
}

fn encode(c: char, upper: bool) -> String {
    let mut buf = [0u8; 4];
    c.encode_utf8(&mut buf).bytes().map(|b| if upper { format!("%{b:02X}") } else { format!("%{b:02x}") }).collect()
}

/// A protected path with some characters disguised.
fn disguised() -> impl Strategy<Value = (Method, String, String)> {
    protected_target().prop_flat_map(|(m, target)| {
        let n = target.chars().count();
        (Just(m), Just(target), prop::collection::vec(disguise(), n..=n)).prop_map(|(m, target, ds)| {
            let mut raw = String::new();
            for (c, d) in target.chars().zip(ds) {
                match (c, d) {
                    (_, Disguise::Plain) => raw.push(c),
                    (_, Disguise::EncodeLower) => raw.push_str(&encode(c, false)),
                    (_, Disguise::EncodeUpper) => raw.push_str(&encode(c, true)),
                    (_, Disguise::DoubleEncode) => raw.push_str(&encode(c, true).replace('%', "%25")),
                    (_, Disguise::FlipCase) if c.is_ascii_alphabetic() => raw.push((c as u8 ^ 0x20) as char),
                    ('/', Disguise::DotBefore) => raw.push_str("/./"),
                    ('/', Disguise::DotDotBefore(s)) => raw.push_str(&format!("/{s}/../")),
                    ('/', Disguise::DoubleSlash) => raw.push_str("//"),
                    ('/', Disguise::Backslash) => raw.push('\\'),
                    (c, _) => raw.push(c),
                }
            }
            (m, target, raw)
        })
    })
}

fn assert_canonical(p: &str) {
    assert!(p.starts_with('/'), "{p:?}");
    assert!(!p.contains('%') && !p.contains('\\'), "{p:?} holds an escape or a backslash");
    let segs: Vec<&str> = p[1..].split('/').collect();
    for (i, s) in segs.iter().enumerate() {
        assert!(*s != "." && *s != "..", "{p:?} holds a dot segment");
        assert!(!s.is_empty() || i == segs.len() - 1, "{p:?} holds an empty segment");
        assert!(!s.chars().any(char::is_control), "{p:?} holds a control character");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(512), ..ProptestConfig::default() })]

    /// Normalization is idempotent and its output is canonical, for paths built from hostile
    /// segments, for arbitrary printable text and for arbitrary Unicode.
    #[test]
    fn normalization_is_idempotent_and_canonical(
        raw in prop_oneof![raw_path(), "/[ -~]{0,40}", "/\\PC{0,20}", any::<String>()]
    ) {
        if let Ok(p) = normalize(&raw) {
            assert_canonical(&p);
            prop_assert_eq!(normalize(&p), Ok(p.clone()));
        }
    }

    /// A disguised path to a protected route is refused, or reaches that very route (and so its
    /// verifier); it never reaches another handler.
    #[test]
    fn disguised_protected_paths_are_refused_or_routed_to_their_route((method, target, raw) in disguised()) {
        let want = found(method, &target).expect("the target path routes");
        prop_assert_ne!(ROUTES[want].2, "Public");
        match normalize(&raw) {
            Err(_) => {}
            Ok(p) => {
                assert_canonical(&p);
                if let Some(got) = found(method, &p) {
                    prop_assert_eq!(got, want, "{:?} normalized to {:?}, routed to {:?} instead of {:?}",
                        raw, p, ROUTES[got].1, ROUTES[want].1);
                    prop_assert_eq!(ROUTES[got].2, ROUTES[want].2);
                }
            }
        }
    }

    /// For any path: whenever a lenient reading (decode twice, `\` as `/`, resolve dots, drop
    /// empty segments) reaches a protected route, the router refuses the path or picks that same
    /// route — under every method.
    #[test]
    fn lenient_readings_of_protected_routes_never_reach_another_handler(
        raw in prop_oneof![raw_path(), disguised().prop_map(|(_, _, raw)| raw)]
    ) {
        let alt = lenient(&raw);
        for method in Method::CONCRETE {
            let Some(theirs) = found(method, &alt) else { continue };
            if ROUTES[theirs].2 == "Public" {
                continue;
            }
            if let Ok(p) = normalize(&raw) {
                if let Some(ours) = found(method, &p) {
                    prop_assert_eq!(ours, theirs, "{} {:?}: lenient {:?}, strict {:?}", method.as_str(), raw, alt, p);
                }
            }
        }
    }
}

// ---- SignedToken ----------------------------------------------------------------------------------

const NOW: u64 = 1_800_000_000;

fn token_key() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 32..80)
}

fn payload() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), "[a-z0-9.+-]{1,20}@example\\.com", "\\PC{0,200}"]
}

fn purpose() -> impl Strategy<Value = String> {
    prop_oneof!["[a-z_-]{1,16}", any::<String>()]
}

/// Drives the real `Verifier` (the `:token` path parameter of [`DefaultToken`]).
fn verify_param(key: &[u8], token: &str, now: u64) -> Result<TokenClaims, layers_core::Deny> {
    let secret = String::from_utf8_lossy(key).into_owned();
    let cx = VerifyCx::builder()
        .now(now)
        .secrets(move |n| (n == "SIGNING_KEY").then(|| secret.clone()))
        .param("token", token)
        .build();
    block_on(<SignedToken as Verifier>::verify(&cx))
}

/// A token changed in one byte, cut short, or extended.
#[derive(Debug, Clone)]
enum Tamper {
    Replace(prop::sample::Index, char),
    Truncate(prop::sample::Index),
    Extend(String),
}

fn tamper() -> impl Strategy<Value = Tamper> {
    prop_oneof![
        4 => (any::<prop::sample::Index>(), prop_oneof![3 => (0x20u8..0x7f).prop_map(char::from), 1 => any::<char>()])
            .prop_map(|(i, c)| Tamper::Replace(i, c)),
        1 => any::<prop::sample::Index>().prop_map(Tamper::Truncate),
        1 => prop_oneof!["[A-Za-z0-9_=.-]{1,4}", "\\PC{1,3}"].prop_map(Tamper::Extend),
    ]
}

/// Applies `t` to the ASCII string `s`; `None` when it would leave `s` unchanged.
fn apply(s: &str, t: &Tamper) -> Option<String> {
    assert!(s.is_ascii());
    match t {
        Tamper::Replace(i, c) => {
            let at = i.index(s.len());
            (s.as_bytes()[at] as char != *c).then(|| format!("{}{c}{}", &s[..at], &s[at + 1..]))
        }
        Tamper::Truncate(i) => Some(s[..i.index(s.len())].to_owned()),
        Tamper::Extend(x) => Some(format!("{s}{x}")),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(256), ..ProptestConfig::default() })]

    /// mint → verify gives back the payload and expiry, for any payload and purpose, and the
    /// token verifies for nothing else: another purpose, another key, or after its expiry.
    #[test]
    fn signed_token_round_trip(
        key in token_key(), other_key in token_key(), purpose in purpose(), other in purpose(),
        payload in payload(), ttl in 1u64..1_000_000_000,
    ) {
        let exp = NOW + ttl;
        let t = mint(&key, &purpose, &payload, exp);
        let ok = SignedToken::<DefaultToken>::verify_token(&key, &purpose, &t, NOW);
        if t.len() > layers_core::identity::MAX_TOKEN_LEN {
            prop_assert!(ok.is_err());
            return Ok(());
        }
        prop_assert_eq!(ok, Ok(TokenClaims { payload: payload.clone(), expires_at: exp }));
        prop_assert!(SignedToken::<DefaultToken>::verify_token(&key, &purpose, &t, exp).is_err());
        if other != purpose {
            prop_assert!(SignedToken::<DefaultToken>::verify_token(&key, &other, &t, NOW).is_err());
        }
        if other_key != key {
            prop_assert!(SignedToken::<DefaultToken>::verify_token(&other_key, &purpose, &t, NOW).is_err());
        }
    }

    /// Through the `Verifier` (key from the `SIGNING_KEY` secret): the minted token passes, and
    /// any single-byte change, truncation or extension of it never does.
    #[test]
    fn tampered_signed_tokens_never_verify(
        key in "[ -~]{32,64}", payload in payload(), ttl in 1u64..1_000_000_000,
        tampers in prop::collection::vec(tamper(), 1..8),
    ) {
        let t = mint(key.as_bytes(), "token", &payload, NOW + ttl);
        prop_assume!(t.len() <= layers_core::identity::MAX_TOKEN_LEN);
        prop_assert_eq!(verify_param(key.as_bytes(), &t, NOW).map(|c| c.payload), Ok(payload.clone()));
        for tm in &tampers {
            if let Some(bad) = apply(&t, tm) {
                let r = verify_param(key.as_bytes(), &bad, NOW);
                prop_assert!(r.is_err(), "tampered token verified: {:?} ({:?})", bad, tm);
            }
        }
    }
}

// ---- Webhook (Svix) -------------------------------------------------------------------------------

fn secret() -> impl Strategy<Value = String> {
    use base64::Engine as _;
    (prop::collection::vec(any::<u8>(), 16..64), any::<bool>()).prop_map(|(k, prefixed)| {
        let b = base64::engine::general_purpose::STANDARD.encode(k);
        if prefixed {
            format!("whsec_{b}")
        } else {
            b
        }
    })
}

/// A delivery's headers and body, as the real verifier gets them.
fn deliver(secret: &str, id: &str, ts: &str, sig: &str, body: &[u8], now: u64) -> Result<(String, u64), String> {
    let secret = secret.to_owned();
    let cx = VerifyCx::builder()
        .method("POST")
        .now(now)
        .secrets(move |n| (n == "WEBHOOK_SECRET").then(|| secret.clone()))
        .header("svix-id", id)
        .header("svix-timestamp", ts)
        .header("svix-signature", sig)
        .body(body.to_vec())
        .build();
    block_on(<Webhook as Verifier>::verify(&cx)).map(|c| (c.id, c.timestamp)).map_err(|d| d.detail().to_owned())
}

/// Which part of a delivery is changed.
#[derive(Debug, Clone)]
enum Part {
    Body,
    Id,
    Timestamp,
    Signature,
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(256), ..ProptestConfig::default() })]

    /// sign → verify passes (both the pure check and the `Verifier`, within the tolerance), and
    /// any change of one byte of the body, id, timestamp or signature fails.
    #[test]
    fn webhook_round_trip_and_tampering(
        secret in secret(),
        id in "[!-\\-/-~]{1,40}",
        ts in 1_000_000_000u64..4_000_000_000,
        skew in -300i64..=300,
        body in prop::collection::vec(any::<u8>(), 0..300),
        part in prop_oneof![Just(Part::Body), Just(Part::Id), Just(Part::Timestamp), Just(Part::Signature)],
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        printable in 0x21u8..0x7f,
    ) {
        let now = ts.checked_add_signed(skew).expect("in range");
        let sig = sign_webhook(&secret, &id, ts, &body).expect("secret decodes");
        let key = webhook_key(&secret).expect("secret decodes");
        let tss = ts.to_string();
        prop_assert_eq!(Webhook::<layers_core::identity::DefaultWebhook>::check(&key, &id, &tss, &sig, &body, now), Ok(ts));
        prop_assert_eq!(deliver(&secret, &id, &tss, &sig, &body, now), Ok((id.clone(), ts)));

        let (mut id2, mut ts2, mut sig2, mut body2) = (id.clone(), tss.clone(), sig.clone(), body.clone());
        match part {
            Part::Body => {
                if body2.is_empty() {
                    body2.push(byte);
                } else {
                    let i = at.index(body2.len());
                    body2[i] ^= byte.max(1);
                }
            }
            Part::Id | Part::Timestamp | Part::Signature => {
                let s = match part { Part::Id => &mut id2, Part::Timestamp => &mut ts2, _ => &mut sig2 };
                let i = at.index(s.len());
                prop_assume!(s.as_bytes()[i] != printable);
                s.replace_range(i..=i, &char::from(printable).to_string());
            }
        }
        let r = deliver(&secret, &id2, &ts2, &sig2, &body2, now);
        prop_assert!(r.is_err(), "tampered delivery passed: {:?}", r);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(2048), ..ProptestConfig::default() })]

    /// The routing fast path reads `request.url` without a URL parse only when that gives
    /// exactly what the WHATWG parser (`url`, as `worker::Url`) gives: the same path and query.
    #[test]
    fn the_url_fast_path_agrees_with_a_whatwg_parse(
        scheme in prop_oneof![Just("http://"), Just("https://"), Just("HTTP://"), Just("ws://")],
        host in prop_oneof![Just("h"), Just("example.com:8443"), Just("u:p@h"), Just("[::1]"), Just("h.")],
        tail in "[/a-zA-Z0-9%.?#\\\\ ;=@:'\"<>|`{}~!$&()*+,\t\u{e9}2eE-]{0,24}",
    ) {
        let raw = format!("{scheme}{host}{tail}");
        // The runtime only ever hands over a URL it parsed: strings that do not parse are not
        // inputs (their "host" holds junk the generator put there).
        let (Some((path, query)), Ok(u)) = (layers_core::request::path::split_simple_url(&raw), worker::Url::parse(&raw))
        else {
            return Ok(());
        };
        prop_assert_eq!(path, u.path(), "{}", raw);
        prop_assert_eq!(query, u.query(), "{}", raw);
        // What the parser serializes (what the runtime hands over) splits the same way, if simple.
        if let Some(again) = layers_core::request::path::split_simple_url(u.as_str()) {
            prop_assert_eq!(again, (u.path(), u.query()), "{}", raw);
        }
    }
}
