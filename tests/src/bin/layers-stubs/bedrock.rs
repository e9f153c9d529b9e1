//! The Amazon Bedrock stand-in: `POST /bedrock/model/{modelId}/invoke`. It checks the AWS
//! Signature Version 4 of each call the way AWS does — from the request *as it arrived* (the raw
//! path, the headers workerd sent, the body), with its own implementation, against credentials
//! the STS stand-in issued — and only then answers in Anthropic's Messages format.

use std::collections::HashMap;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::sts::Issued;

/// What the stand-in saw.
#[derive(Default)]
pub(crate) struct Bedrock {
    /// Calls whose signature verified and that were answered.
    pub(crate) answered: u64,
    /// Calls refused, and the last refusal's error type and message.
    pub(crate) refused: u64,
    pub(crate) last_refusal: String,
    /// `POST /__control/bedrock` `fail`: answer every verified call with 500.
    pub(crate) failing: bool,
}

/// A refusal: HTTP status, AWS error type, message.
type Refusal = (u16, &'static str, String);

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(data.as_bytes());
    m.finalize().into_bytes().to_vec()
}

/// RFC 3986 encoding of `s` (unreserved bytes kept, the rest `%XX` upper-case).
fn uri_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    crate::http::decode(&s.replace('+', "%2B"))
}

/// The canonical request of the call as received.
fn canonical_request(
    method: &str,
    target: &str,
    headers: &[(String, String)],
    signed: &[&str],
    body: &[u8],
) -> Result<String, Refusal> {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    // Every service but S3: each segment of the path as sent is encoded once more.
    let uri: Vec<String> = path.split('/').map(uri_encode).collect();
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (uri_encode(&percent_decode(k)), uri_encode(&percent_decode(v)))
        })
        .collect();
    pairs.sort();
    let query: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut canonical_headers = String::new();
    for name in signed {
        let values: Vec<String> = headers
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        if values.is_empty() {
            return Err((403, "InvalidSignatureException", format!("signed header {name} is missing")));
        }
        canonical_headers.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    Ok(format!(
        "{method}\n{}\n{}\n{canonical_headers}\n{}\n{}",
        uri.join("/"),
        query.join("&"),
        signed.join(";"),
        hex(&Sha256::digest(body))
    ))
}

/// `20261206T123456Z` as Unix seconds.
fn amz_date_secs(d: &str) -> Option<u64> {
    let b = d.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| d.get(r)?.parse::<i64>().ok();
    let (y, m, day) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (hh, mm, ss) = (num(9..11)?, num(11..13)?, num(13..15)?);
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + hh * 3600 + mm * 60 + ss).ok()
}

/// Checks the SigV4 signature of a call; the access key id when it verifies.
pub(crate) fn verify(
    method: &str,
    target: &str,
    headers: &[(String, String)],
    body: &[u8],
    issued: &HashMap<String, Issued>,
    now: u64,
) -> Result<String, Refusal> {
    let header = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let sig_err = |m: &str| (403u16, "InvalidSignatureException", m.to_owned());
    let auth =
        header("authorization").ok_or((403, "MissingAuthenticationTokenException", "no Authorization".into()))?;
    let fields = auth.strip_prefix("AWS4-HMAC-SHA256 ").ok_or_else(|| sig_err("not AWS4-HMAC-SHA256"))?;
    let field = |name: &str| {
        fields.split(',').map(str::trim).find_map(|f| f.strip_prefix(name).and_then(|f| f.strip_prefix('=')))
    };
    let credential = field("Credential").ok_or_else(|| sig_err("no Credential"))?;
    let signed_headers = field("SignedHeaders").ok_or_else(|| sig_err("no SignedHeaders"))?;
    let signature = field("Signature").ok_or_else(|| sig_err("no Signature"))?;
    let scope: Vec<&str> = credential.split('/').collect();
    let [key_id, date, region, service, terminator] = scope[..] else {
        return Err(sig_err("a malformed Credential"));
    };
    if service != "bedrock" || terminator != "aws4_request" {
        return Err(sig_err("the credential scope is not …/bedrock/aws4_request"));
    }
    let creds = issued.get(key_id).ok_or((
        403,
        "UnrecognizedClientException",
        "The security token included in the request is invalid.".into(),
    ))?;
    if creds.expires <= now {
        return Err((403, "ExpiredTokenException", "The security token included in the request is expired".into()));
    }
    if header("x-amz-security-token") != Some(creds.session_token.as_str()) {
        return Err((
            403,
            "UnrecognizedClientException",
            "The security token included in the request is invalid.".into(),
        ));
    }
    let amz_date = header("x-amz-date").ok_or_else(|| sig_err("no X-Amz-Date"))?;
    let t = amz_date_secs(amz_date).ok_or_else(|| sig_err("a malformed X-Amz-Date"))?;
    if !amz_date.starts_with(date) {
        return Err(sig_err("X-Amz-Date is not the credential's date"));
    }
    if t.abs_diff(now) > 300 {
        return Err(sig_err("Signature expired: X-Amz-Date is more than 5 minutes off"));
    }
    let signed: Vec<&str> = signed_headers.split(';').collect();
    let mut sorted = signed.clone();
    sorted.sort_unstable();
    sorted.dedup();
    if sorted != signed || signed.iter().any(|h| h.is_empty() || h.bytes().any(|b| b.is_ascii_uppercase())) {
        return Err(sig_err("SignedHeaders are not sorted lower-case names"));
    }
    for must in ["host", "x-amz-date", "x-amz-security-token"] {
        if !signed.contains(&must) {
            return Err(sig_err(&format!("{must} is not signed")));
        }
    }
    if let Some(sha) = header("x-amz-content-sha256") {
        if sha != hex(&Sha256::digest(body)) {
            return Err((400, "ValidationException", "x-amz-content-sha256 is not the body's hash".into()));
        }
    }
    let creq = canonical_request(method, target, headers, &signed, body)?;
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{date}/{region}/{service}/aws4_request\n{}",
        hex(&Sha256::digest(creq.as_bytes()))
    );
    let mut key = hmac(format!("AWS4{}", creds.secret).as_bytes(), date);
    for part in [region, service, "aws4_request"] {
        key = hmac(&key, part);
    }
    if hex(&hmac(&key, &string_to_sign)) != signature {
        return Err(sig_err(
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.",
        ));
    }
    Ok(key_id.to_owned())
}

/// The answer to a verified `InvokeModel` of `model` with `body` (Anthropic's Messages format):
/// a deterministic "summary" naming the post's title and first sentence.
pub(crate) fn invoke(model: &str, body: &[u8]) -> Result<String, Refusal> {
    let bad = |m: &str| (400u16, "ValidationException", m.to_owned());
    let req: serde_json::Value = serde_json::from_slice(body).map_err(|_| bad("the body is not JSON"))?;
    if req["anthropic_version"] != "bedrock-2023-05-31" {
        return Err(bad("anthropic_version must be bedrock-2023-05-31"));
    }
    if !req["max_tokens"].as_u64().is_some_and(|n| (1..=4096).contains(&n)) {
        return Err(bad("max_tokens must be 1-4096"));
    }
    let text = req["messages"][0]["content"][0]["text"].as_str().ok_or_else(|| bad("no user text"))?;
    let (title, rest) =
        text.strip_prefix("Title: ").and_then(|t| t.split_once("\n\n")).ok_or_else(|| bad("no title"))?;
    let first = rest.split_inclusive('.').next().unwrap_or(rest).trim();
    let answer = format!("A stub summary of \"{title}\": {first}");
    Ok(serde_json::json!({
        "id": "msg_stub",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{ "type": "text", "text": answer }],
        "stop_reason": "end_turn",
        "usage": { "input_tokens": text.split_whitespace().count(), "output_tokens": answer.split_whitespace().count() },
    })
    .to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amz_dates() {
        assert_eq!(amz_date_secs("19700101T000000Z"), Some(0));
        assert_eq!(amz_date_secs("20150830T123600Z"), Some(1_440_938_160));
        assert_eq!(amz_date_secs("2015-08-30T12:36:00Z"), None);
    }

    /// A request signed by layers' signer (as the Worker sends it: fetch adds `host`) verifies
    /// here; any change to what was signed, stale or foreign credentials do not.
    #[test]
    fn layers_signatures_verify_and_tampering_does_not() {
        use layers_core::outbound::sigv4::{sign, SigningParams};
        use layers_core::outbound::OutboundRequest;
        let now = 1_765_000_000;
        let issued: HashMap<String, Issued> = [(
            "ASIA0000000000000001".to_owned(),
            Issued { secret: "stubsecret1".into(), session_token: "stubsession1".into(), expires: now + 3600 },
        )]
        .into();
        let url = "http://127.0.0.1:4567/bedrock/model/us.anthropic.claude-opus-4-1-20250805-v1%3A0/invoke";
        let body = br#"{"anthropic_version":"bedrock-2023-05-31"}"#.to_vec();
        let signed = |secret: &str, time: u64| {
            let mut req = OutboundRequest::post(url, "application/json", body.clone());
            let params = SigningParams {
                access_key_id: "ASIA0000000000000001",
                secret_access_key: secret,
                session_token: Some("stubsession1"),
                region: "us-east-1",
                service: "bedrock",
                time,
            };
            sign(&mut req, &params).unwrap();
            let mut headers: Vec<(String, String)> =
                req.headers.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.clone())).collect();
            headers.push(("host".into(), "127.0.0.1:4567".into()));
            headers
        };
        let target = "/bedrock/model/us.anthropic.claude-opus-4-1-20250805-v1%3A0/invoke";
        let headers = signed("stubsecret1", now);
        assert_eq!(verify("POST", target, &headers, &body, &issued, now).as_deref(), Ok("ASIA0000000000000001"));
        let refused = |method: &str, target: &str, headers: &[(String, String)], body: &[u8]| {
            verify(method, target, headers, body, &issued, now).unwrap_err().1
        };
        assert_eq!(refused("POST", target, &headers, b"{}"), "ValidationException", "body changed");
        assert_eq!(refused("PUT", target, &headers, &body), "InvalidSignatureException");
        assert_eq!(refused("POST", &target.replace("%3A", ":"), &headers, &body), "InvalidSignatureException");
        let mut moved = headers.clone();
        moved.iter_mut().filter(|(k, _)| k == "host").for_each(|(_, v)| *v = "127.0.0.1:4568".into());
        assert_eq!(refused("POST", target, &moved, &body), "InvalidSignatureException");
        assert_eq!(refused("POST", target, &signed("wrong-secret", now), &body), "InvalidSignatureException");
        assert_eq!(refused("POST", target, &signed("stubsecret1", now - 600), &body), "InvalidSignatureException");
        let mut token = headers.clone();
        token.iter_mut().filter(|(k, _)| k == "x-amz-security-token").for_each(|(_, v)| *v = "other".into());
        assert_eq!(refused("POST", target, &token, &body), "UnrecognizedClientException");
        let no_auth: Vec<(String, String)> = headers.iter().filter(|(k, _)| k != "authorization").cloned().collect();
        assert_eq!(refused("POST", target, &no_auth, &body), "MissingAuthenticationTokenException");
        assert!(verify("POST", target, &headers, &body, &issued, now + 4000).is_err(), "expired credentials");
    }

    /// AWS's published get-vanilla vector, through this independent implementation.
    #[test]
    fn aws_get_vanilla() {
        let headers = vec![
            ("host".to_owned(), "example.amazonaws.com".to_owned()),
            ("x-amz-date".to_owned(), "20150830T123600Z".to_owned()),
        ];
        let creq = canonical_request("GET", "/", &headers, &["host", "x-amz-date"], b"").unwrap();
        let sts = format!(
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n{}",
            hex(&Sha256::digest(creq.as_bytes()))
        );
        let mut key = hmac(b"AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830");
        for part in ["us-east-1", "service", "aws4_request"] {
            key = hmac(&key, part);
        }
        assert_eq!(hex(&hmac(&key, &sts)), "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
    }
}
