//! Native tests of the outbound federation helper's pure parts: the signed assertion (checked
//! with jwt-compact against the fixture key's public half), the signing key's formats, the STS
//! answer (AWS XML and JSON, errors, garbage), ISO 8601 UTC times, and `Debug` redaction.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use jwt_compact::alg::{Rsa, RsaPrivateKey};
use jwt_compact::{AlgorithmExt as _, UntrustedToken};
use layers_core::identity::{
    parse_iso8601_utc, parse_sts_response, sign_assertion, AssertionClaims, FederationKey, TempCredentials,
    MAX_FEDERATION_KEY_LEN, MAX_STS_RESPONSE_LEN,
};
use rsa::pkcs1::EncodeRsaPrivateKey as _;
use rsa::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _, LineEnding};
use serde_json::Value;

const PEM_A: &str = include_str!("../fixtures/access/key-a.pem");
const PEM_B: &str = include_str!("../fixtures/access/key-b.pem");
const NOW: u64 = 1_800_000_000;

fn private(pem: &str) -> RsaPrivateKey {
    RsaPrivateKey::from_pkcs8_pem(pem).expect("fixture PEM parses")
}

fn claims() -> AssertionClaims<'static> {
    AssertionClaims {
        issuer: "https://layers.test",
        subject: "layers-app:backup",
        audience: "sts.amazonaws.com",
        ttl_secs: 300,
    }
}

/// Verifies `token` with the public half of `pem` (independently of layers-core) and returns
/// the header and the payload as JSON.
fn verify(token: &str, pem: &str) -> Result<(Value, Value), String> {
    let public = private(pem).to_public_key();
    let untrusted = UntrustedToken::new(token).map_err(|e| e.to_string())?;
    Rsa::rs256().validator::<Value>(&public).validate(&untrusted).map_err(|e| e.to_string())?;
    let part = |i: usize| -> Value {
        let seg = token.split('.').nth(i).unwrap();
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(seg).unwrap()).unwrap()
    };
    Ok((part(0), part(1)))
}

// ---- the assertion ----------------------------------------------------------------------------

#[test]
fn assertion_verifies_against_the_public_key_and_carries_the_claims() {
    let key = FederationKey::parse(PEM_A).unwrap();
    let token = sign_assertion(&key, "layers-backup-1", &claims(), NOW).unwrap();
    let (header, payload) = verify(&token, PEM_A).expect("RS256 signature by key a");
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["typ"], "JWT");
    assert_eq!(header["kid"], "layers-backup-1");
    assert_eq!(header.as_object().unwrap().len(), 3, "{header}");
    assert_eq!(payload["iss"], "https://layers.test");
    assert_eq!(payload["sub"], "layers-app:backup");
    assert_eq!(payload["aud"], "sts.amazonaws.com");
    assert_eq!(payload["iat"], NOW);
    assert_eq!(payload["nbf"], NOW);
    assert_eq!(payload["exp"], NOW + 300);
    let jti = payload["jti"].as_str().expect("jti");
    assert_eq!(URL_SAFE_NO_PAD.decode(jti).unwrap().len(), 16, "128 random bits");
    assert_eq!(payload.as_object().unwrap().len(), 7, "{payload}");
    // The key's public half is what layers-core reports, too.
    assert_eq!(key.public_key(), private(PEM_A).to_public_key());
    assert_eq!(key.bits(), 2048);
}

#[test]
fn assertion_does_not_verify_with_another_key_and_jti_is_fresh() {
    let key = FederationKey::parse(PEM_A).unwrap();
    let t1 = sign_assertion(&key, "k", &claims(), NOW).unwrap();
    let t2 = sign_assertion(&key, "k", &claims(), NOW).unwrap();
    assert!(verify(&t1, PEM_B).is_err(), "key b must not verify key a's signature");
    let jti = |t: &str| verify(t, PEM_A).unwrap().1["jti"].clone();
    assert_ne!(jti(&t1), jti(&t2));
    // A tampered payload fails.
    let parts: Vec<&str> = t1.split('.').collect();
    let (_, mut payload) = verify(&t1, PEM_A).unwrap();
    payload["sub"] = "someone-else".into();
    let forged = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(payload.to_string()), parts[2]);
    assert!(verify(&forged, PEM_A).is_err());
}

#[test]
fn assertion_input_is_checked() {
    let key = FederationKey::parse(PEM_A).unwrap();
    let c = claims();
    for kid in ["", "has space", "tab\there", &"k".repeat(129), "é"] {
        assert!(sign_assertion(&key, kid, &c, NOW).is_err(), "kid {kid:?}");
    }
    assert!(sign_assertion(&key, &"k".repeat(128), &c, NOW).is_ok());
    assert!(sign_assertion(&key, "k", &AssertionClaims { issuer: " ", ..c }, NOW).is_err());
    assert!(sign_assertion(&key, "k", &AssertionClaims { subject: "", ..c }, NOW).is_err());
    assert!(sign_assertion(&key, "k", &AssertionClaims { audience: "", ..c }, NOW).is_err());
    assert!(sign_assertion(&key, "k", &AssertionClaims { ttl_secs: 0, ..c }, NOW).is_err());
    assert!(sign_assertion(&key, "k", &c, u64::MAX).is_err(), "exp overflow");
}

// ---- the key ----------------------------------------------------------------------------------

#[test]
fn key_formats_all_load_the_same_key() {
    let sk = private(PEM_A);
    let want = sk.to_public_key();
    let der = sk.to_pkcs8_der().unwrap();
    let one_line = PEM_A.trim().replace('\n', "\\n");
    let crlf_escaped = PEM_A.trim().replace('\n', "\\r\\n");
    let pkcs1 = sk.to_pkcs1_pem(LineEnding::LF).unwrap().to_string();
    let b64 = STANDARD.encode(der.as_bytes());
    let wrapped: String =
        b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect::<Vec<_>>().join("\n");
    let variants = [
        ("PEM", PEM_A.to_owned()),
        ("PEM with CRLF", PEM_A.replace('\n', "\r\n")),
        ("PEM with \\n escapes on one line", one_line.clone()),
        ("PEM with \\r\\n escapes", crlf_escaped),
        ("PEM with \\n escapes, still quoted", format!("\"{one_line}\"")),
        ("PEM with surrounding whitespace", format!("\n  {PEM_A}  \n")),
        ("PKCS#1 PEM", pkcs1),
        ("base64 DER", b64.clone()),
        ("base64 DER without padding", STANDARD_NO_PAD.encode(der.as_bytes())),
        ("base64 DER wrapped", wrapped),
        ("base64 PKCS#1 DER", STANDARD.encode(sk.to_pkcs1_der().unwrap().as_bytes())),
    ];
    for (name, text) in variants {
        let key = FederationKey::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(key.public_key(), want, "{name}");
        // And it signs something key a's public half verifies.
        let t = sign_assertion(&key, "k", &claims(), NOW).unwrap();
        assert!(verify(&t, PEM_A).is_ok(), "{name}");
    }
}

#[test]
fn unusable_keys_are_refused_without_echoing_them() {
    let sk = private(PEM_A);
    let public_pem = {
        use rsa::pkcs8::EncodePublicKey as _;
        sk.to_public_key().to_public_key_pem(LineEnding::LF).unwrap()
    };
    let body: String = PEM_A.lines().filter(|l| !l.starts_with("-----")).collect();
    let small = {
        let mut rng = rsa::rand_core::OsRng;
        RsaPrivateKey::new(&mut rng, 1024).unwrap().to_pkcs8_pem(LineEnding::LF).unwrap().to_string()
    };
    let cases = [
        ("empty", String::new()),
        ("garbage", "not a key at all".to_owned()),
        ("public key", public_pem),
        ("encrypted", PEM_A.replace("PRIVATE KEY", "ENCRYPTED PRIVATE KEY")),
        ("no END line", PEM_A.replace("-----END PRIVATE KEY-----", "")),
        ("mismatched labels", PEM_A.replace("-----END PRIVATE KEY-----", "-----END RSA PRIVATE KEY-----")),
        ("a line missing", PEM_A.replace(PEM_A.lines().nth(3).unwrap(), "")),
        ("a line cut short", PEM_A.replace(PEM_A.lines().nth(3).unwrap(), &PEM_A.lines().nth(3).unwrap()[..30])),
        ("PEM headers", PEM_A.replace("-----\n", "-----\nProc-Type: 4,ENCRYPTED\n")),
        ("base64 of nonsense", STANDARD.encode(b"hello world, not DER")),
        ("1024-bit key", small),
        ("too long", "A".repeat(MAX_FEDERATION_KEY_LEN + 1)),
    ];
    for (name, text) in cases {
        let e = FederationKey::parse(&text).expect_err(name);
        assert!(!e.contains(&body[..40]) && !e.contains("MII"), "{name}: error echoes key material: {e}");
    }
}

// ---- the STS answer ---------------------------------------------------------------------------

/// AWS's documented example answer.
const AWS_XML: &str = r#"<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>amzn1.account.AF6RHO7KZU5XRVQJGXK6HB56KR2A</SubjectFromWebIdentityToken>
    <Audience>client.5498841531868486423.1548@apps.example.com</Audience>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::123456789012:assumed-role/FederatedWebIdentityRole/app1</Arn>
      <AssumedRoleId>AROACLKWSDQRAOEXAMPLE:app1</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <SessionToken>AQoDYXdzEE0a8ANXXXXXXXXNO1ewxE5TijQyp+IEXAMPLE</SessionToken>
      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY</SecretAccessKey>
      <Expiration>2014-10-24T23:00:23Z</Expiration>
      <AccessKeyId>ASgeIAIOSFODNN7EXAMPLE</AccessKeyId>
    </Credentials>
    <SourceIdentity>SourceIdentityValue</SourceIdentity>
    <Provider>www.amazon.com</Provider>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata>
    <RequestId>ad4156e9-bce1-11e2-82e6-6b6efEXAMPLE</RequestId>
  </ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>
"#;

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY";
const SESSION: &str = "AQoDYXdzEE0a8ANXXXXXXXXNO1ewxE5TijQyp+IEXAMPLE";

#[test]
fn aws_xml_answer_is_read() {
    let c = parse_sts_response(200, AWS_XML.as_bytes()).unwrap();
    assert_eq!(c.access_key_id, "ASgeIAIOSFODNN7EXAMPLE");
    assert_eq!(c.secret_access_key, SECRET);
    assert_eq!(c.session_token, SESSION);
    assert_eq!(c.expiration, 1_414_191_623);
    assert!(!c.from_cache);
    // Fields in any order, attributes, entities, a BOM, a fractional expiry.
    let xml =
        "\u{feff}<?xml version=\"1.0\"?><AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult a=\"1\">\
               <Credentials><Expiration>2026-11-28T19:00:00.123Z</Expiration><AccessKeyId>ASIA1</AccessKeyId>\
               <SessionToken>tok&#43;en&amp;x</SessionToken><SecretAccessKey> s&#x2F;k </SecretAccessKey></Credentials>\
               </AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>";
    let c = parse_sts_response(200, xml.as_bytes()).unwrap();
    assert_eq!((c.access_key_id.as_str(), c.session_token.as_str()), ("ASIA1", "tok+en&x"));
    assert_eq!(c.secret_access_key, "s/k");
    assert_eq!(c.expiration, 1_795_892_400);
}

#[test]
fn json_answers_are_read() {
    let creds =
        r#"{"AccessKeyId":"ASIAJSON","SecretAccessKey":"sk","SessionToken":"st","Expiration":"2026-11-28T19:00:00Z"}"#;
    let nested = format!(
        r#"{{"AssumeRoleWithWebIdentityResponse":{{"AssumeRoleWithWebIdentityResult":{{"Credentials":{creds},"Provider":"x"}},"ResponseMetadata":{{}}}}}}"#
    );
    for body in [
        nested,
        format!(r#"{{"AssumeRoleWithWebIdentityResult":{{"Credentials":{creds}}}}}"#),
        format!(r#"{{"Credentials":{creds}}}"#),
    ] {
        let c = parse_sts_response(200, body.as_bytes()).unwrap_or_else(|e| panic!("{body}: {e}"));
        assert_eq!(c.access_key_id, "ASIAJSON");
        assert_eq!((c.secret_access_key.as_str(), c.session_token.as_str()), ("sk", "st"));
        assert_eq!(c.expiration, 1_795_892_400);
    }
    // AWS's JSON protocol sends Unix seconds as a number.
    let body =
        r#"{"Credentials":{"AccessKeyId":"A","SecretAccessKey":"s","SessionToken":"t","Expiration":1.7958924E9}}"#;
    assert_eq!(parse_sts_response(200, body.as_bytes()).unwrap().expiration, 1_795_892_400);
    let body =
        r#"{"Credentials":{"AccessKeyId":"A","SecretAccessKey":"s","SessionToken":"t","Expiration":1795892400}}"#;
    assert_eq!(parse_sts_response(200, body.as_bytes()).unwrap().expiration, 1_795_892_400);
}

#[test]
fn error_answers_carry_the_code_and_nothing_else() {
    let xml = "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>\
               <Code>InvalidIdentityToken</Code><Message>Token eyJhbGciOi.payload.sig is bad</Message></Error>\
               <RequestId>r</RequestId></ErrorResponse>";
    let e = parse_sts_response(400, xml.as_bytes()).unwrap_err();
    assert!(e.contains("400") && e.contains("InvalidIdentityToken"), "{e}");
    assert!(!e.contains("eyJ") && !e.contains("Message") && !e.contains("bad"), "{e}");
    let e = parse_sts_response(403, b"<ErrorResponse><Error><Code>AccessDenied</Code></Error></ErrorResponse>")
        .unwrap_err();
    assert!(e.contains("AccessDenied"), "{e}");
    let e = parse_sts_response(400, b"<ErrorResponse><Error><Code><script>x</script></Code></Error></ErrorResponse>")
        .unwrap_err();
    assert!(!e.contains("script"), "{e}");
    let e = parse_sts_response(400, format!("<Error><Code>{}</Code></Error>", "A".repeat(65)).as_bytes()).unwrap_err();
    assert!(e.contains("unrecognized"), "{e}");
    let e = parse_sts_response(503, b"").unwrap_err();
    assert!(e.contains("503") && e.contains("no error code"), "{e}");
    let e = parse_sts_response(500, br#"{"Error":{"Code":"IDPCommunicationError","Message":"m"}}"#).unwrap_err();
    assert!(e.contains("IDPCommunicationError"), "{e}");
    let e =
        parse_sts_response(400, br#"{"__type":"com.amazonaws.sts#ExpiredTokenException","message":"m"}"#).unwrap_err();
    assert!(e.contains("ExpiredTokenException") && !e.contains("com.amazonaws"), "{e}");
    // A 200 whose body is an error document is not credentials either.
    let e = parse_sts_response(200, xml.as_bytes()).unwrap_err();
    assert!(e.contains("AssumeRoleWithWebIdentityResult"), "{e}");
    // Non-200 with good credentials in the body is still an error.
    assert!(parse_sts_response(302, AWS_XML.as_bytes()).is_err());
}

#[test]
fn missing_or_malformed_fields_are_refused_without_echoing_secrets() {
    for field in ["AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"] {
        let start = AWS_XML.find(&format!("<{field}>")).unwrap();
        let end = AWS_XML.find(&format!("</{field}>")).unwrap() + field.len() + 3;
        let without = format!("{}{}", &AWS_XML[..start], &AWS_XML[end..]);
        let e = parse_sts_response(200, without.as_bytes()).unwrap_err();
        assert!(e.contains(field), "{field}: {e}");
        let empty = AWS_XML.replace(&AWS_XML[start..end], &format!("<{field}></{field}>"));
        assert!(parse_sts_response(200, empty.as_bytes()).is_err(), "empty {field}");
        let self_closing = AWS_XML.replace(&AWS_XML[start..end], &format!("<{field}/>"));
        assert!(parse_sts_response(200, self_closing.as_bytes()).is_err(), "<{field}/>");
    }
    let bad = [
        ("no Credentials", AWS_XML.replace("Credentials>", "Creds>")),
        ("no result", AWS_XML.replace("AssumeRoleWithWebIdentityResult", "Other")),
        ("key id with space", AWS_XML.replace("ASgeIAIOSFODNN7EXAMPLE", "ASIA X")),
        ("secret with a space", AWS_XML.replace(SECRET, "secret with space")),
        ("nested markup", AWS_XML.replace(SESSION, "<b>x</b>")),
        ("unknown entity", AWS_XML.replace(SESSION, "a&bogus;b")),
        ("local time", AWS_XML.replace("23:00:23Z", "23:00:23")),
        ("offset", AWS_XML.replace("23:00:23Z", "23:00:23+02:00")),
        ("date only", AWS_XML.replace("2014-10-24T23:00:23Z", "2014-10-24")),
        ("CDATA", AWS_XML.replace(SESSION, "<![CDATA[x]]>")),
    ];
    for (name, body) in &bad {
        let e = parse_sts_response(200, body.as_bytes()).expect_err(name);
        assert!(!e.contains(SECRET) && !e.contains(SESSION) && !e.contains("EXAMPLEKEY"), "{name}: {e}");
    }
    let json_bad = [
        r#"{"Credentials":{"SecretAccessKey":"s","SessionToken":"t","Expiration":"2026-11-28T19:00:00Z"}}"#,
        r#"{"Credentials":{"AccessKeyId":1,"SecretAccessKey":"s","SessionToken":"t","Expiration":"2026-11-28T19:00:00Z"}}"#,
        r#"{"Credentials":{"AccessKeyId":"A","SecretAccessKey":"s","SessionToken":"t"}}"#,
        r#"{"Credentials":{"AccessKeyId":"A","SecretAccessKey":"s","SessionToken":"t","Expiration":-5}}"#,
        r#"{"Credentials":{"AccessKeyId":"A","SecretAccessKey":"s","SessionToken":"t","Expiration":true}}"#,
        r#"{"Credentials":"A"}"#,
        r#"{"Credentials":[]}"#,
        r#"{}"#,
        r#"{"Credentials":{"AccessKeyId":"A","AccessKeyId":"B"}"#,
    ];
    for body in json_bad {
        assert!(parse_sts_response(200, body.as_bytes()).is_err(), "{body}");
    }
}

#[test]
fn garbage_is_refused() {
    let huge = format!("<AssumeRoleWithWebIdentityResult>{}", " ".repeat(MAX_STS_RESPONSE_LEN));
    let cases: [&[u8]; 10] = [
        b"",
        b"   ",
        b"hello",
        b"<html><body>Service Unavailable</body></html>",
        b"<",
        b"{",
        b"[1,2]",
        b"\xff\xfe<x/>",
        b"<AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>A",
        huge.as_bytes(),
    ];
    for body in cases {
        assert!(parse_sts_response(200, body).is_err(), "{:?}", String::from_utf8_lossy(&body[..body.len().min(40)]));
    }
}

#[test]
fn temp_credentials_debug_is_redacted() {
    let c = parse_sts_response(200, AWS_XML.as_bytes()).unwrap();
    let d = format!("{c:?}");
    assert!(d.contains("ASgeIAIOSFODNN7EXAMPLE") && d.contains("1414191623"), "{d}");
    assert!(!d.contains(SECRET) && !d.contains(SESSION) && !d.contains("EXAMPLEKEY"), "{d}");
    assert!(d.contains("<redacted>"));
    let alt = format!("{c:#?}");
    assert!(!alt.contains(SECRET) && !alt.contains(SESSION));
    let hand = TempCredentials {
        access_key_id: "AKID".into(),
        secret_access_key: "s3cr3t".into(),
        session_token: "t0k3n".into(),
        expiration: 1,
        from_cache: true,
    };
    let d = format!("{hand:?}");
    assert!(!d.contains("s3cr3t") && !d.contains("t0k3n") && d.contains("from_cache: true"), "{d}");
    let k = FederationKey::parse(PEM_A).unwrap();
    assert!(!format!("{k:?}").contains("MII"));
}

// ---- ISO 8601 ---------------------------------------------------------------------------------

#[test]
fn iso8601_known_instants() {
    let cases = [
        ("1970-01-01T00:00:00Z", 0),
        ("1970-01-01T00:00:01Z", 1),
        ("2014-10-24T23:00:23Z", 1_414_191_623),
        ("2026-11-28T19:00:00Z", 1_795_892_400),
        ("2024-02-29T12:00:00Z", 1_709_208_000),
        ("2000-02-29T00:00:00Z", 951_782_400),
        ("2100-03-01T00:00:00Z", 4_107_542_400),
        ("2400-02-29T00:00:00Z", 13_574_563_200),
        ("9999-12-31T23:59:59Z", 253_402_300_799),
        // Fractional seconds are truncated, up to nanoseconds.
        ("2026-11-28T19:00:00.5Z", 1_795_892_400),
        ("2026-11-28T19:00:00.999Z", 1_795_892_400),
        ("2026-11-28T19:00:00.123456789Z", 1_795_892_400),
        // RFC 3339 spellings of the same UTC instant.
        ("2026-11-28t19:00:00z", 1_795_892_400),
        ("2026-11-28T19:00:00+00:00", 1_795_892_400),
    ];
    for (s, want) in cases {
        assert_eq!(parse_iso8601_utc(s), Some(want), "{s}");
    }
}

#[test]
fn iso8601_refuses_non_utc_and_malformed() {
    let bad = [
        "",
        "2026-11-28",
        "2026-11-28T19:00:00",
        "2026-11-28T19:00Z",
        "2026-11-28T19:00:00+01:00",
        "2026-11-28T19:00:00-05:00",
        "2026-11-28T19:00:00-00:00",
        "2026-11-28T19:00:00+0000",
        "2026-11-28T19:00:00 Z",
        "2026-11-28 19:00:00Z",
        "2026-11-28T19:00:00ZZ",
        "2026-11-28T19:00:00Z ",
        " 2026-11-28T19:00:00Z",
        "2026-11-28T19:00:00.Z",
        "2026-11-28T19:00:00.1234567890Z",
        "2026-11-28T19:00:00,5Z",
        "2026-13-01T00:00:00Z",
        "2026-00-01T00:00:00Z",
        "2026-01-00T00:00:00Z",
        "2026-01-32T00:00:00Z",
        "2026-04-31T00:00:00Z",
        "2023-02-29T00:00:00Z",
        "2100-02-29T00:00:00Z",
        "2026-11-28T24:00:00Z",
        "2026-11-28T23:60:00Z",
        "2016-12-31T23:59:60Z",
        "1969-12-31T23:59:59Z",
        "+2026-11-28T19:00:00Z",
        "20261128T190000Z",
        "2026-1-28T19:00:00Z",
        "２０２６-11-28T19:00:00Z",
        "2026-11-28T19:00:0-Z",
        "1795892400",
    ];
    for s in bad {
        assert_eq!(parse_iso8601_utc(s), None, "{s:?}");
    }
}

/// Every day from 1970 to 2200 (leap years by the Gregorian rules) parses to consecutive days.
#[test]
fn iso8601_counts_every_day() {
    let mut expected = 0u64;
    for year in 1970..2200u64 {
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let lengths = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
        for (m, &len) in lengths.iter().enumerate() {
            for d in 1..=len {
                let s = format!("{year:04}-{:02}-{d:02}T00:00:00Z", m + 1);
                assert_eq!(parse_iso8601_utc(&s), Some(expected * 86_400), "{s}");
                expected += 1;
            }
            let past_end = format!("{year:04}-{:02}-{:02}T00:00:00Z", m + 1, len + 1);
            assert_eq!(parse_iso8601_utc(&past_end), None, "{past_end}");
        }
    }
}
