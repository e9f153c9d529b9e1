//! Native tests of `AccessJwt` (Cloudflare Access) against hostile tokens, real RSA-2048 keys:
//! algorithm confusion (`none`, HS256 keyed with the RSA public key, other RSA algorithms,
//! header extensions and duplicate names), hostile kids, forged signatures, tampered payloads,
//! malformed and oversized tokens — and no denial's detail carries token contents. The shared
//! keys, minting and in-process JWKS server are in `access/mod.rs`.

mod access;

use access::*;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jwt_compact::alg::{Hs256, Hs256Key, Rsa};
use layers_core::identity::DenyKind;
use rsa::pkcs8::EncodePublicKey as _;
use rsa::traits::PublicKeyParts as _;
use serde_json::json;

// ---- algorithm confusion ------------------------------------------------------------------------

#[test]
fn attack_alg_none() {
    let payload = user_payload().to_string();
    let valid_sig = mint_a(&user_payload()).rsplit_once('.').unwrap().1.to_owned();
    for alg in ["none", "None", "NONE", "nOnE", ""] {
        let h = format!(r#"{{"alg":"{alg}","kid":"{}","typ":"JWT"}}"#, kid_a());
        for sig in ["", valid_sig.as_str()] {
            let t = format!("{}.{}.{sig}", b64(&h), b64(&payload));
            let d = assert_denied(pure(&t), DenyKind::Invalid, alg);
            assert_clean(&d, &t);
        }
    }
    // Unsecured JWS without the trailing dot, too.
    let h = format!(r#"{{"alg":"none","kid":"{}"}}"#, kid_a());
    assert_denied(pure(&format!("{}.{}", b64(&h), b64(&payload))), DenyKind::Invalid, "two segments");
}

#[test]
fn attack_hs256_keyed_with_the_rsa_public_key() {
    let public = key_a().to_public_key();
    let pem = public.to_public_key_pem(rsa::pkcs8::LineEnding::LF).unwrap();
    let der = public.to_public_key_der().unwrap();
    let pkcs1 = rsa::pkcs1::EncodeRsaPublicKey::to_pkcs1_der(&public).unwrap();
    let jwks_text = JWKS_A.to_owned();
    let payload = user_payload().to_string();
    let mut tried = 0;
    for secret in [pem.as_bytes(), der.as_bytes(), pkcs1.as_bytes(), jwks_text.as_bytes(), &public.n().to_bytes_be()] {
        let key = Hs256Key::new(secret);
        for alg in ["HS256", "RS256"] {
            // The classic confusion (alg HS256), and an HMAC passed off as RS256.
            let h = format!(r#"{{"alg":"{alg}","kid":"{}","typ":"JWT"}}"#, kid_a());
            let t = sign_raw(&Hs256, &key, &h, &payload);
            let d = assert_denied(pure(&t), DenyKind::Invalid, alg);
            assert_clean(&d, &t);
            tried += 1;
        }
    }
    assert_eq!(tried, 10);
}

#[test]
fn attack_other_rsa_algorithms() {
    let payload = user_payload().to_string();
    for (name, alg) in [
        ("RS384", Rsa::rs384()),
        ("RS512", Rsa::rs512()),
        ("PS256", Rsa::ps256()),
        ("PS384", Rsa::ps384()),
        ("PS512", Rsa::ps512()),
    ] {
        // Honestly labelled, and mislabelled as RS256: both refused.
        let honest = format!(r#"{{"alg":"{name}","kid":"{}","typ":"JWT"}}"#, kid_a());
        assert_denied(pure(&sign_raw(&alg, &key_a(), &honest, &payload)), DenyKind::Invalid, name);
        let lying = sign_raw(&alg, &key_a(), &rs256_header_a(), &payload);
        assert_denied(pure(&lying), DenyKind::Invalid, name);
    }
    // Spellings of RS256 that are not RS256, and alg of the wrong type.
    for alg in [r#""rs256""#, r#""RS256 ""#, r#"" RS256""#, r#""RS256\u0000""#, r#"["RS256"]"#, "256", "null"] {
        let h = format!(r#"{{"alg":{alg},"kid":"{}"}}"#, kid_a());
        assert_denied(pure(&sign_raw(&Rsa::rs256(), &key_a(), &h, &payload)), DenyKind::Invalid, alg);
    }
    let no_alg = format!(r#"{{"kid":"{}"}}"#, kid_a());
    assert_denied(pure(&sign_raw(&Rsa::rs256(), &key_a(), &no_alg, &payload)), DenyKind::Invalid, "no alg");
}

#[test]
fn attack_header_extensions_and_duplicates() {
    let payload = user_payload().to_string();
    let kid = kid_a();
    for h in [
        // Duplicate alg, either order; serde_json alone would keep the last one.
        format!(r#"{{"alg":"none","kid":"{kid}","alg":"RS256"}}"#),
        format!(r#"{{"alg":"RS256","kid":"{kid}","alg":"HS256"}}"#),
        format!(r#"{{"alg":"RS256","kid":"{kid}","alg":"RS256"}}"#),
        // Duplicate alg hidden behind a JSON escape ("al\u0067" is "alg").
        format!(r#"{{"alg":"RS256","kid":"{kid}","al\u0067":"none"}}"#),
        // Duplicate kid.
        format!(r#"{{"alg":"RS256","kid":"other","kid":"{kid}"}}"#),
        // Duplicate name in a nested object.
        format!(r#"{{"alg":"RS256","kid":"{kid}","x":{{"a":1,"a":2}}}}"#),
        // Extensions we do not understand.
        format!(r#"{{"alg":"RS256","kid":"{kid}","crit":["exp"],"exp":1}}"#),
        format!(r#"{{"alg":"RS256","kid":"{kid}","b64":false,"crit":["b64"]}}"#),
        format!(r#"{{"alg":"RS256","kid":"{kid}","cty":"JWT"}}"#),
    ] {
        // Correctly signed over these header bytes, and still refused.
        let t = sign_raw(&Rsa::rs256(), &key_a(), &h, &payload);
        assert_denied(pure(&t), DenyKind::Invalid, &h);
    }
    // jku/x5u/jwk are never followed: a token naming another key source still needs our key.
    let foreign = format!(
        r#"{{"alg":"RS256","kid":"{}","jku":"https://evil.example/jwks","x5u":"https://evil.example/c"}}"#,
        kid_b()
    );
    let server = Server::new("jku", JWKS_A);
    let t = sign_raw(&Rsa::rs256(), &key_b(), &foreign, &payload);
    assert_denied(access(&server, &t), DenyKind::Invalid, "jku");
    // With our key, such a header is just ignored.
    let ours = format!(r#"{{"alg":"RS256","kid":"{kid}","jku":"https://evil.example/jwks"}}"#);
    access(&server, &sign_raw(&Rsa::rs256(), &key_a(), &ours, &payload)).unwrap();
}

#[test]
fn attack_duplicate_claims_in_signed_payload() {
    for p in [
        format!(
            r#"{{"email":"eve@example.com","email":"ada@example.com","aud":["{AUD}"],"iss":"{ISS}","exp":{},"type":"app","sub":"x"}}"#,
            NOW + 60
        ),
        format!(
            r#"{{"email":"ada@example.com","aud":["{AUD}"],"iss":"{ISS}","exp":1,"exp":{},"type":"app","sub":"x"}}"#,
            NOW + 60
        ),
        format!(
            r#"{{"email":"ada@example.com","aud":"other","aud":["{AUD}"],"iss":"{ISS}","exp":{},"type":"app","sub":"x"}}"#,
            NOW + 60
        ),
    ] {
        let t = sign_raw(&Rsa::rs256(), &key_a(), &rs256_header_a(), &p);
        assert_denied(pure(&t), DenyKind::Invalid, &p);
    }
}

// ---- kid ----------------------------------------------------------------------------------------

#[test]
fn attack_hostile_kids() {
    let server = Server::new("hostile-kid", JWKS_A);
    access(&server, &mint_a(&user_payload())).unwrap();
    let payload = user_payload().to_string();
    let long = "k".repeat(10 * 1024);
    let kids: Vec<(String, &str)> = vec![
        (json!("../../../../etc/passwd").to_string(), "path traversal"),
        (json!("..\\..\\windows\\win.ini").to_string(), "backslash traversal"),
        (json!("' OR 1=1 --").to_string(), "SQL injection"),
        (json!("\" OR \"\"=\"").to_string(), "quote injection"),
        (json!("%2e%2e%2f").to_string(), "encoded traversal"),
        (json!("https://evil.example/key.pem").to_string(), "URL"),
        (json!("k\u{0}").to_string(), "NUL"),
        (json!("kid\nx").to_string(), "newline"),
        (json!("ключ").to_string(), "non-ASCII"),
        (json!("").to_string(), "empty"),
        (json!("k".repeat(129)).to_string(), "129 bytes"),
        (json!(long).to_string(), "10 KiB"),
        ("123".into(), "number"),
        ("null".into(), "null"),
        (format!(r#"["{}"]"#, kid_a()), "array holding the right kid"),
        (format!(r#"{{"kid":"{}"}}"#, kid_a()), "object"),
    ];
    for (kid, what) in &kids {
        let h = format!(r#"{{"alg":"RS256","kid":{kid}}}"#);
        let t = sign_raw(&Rsa::rs256(), &key_a(), &h, &payload);
        let d = assert_denied(access(&server, &t), DenyKind::Invalid, what);
        assert_clean(&d, &t);
        assert!(!d.detail().contains("passwd") && !d.detail().contains("OR 1=1"), "{what}: {}", d.detail());
    }
    let no_kid = sign_raw(&Rsa::rs256(), &key_a(), r#"{"alg":"RS256"}"#, &payload);
    assert_denied(access(&server, &no_kid), DenyKind::Invalid, "no kid");
    // All at the warm-up instant: the rate limit allowed no refetch for any of them, and
    // malformed kids never reach the key lookup at all.
    assert_eq!(server.fetches(), 1);
}

// ---- signature, shape -----------------------------------------------------------------------------

#[test]
fn attack_every_signature_byte_flipped() {
    let t = mint_a(&user_payload());
    pure(&t).unwrap();
    let (signed, sig) = t.rsplit_once('.').unwrap();
    let raw = URL_SAFE_NO_PAD.decode(sig).unwrap();
    assert_eq!(raw.len(), 256);
    for i in 0..raw.len() {
        for bit in [0x01_u8, 0x80] {
            let mut v = raw.clone();
            v[i] ^= bit;
            let forged = format!("{signed}.{}", b64(&v));
            assert_denied(pure(&forged), DenyKind::Invalid, &format!("byte {i} ^ {bit:#x}"));
        }
    }
    // Signature too short / too long / empty / of the other key.
    for v in [&raw[..255], &[raw.as_slice(), &[0]].concat()[..], &[][..]] {
        assert_denied(pure(&format!("{signed}.{}", b64(v))), DenyKind::Invalid, "signature length");
    }
    let by_b = sign_raw(&Rsa::rs256(), &key_b(), &rs256_header_a(), &user_payload().to_string());
    assert_denied(pure(&by_b), DenyKind::Invalid, "B's signature under A's kid");
}

#[test]
fn attack_payload_tampering() {
    let t = mint_a(&user_payload());
    let (h, rest) = t.split_once('.').unwrap();
    let sig = rest.rsplit_once('.').unwrap().1;
    for p in [
        with(user_payload(), "email", json!("eve@example.com")),
        with(user_payload(), "exp", json!(NOW + 86_400 * 365)),
        with(service_payload(), "common_name", json!("other")),
    ] {
        let forged = format!("{h}.{}.{sig}", b64(p.to_string()));
        assert_denied(pure(&forged), DenyKind::Invalid, "swapped payload");
    }
}

#[test]
fn attack_malformed_tokens() {
    let t = mint_a(&user_payload());
    let (h, rest) = t.split_once('.').unwrap();
    let (p, s) = rest.split_once('.').unwrap();
    let mut cases: Vec<(String, String)> = Vec::new();
    // Truncated anywhere.
    for n in (1..t.len()).step_by(37).chain([t.len() - 1, h.len(), h.len() + 1, h.len() + 1 + p.len() + 1]) {
        cases.push((t[..n].to_owned(), format!("truncated at {n}")));
    }
    // Segment count.
    cases.push((format!("{h}.{p}"), "two segments".into()));
    cases.push((format!("{h}.{p}.{s}.{s}"), "four segments".into()));
    cases.push((format!("{h}.{p}.{s}.{s}.{s}"), "JWE-shaped".into()));
    cases.push((format!("{t}."), "trailing dot".into()));
    cases.push((format!(".{t}"), "leading dot".into()));
    cases.push((format!("{h}..{s}"), "empty payload".into()));
    cases.push((format!(".{p}.{s}"), "empty header".into()));
    // Not base64url: standard alphabet, padding, spaces, percent-encoding.
    let std_b64 = base64::engine::general_purpose::STANDARD.encode(rs256_header_a().as_bytes());
    cases.push((format!("{std_b64}.{p}.{s}"), "padded standard base64 header".into()));
    cases.push((format!("{h}=.{p}.{s}"), "padding".into()));
    cases.push((format!("{}+/.{p}.{s}", &h[..h.len() - 2]), "+/ in header".into()));
    cases.push((format!("{h} .{p}.{s}"), "inner space".into()));
    cases.push((format!("{h}%3D.{p}.{s}"), "percent".into()));
    cases.push((format!("{h}.{p}=.{s}"), "padded payload".into()));
    cases.push((format!("{h}.{p}.{s}="), "padded signature".into()));
    cases.push((format!("{h}.{p}.{}", s.replace('-', "+").replace('_', "/")), "std alphabet signature".into()));
    // Not JSON, or not an object.
    for header in
        ["not json", "[]", r#""RS256""#, "null", "{", r#"{"alg":"RS256"} trailing"#, "{\"alg\":\"RS256\",}", ""]
    {
        cases.push((format!("{}.{p}.{s}", b64(header)), format!("header {header:?}")));
    }
    cases.push((format!("{}.{p}.{s}", b64([0xff, 0xfe, b'{', b'}'])), "header not UTF-8".into()));
    for payload in ["not json", "[]", "null", "{", "\u{feff}{}"] {
        cases.push((sign_raw(&Rsa::rs256(), &key_a(), &rs256_header_a(), payload), format!("payload {payload:?}")));
    }
    // Surrounding whitespace is HTTP's (the header value is trimmed); the token itself has none.
    assert_denied(pure(&format!(" {t}")), DenyKind::Invalid, "leading space");
    // Oversized: refused before decoding.
    let big = format!("{h}.{}.{s}", b64(with(user_payload(), "pad", json!("x".repeat(8 * 1024))).to_string()));
    cases.push((big, "oversized".into()));
    let server = Server::new("malformed", JWKS_A);
    for (token, what) in &cases {
        let d = assert_denied(pure(token), DenyKind::Invalid, what);
        assert_clean(&d, token);
        assert_denied(access(&server, token), DenyKind::Invalid, what);
    }
    // Header-valid ones (bad signature or payload encoding) fetched the keys once, then hit the cache.
    assert!(server.fetches() <= 1, "{}", server.fetches());
    assert!(cases.len() > 40, "{}", cases.len());
}

#[test]
fn oversized_token_is_refused_unread() {
    let server = Server::new("oversized", JWKS_A);
    let t = "a".repeat(8 * 1024 + 1);
    let d = assert_denied(access(&server, &t), DenyKind::Invalid, "8 KiB + 1");
    assert!(d.detail().contains("longer than"), "{}", d.detail());
    // Exactly at the limit is parsed (and refused for being garbage, not for its size).
    let d = assert_denied(access(&server, &"a".repeat(8 * 1024)), DenyKind::Invalid, "8 KiB");
    assert!(!d.detail().contains("longer than"), "{}", d.detail());
    assert_eq!(server.fetches(), 0);
}

// ---- what a denial says ---------------------------------------------------------------------------

#[test]
fn denial_details_never_carry_token_contents() {
    // A sweep over the refusals above, checking the detail of each.
    let server = Server::new("details", JWKS_A);
    let mut tokens = vec![
        mint_a(&with(user_payload(), "exp", json!(NOW - 1000))),
        mint_a(&with(user_payload(), "aud", json!("ada@example.com"))),
        mint_a(&with(user_payload(), "iss", json!("https://ada@example.com"))),
        mint_a(&with(user_payload(), "nbf", json!(NOW + 1000))),
        mint_a(&with(user_payload(), "type", json!(7))),
        mint(&key_b(), &kid_a(), &user_payload()),
        sign_raw(&Rsa::rs256(), &key_a(), r#"{"alg":"ada@example.com","kid":"x"}"#, "{}"),
    ];
    tokens.push(format!("{}.{}", tokens[0], "ada@example.com"));
    for t in &tokens {
        let d = access(&server, t).unwrap_err();
        assert_clean(&d, t);
        assert!(!d.detail().contains("ada@example.com"), "{}", d.detail());
    }
}
