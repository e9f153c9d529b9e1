//! Reading the STS's `AssumeRoleWithWebIdentity` answer into [`TempCredentials`]: AWS's XML (read
//! by a small scraper, enough for STS answers: no nesting of same-named elements, no CDATA) or
//! JSON with the same fields; for a refusal, only its error code.

use serde_json::Value;

use super::iso8601::parse_iso8601_utc;
use super::{TempCredentials, MAX_STS_RESPONSE_LEN};

/// Reads an STS `AssumeRoleWithWebIdentity` answer: AWS's XML
/// (`AssumeRoleWithWebIdentityResult/Credentials/{AccessKeyId,SecretAccessKey,SessionToken,Expiration}`)
/// or JSON with the same fields (under `AssumeRoleWithWebIdentityResponse` /
/// `AssumeRoleWithWebIdentityResult` / `Credentials`, or any suffix of that path). `Expiration`
/// is ISO 8601 UTC (JSON may also give Unix seconds as a number). The result has
/// `from_cache = false`.
///
/// # Errors
/// A description for the log that never holds credential material: for a non-200 status the
/// STS error `Code` (from XML `<Code>` or JSON `Error.Code`), otherwise what is missing or
/// malformed.
pub(super) fn parse_sts_response(status: u16, body: &[u8]) -> Result<TempCredentials, String> {
    if body.len() > MAX_STS_RESPONSE_LEN {
        return Err(format!("STS answered HTTP {status} with more than {MAX_STS_RESPONSE_LEN} bytes"));
    }
    let text = std::str::from_utf8(body).map_err(|_| format!("STS answered HTTP {status} with non-UTF-8 bytes"))?;
    let text = text.trim_start_matches('\u{feff}').trim();
    if status != 200 {
        let code = if text.starts_with('{') { json_error_code(text) } else { xml_error_code(text) };
        return Err(format!("STS answered HTTP {status}: {}", code.as_deref().unwrap_or("no error code")));
    }
    if text.starts_with('<') {
        parse_xml_credentials(text)
    } else if text.starts_with('{') {
        parse_json_credentials(text)
    } else {
        Err("STS answered HTTP 200 with neither XML nor JSON".into())
    }
}

/// An error code fit for the log: 1–64 characters of `A-Z a-z 0-9 . _ -`, else a placeholder.
fn sane_code(c: &str) -> String {
    let c = c.trim();
    let ok = !c.is_empty()
        && c.len() <= 64
        && c.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        c.to_owned()
    } else {
        "<unrecognized code>".to_owned()
    }
}

fn xml_error_code(text: &str) -> Option<String> {
    let scope = xml_element(text, "Error").unwrap_or(text);
    xml_element(scope, "Code").map(sane_code)
}

fn json_error_code(text: &str) -> Option<String> {
    let v: Value = serde_json::from_str(text).ok()?;
    let code = v
        .pointer("/Error/Code")
        .or_else(|| v.pointer("/ErrorResponse/Error/Code"))
        .or_else(|| v.get("__type"))
        .or_else(|| v.get("code"))
        .and_then(Value::as_str)?;
    // `__type` may be `com.amazonaws…#InvalidIdentityToken`.
    Some(sane_code(code.rsplit('#').next().unwrap_or(code)))
}

/// The content of the first element `<name>…</name>` (or `<name attr="…">…</name>`) in `xml`;
/// `""` for `<name/>`. No nesting of same-named elements, no CDATA: enough for STS answers.
fn xml_element<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let mut from = 0;
    while let Some(off) = xml.get(from..)?.find('<') {
        let open = from + off;
        let after_name = open + 1 + name.len();
        if xml.get(open + 1..after_name) == Some(name) {
            match xml.as_bytes().get(after_name) {
                Some(b'>') => return element_body(xml, after_name + 1, name),
                Some(b' ' | b'\t' | b'\r' | b'\n' | b'/') => {
                    let gt = after_name + xml.get(after_name..)?.find('>')?;
                    if xml.as_bytes().get(gt - 1) == Some(&b'/') {
                        return Some("");
                    }
                    return element_body(xml, gt + 1, name);
                }
                _ => {}
            }
        }
        from = open + 1;
    }
    None
}

fn element_body<'a>(xml: &'a str, start: usize, name: &str) -> Option<&'a str> {
    let close = format!("</{name}>");
    let end = start + xml.get(start..)?.find(&close)?;
    xml.get(start..end)
}

/// Decodes the five predefined XML entities and numeric character references; refuses markup.
fn xml_text(raw: &str) -> Option<String> {
    if raw.contains('<') {
        return None;
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw.trim();
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let semi = rest[i..].find(';')? + i;
        let ent = &rest[i + 1..semi];
        let c = match ent {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let n = if let Some(hex) = ent.strip_prefix("#x").or_else(|| ent.strip_prefix("#X")) {
                    u32::from_str_radix(hex, 16).ok()?
                } else {
                    ent.strip_prefix('#')?.parse().ok()?
                };
                char::from_u32(n)?
            }
        };
        out.push(c);
        rest = &rest[semi + 1..];
    }
    out.push_str(rest);
    Some(out)
}

fn parse_xml_credentials(text: &str) -> Result<TempCredentials, String> {
    let result = xml_element(text, "AssumeRoleWithWebIdentityResult")
        .ok_or("STS answer has no AssumeRoleWithWebIdentityResult element")?;
    let creds = xml_element(result, "Credentials").ok_or("STS answer has no Credentials element")?;
    let field = |name: &'static str| -> Result<String, String> {
        let raw = xml_element(creds, name).ok_or_else(|| format!("STS credentials have no {name}"))?;
        xml_text(raw).ok_or_else(|| format!("STS credentials {name} is not plain text"))
    };
    let expiration = field("Expiration")?;
    build_credentials(
        field("AccessKeyId")?,
        field("SecretAccessKey")?,
        field("SessionToken")?,
        &Value::String(expiration),
    )
}

fn parse_json_credentials(text: &str) -> Result<TempCredentials, String> {
    let v: Value = serde_json::from_str(text).map_err(|_| "STS answer is not valid JSON")?;
    let creds = [
        "/AssumeRoleWithWebIdentityResponse/AssumeRoleWithWebIdentityResult/Credentials",
        "/AssumeRoleWithWebIdentityResult/Credentials",
        "/Credentials",
    ]
    .iter()
    .find_map(|p| v.pointer(p))
    .filter(|c| c.is_object())
    .ok_or("STS JSON answer has no Credentials object")?;
    let field = |name: &'static str| -> Result<String, String> {
        match creds.get(name) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(format!("STS credentials {name} is not a string")),
            None => Err(format!("STS credentials have no {name}")),
        }
    };
    let expiration = creds.get("Expiration").ok_or("STS credentials have no Expiration")?;
    build_credentials(field("AccessKeyId")?, field("SecretAccessKey")?, field("SessionToken")?, expiration)
}

pub(super) fn valid_access_key_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

pub(super) fn valid_secret_value(s: &str, max: usize) -> bool {
    !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_graphic())
}

fn build_credentials(
    access_key_id: String,
    secret_access_key: String,
    session_token: String,
    expiration: &Value,
) -> Result<TempCredentials, String> {
    let access_key_id = access_key_id.trim().to_owned();
    if !valid_access_key_id(&access_key_id) {
        return Err("STS credentials AccessKeyId is empty, too long or not alphanumeric".into());
    }
    let secret_access_key = secret_access_key.trim().to_owned();
    if !valid_secret_value(&secret_access_key, 256) {
        return Err("STS credentials SecretAccessKey is empty, too long or not printable ASCII".into());
    }
    let session_token = session_token.trim().to_owned();
    if !valid_secret_value(&session_token, MAX_STS_RESPONSE_LEN) {
        return Err("STS credentials SessionToken is empty or not printable ASCII".into());
    }
    let expiration = match expiration {
        Value::String(s) => parse_iso8601_utc(s.trim()),
        // AWS's JSON protocol gives Unix seconds as a (possibly fractional) number.
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64().filter(|f| f.is_finite() && *f >= 0.0 && *f < 253_402_300_800.0).map(|f| f.floor() as u64)
        }),
        _ => None,
    }
    .ok_or("STS credentials Expiration is not an ISO 8601 UTC time")?;
    Ok(TempCredentials { access_key_id, secret_access_key, session_token, expiration, from_cache: false })
}

#[cfg(test)]
mod tests {
    use super::super::FederationKey;
    use super::*;

    const PEM_A: &str = include_str!("../../../../tests/fixtures/access/key-a.pem");

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
        let creds = r#"{"AccessKeyId":"ASIAJSON","SecretAccessKey":"sk","SessionToken":"st","Expiration":"2026-11-28T19:00:00Z"}"#;
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
        let e =
            parse_sts_response(400, b"<ErrorResponse><Error><Code><script>x</script></Code></Error></ErrorResponse>")
                .unwrap_err();
        assert!(!e.contains("script"), "{e}");
        let e =
            parse_sts_response(400, format!("<Error><Code>{}</Code></Error>", "A".repeat(65)).as_bytes()).unwrap_err();
        assert!(e.contains("unrecognized"), "{e}");
        let e = parse_sts_response(503, b"").unwrap_err();
        assert!(e.contains("503") && e.contains("no error code"), "{e}");
        let e = parse_sts_response(500, br#"{"Error":{"Code":"IDPCommunicationError","Message":"m"}}"#).unwrap_err();
        assert!(e.contains("IDPCommunicationError"), "{e}");
        let e = parse_sts_response(400, br#"{"__type":"com.amazonaws.sts#ExpiredTokenException","message":"m"}"#)
            .unwrap_err();
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
            assert!(
                parse_sts_response(200, body).is_err(),
                "{:?}",
                String::from_utf8_lossy(&body[..body.len().min(40)])
            );
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
}
