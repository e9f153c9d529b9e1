//! The token readers against the codecs they replace: base64ct's `Base64UrlUnpadded` (which
//! jwt-compact decodes tokens with), and jwt-compact's `Claims` parse plus the strict JSON
//! parse, on hostile inputs.

use base64ct::{Base64UrlUnpadded, Encoding as _};
use jwt_compact::{Claims, Empty};
use proptest::prelude::*;

use super::strict_json_object;
use super::*;

fn reference_b64(s: &str) -> Option<Vec<u8>> {
    Base64UrlUnpadded::decode_vec(s).ok()
}

#[test]
fn base64url_is_as_strict_as_base64ct() {
    for (s, want) in [
        ("", Some(&b""[..])),
        ("QQ", Some(b"A")),
        ("QUI", Some(b"AB")),
        ("QUJD", Some(b"ABC")),
        ("-_-_", Some(&[0xfb, 0xff, 0xbf][..])),
        // Non-canonical: unused low bits set.
        ("QR", None),
        ("QUJ", None),
        // Padding, the standard alphabet, whitespace, a length of 4k + 1.
        ("QQ==", None),
        ("QQ=", None),
        ("+/+/", None),
        ("QU JD", None),
        ("QUJD\n", None),
        ("Q", None),
        ("QUJDR", None),
        ("QUJ\u{e9}", None),
        ("\u{0}\u{0}\u{0}\u{0}", None),
    ] {
        assert_eq!(b64url_decode(s).as_deref(), want, "{s:?}");
        assert_eq!(b64url_decode(s), reference_b64(s), "{s:?}");
    }
    // Every string of up to 4 characters over a few valid and invalid ones.
    let chars = ['A', 'Q', 'B', 'g', 'w', '_', '-', '9', '=', '+', '/', '.', ' ', '\u{ff}'];
    let mut strings = vec![String::new()];
    for _ in 0..4 {
        let longer: Vec<String> = strings.iter().flat_map(|s| chars.iter().map(move |c| format!("{s}{c}"))).collect();
        for s in &longer {
            assert_eq!(b64url_decode(s), reference_b64(s), "{s:?}");
        }
        strings = longer;
    }
}

proptest! {
    #[test]
    fn base64url_matches_base64ct_on_any_text(s in "[A-Za-z0-9_=+/. -]{0,40}") {
        prop_assert_eq!(b64url_decode(&s), reference_b64(&s));
    }

    #[test]
    fn base64url_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let s = Base64UrlUnpadded::encode_string(&bytes);
        prop_assert_eq!(b64url_decode(&s), Some(bytes));
    }
}

/// What the verifier read before: jwt-compact's claims, then the strict object.
fn check_payload(raw: &[u8]) {
    let shown = String::from_utf8_lossy(raw);
    let mine = parse_payload(raw);
    let reference = serde_json::from_slice::<Claims<Empty>>(raw);
    assert_eq!(mine.is_ok(), reference.is_ok(), "{shown}");
    let (Ok(mine), Ok(reference)) = (mine, reference) else { return };
    assert_eq!(mine.exp, reference.expiration.map(|t| t.timestamp()), "{shown}");
    assert_eq!(mine.nbf, reference.not_before.map(|t| t.timestamp()), "{shown}");
    assert_eq!(mine.iat, reference.issued_at.map(|t| t.timestamp()), "{shown}");
    match strict_json_object(raw) {
        Ok(mut strict) => {
            assert!(!mine.duplicate, "{shown}");
            for name in ["exp", "nbf", "iat"] {
                strict.remove(name);
            }
            assert_eq!(mine.claims, strict, "{shown}");
        }
        Err(e) => {
            assert_eq!(e, "duplicate name in JSON object", "{shown}");
            assert!(mine.duplicate, "{shown}");
        }
    }
}

#[test]
fn payload_is_read_as_jwt_compact_and_the_strict_parse_read_it() {
    let deep_ok = format!(r#"{{"a":{}1{}}}"#, "[".repeat(126), "]".repeat(126));
    let too_deep = format!(r#"{{"a":{}1{}}}"#, "[".repeat(200), "]".repeat(200));
    let payloads = [
        r#"{"iss":"https://t.example.com","aud":["x"],"email":"a@example.com","exp":1800000060,"nbf":1,"iat":2}"#,
        "{}",
        "  {}  ",
        "{} x",
        "",
        "null",
        "[]",
        r#""exp""#,
        "1",
        "not json",
        r#"{"exp":"soon"}"#,
        r#"{"exp":null}"#,
        r#"{"exp":true}"#,
        r#"{"exp":[1]}"#,
        r#"{"exp":{"a":1}}"#,
        r#"{"exp":1.9}"#,
        r#"{"exp":-1.9}"#,
        r#"{"exp":-0}"#,
        r#"{"exp":-0.0}"#,
        r#"{"exp":1e3}"#,
        r#"{"exp":1e400}"#,
        r#"{"exp":-1e400}"#,
        r#"{"exp":1e300}"#,
        r#"{"exp":9223372036854775807}"#,
        r#"{"exp":9223372036854775808}"#,
        r#"{"exp":18446744073709551615}"#,
        r#"{"exp":18446744073709551616}"#,
        r#"{"exp":-9223372036854775808}"#,
        r#"{"exp":-9223372036854775809}"#,
        r#"{"exp":8210266876799}"#,
        r#"{"exp":8210266876800}"#,
        r#"{"exp":8210266876799.9}"#,
        r#"{"nbf":-8334601228800}"#,
        r#"{"nbf":-8334601228801}"#,
        r#"{"iat":-8334601228800.5}"#,
        r#"{"iat":-8334601228801.0}"#,
        r#"{"exp":1,"exp":1}"#,
        r#"{"exp":1,"nbf":2,"iat":3,"iat":3}"#,
        r#"{"a":1,"a":1}"#,
        r#"{"a":{"b":1,"b":2}}"#,
        r#"{"a":[{"b":1},{"b":1,"b":1}]}"#,
        r#"{"a":{"b":1,"b":2},"exp":"late"}"#,
        r#"{"a":1,"a":2,"exp":1,"exp":2}"#,
        r#"{"a":1,"a":2,"exp":1}"#,
        r#"{"a":1,"a":2} trailing"#,
        r#"{"\u0065xp":"x"}"#,
        r#"{"\u0065xp":5,"exp":6}"#,
        r#"{"e\u0078p":7}"#,
        r#"{"a":"\ud800"}"#,
        r#"{"a":"\u00e9\n"}"#,
        r#"{"a":1,}"#,
        r#"{"a" 1}"#,
        r#"{"a":01}"#,
        r#"{"a":NaN}"#,
        r#"{"a":1.5e999}"#,
        r#"{"a":123456789012345678901234567890}"#,
        r#"{"exp":123456789012345678901234567890}"#,
        &deep_ok,
        &too_deep,
    ];
    for p in payloads {
        check_payload(p.as_bytes());
    }
    // Not UTF-8: in a value, in a name, outside strings.
    for raw in [&b"{\"a\":\"\xff\"}"[..], b"{\"\xc3\x28\":1}", b"{\"a\":1}\xff", b"\xef\xbb\xbf{}"] {
        check_payload(raw);
    }
    let ok = parse_payload(br#"{"exp":1.9,"nbf":-1.9,"iat":7,"x":{"y":[1,"z",null]}}"#).unwrap();
    assert_eq!((ok.exp, ok.nbf, ok.iat, ok.duplicate), (Some(1), Some(-1), Some(7), false));
    assert_eq!(ok.claims.len(), 1);
    assert!(parse_payload(br#"{"x":{"y":1,"y":1},"exp":3}"#).unwrap().duplicate);
}

/// JSON objects built from names and values chosen to collide: repeated names at the top and
/// below it, time claims of every type, and breakage anywhere.
fn hostile_payload() -> impl Strategy<Value = String> {
    let name = prop::sample::select(vec!["exp", "nbf", "iat", "a", "b", "\\u0065xp", "email"]);
    let leaf = prop::sample::select(vec![
        "1",
        "-1",
        "1.5",
        "1e400",
        "99999999999999",
        "9223372036854775808",
        "\"s\"",
        "null",
        "true",
        "[]",
        "{}",
        "{\"k\":1,\"k\":2}",
        "[{\"k\":1},{\"k\":1,\"k\":1}]",
        "{\"k\":{\"j\":1,\"j\":1}}",
        "8210266876800",
        "-1e19",
    ]);
    let member = (name, leaf).prop_map(|(n, v)| format!("\"{n}\":{v}"));
    (proptest::collection::vec(member, 0..6), prop::sample::select(vec!["", " ", ",", "}", "x"])).prop_map(
        |(members, tail)| {
            let body = members.join(",");
            if tail == " " || tail.is_empty() {
                format!("{{{body}}}{tail}")
            } else {
                format!("{{{body}{tail}}}")
            }
        },
    )
}

proptest! {
    #[test]
    fn payload_matches_the_two_parses_it_replaces(p in hostile_payload()) {
        check_payload(p.as_bytes());
    }
}
