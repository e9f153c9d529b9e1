//! AWS Signature Version 4: signs an [`OutboundRequest`] for an AWS service (Amazon Bedrock's
//! `InvokeModel`, say) with temporary credentials, such as the ones
//! [`Federation`](crate::identity::Federation) obtains
//! ([`TempCredentials::sign`](crate::identity::TempCredentials::sign)).
//!
//! What is signed is the request as the Workers `fetch` sends it: the URL is read the way
//! `fetch` reads it (WHATWG), so the canonical URI is built from the path as it travels — each
//! segment URI-encoded once more, as AWS expects of every service but S3 (a model id
//! `anthropic.claude-v2%3A1` is signed as `anthropic.claude-v2%253A1`) — and the `host` header
//! `fetch` adds is signed without being set. Every header of the request is signed; `sign` adds
//! `x-amz-date`, `x-amz-security-token` (with a session token), `x-amz-content-sha256` and
//! `authorization`, replacing any earlier ones, so a request can be signed again.
//!
//! Refused rather than signed wrongly: URLs that are not `https://` (`http://` only on
//! loopback: the session token travels in a header), URLs with a user name, spaces or control
//! characters; header names that are not HTTP tokens, a `host` header, header values with
//! control or non-ASCII characters, a header name given twice (the Workers fetch keeps one of
//! them); methods other than `GET`, `HEAD`, `POST`, `PUT`, `PATCH`, `DELETE`, `OPTIONS`.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::OutboundRequest;
use canonical::{canonical_headers, canonical_path, canonical_query, is_token, Target};

mod canonical;
#[cfg(test)]
mod tests;

type HmacSha256 = Hmac<Sha256>;

const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// The last second with a four-digit year, 9999-12-31T23:59:59Z.
const MAX_TIME: u64 = 253_402_300_799;
/// The headers `sign` sets (any already there are replaced).
const SET_BY_SIGN: [&str; 4] = ["authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256"];

/// What signs: the credentials, the region and service, and the time.
///
/// `Debug` shows the access key id, region, service and time only.
#[derive(Clone, Copy)]
pub struct SigningParams<'a> {
    /// The access key id (`AKIA…`, or `ASIA…` for temporary credentials).
    pub access_key_id: &'a str,
    /// The secret access key. Only its HMAC leaves this module.
    pub secret_access_key: &'a str,
    /// The session token of temporary credentials, sent (and signed) as `x-amz-security-token`.
    pub session_token: Option<&'a str>,
    /// The region, e.g. `us-east-1`.
    pub region: &'a str,
    /// The service's signing name, e.g. `bedrock` (for `bedrock-runtime.…` endpoints too).
    pub service: &'a str,
    /// The signing time, seconds since the Unix epoch (AWS refuses requests more than about
    /// five minutes off its clock).
    pub time: u64,
}

impl fmt::Debug for SigningParams<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningParams")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("session_token", &self.session_token.map(|_| "<redacted>"))
            .field("region", &self.region)
            .field("service", &self.service)
            .field("time", &self.time)
            .finish()
    }
}

/// Why a request was not signed. The request is then left as it was.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignError {
    /// The URL is not an absolute `https://` or `http://` URL with a host and no user name, or
    /// has spaces or control characters in it.
    NotAUrl,
    /// An `http://` URL off loopback: the session token and the request would travel in clear.
    InsecureUrl,
    /// The method is not one the Workers fetch sends as given.
    BadMethod,
    /// A header name is not an HTTP token.
    BadHeaderName,
    /// A `host` header is set: `fetch` sets `Host` itself (from the URL), and that is signed.
    HostHeader,
    /// The value of the header `name` has control or non-ASCII characters.
    BadHeaderValue {
        /// The header's (lower-case) name.
        name: String,
    },
    /// The header `name` is given more than once (the Workers fetch would send only one).
    DuplicateHeader {
        /// The header's (lower-case) name.
        name: String,
    },
    /// The access key id is not alphanumeric, the secret is empty, or the session token is not
    /// a printable ASCII header value.
    BadCredentials,
    /// The region or service is empty or has characters other than `A-Z a-z 0-9 - _ .`.
    BadScope,
    /// The time is past 9999-12-31T23:59:59Z.
    TimeOutOfRange,
}

impl fmt::Display for SignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignError::NotAUrl => f.write_str("sigv4: the URL is not an absolute http(s) URL that can be signed"),
            SignError::InsecureUrl => f.write_str("sigv4: http:// is only signed for loopback hosts; use https://"),
            SignError::BadMethod => {
                f.write_str("sigv4: the method is not one of GET HEAD POST PUT PATCH DELETE OPTIONS")
            }
            SignError::BadHeaderName => f.write_str("sigv4: a header name is not an HTTP token"),
            SignError::HostHeader => f.write_str("sigv4: a host header is set (fetch sets Host from the URL)"),
            SignError::BadHeaderValue { name } => {
                write!(f, "sigv4: the value of header {name} has control or non-ASCII characters")
            }
            SignError::DuplicateHeader { name } => write!(f, "sigv4: header {name} is given more than once"),
            SignError::BadCredentials => f.write_str("sigv4: the credentials are malformed"),
            SignError::BadScope => f.write_str("sigv4: the region or service is malformed"),
            SignError::TimeOutOfRange => f.write_str("sigv4: the signing time is out of range"),
        }
    }
}

impl std::error::Error for SignError {}

/// Signs `req` with AWS Signature Version 4 for `params.service` in `params.region`: adds
/// `x-amz-date`, `x-amz-security-token` (when there is a session token),
/// `x-amz-content-sha256` (the hex SHA-256 of the body) and `authorization`, replacing any of
/// these already there. Every other header of `req` is signed, and so is the `host` the URL
/// names (not added: `fetch` sets it). Sign last: a header added or a byte of the body changed
/// afterwards voids the signature.
///
/// ```
/// use layers_core::outbound::sigv4::{sign, SigningParams};
/// use layers_core::outbound::OutboundRequest;
///
/// // Bedrock InvokeModel; the model id's `:` percent-encoded, as the AWS SDKs send it.
/// let mut req = OutboundRequest::post(
///     "https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-v2%3A1/invoke",
///     "application/json",
///     br#"{"prompt":"\n\nHuman: Hello\n\nAssistant:","max_tokens_to_sample":300}"#.to_vec(),
/// );
/// req.headers.push(("accept".into(), "application/json".into()));
/// let params = SigningParams {
///     access_key_id: "ASIAIOSFODNN7EXAMPLE",
///     secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
///     session_token: Some("IQoJb3JpZ2luX2VjEXAMPLE"),
///     region: "us-east-1",
///     service: "bedrock",
///     time: 1_795_892_400, // in a Worker: layers_core::log::now_ms() / 1000
/// };
/// sign(&mut req, &params)?;
///
/// let header = |name: &str| req.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
/// assert_eq!(header("x-amz-date"), Some("20261128T190000Z"));
/// assert_eq!(header("x-amz-security-token"), Some("IQoJb3JpZ2luX2VjEXAMPLE"));
/// assert!(header("authorization").unwrap().starts_with(
///     "AWS4-HMAC-SHA256 Credential=ASIAIOSFODNN7EXAMPLE/20261128/us-east-1/bedrock/aws4_request, \
///      SignedHeaders=accept;content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, \
///      Signature="
/// ));
/// # Ok::<(), layers_core::outbound::sigv4::SignError>(())
/// ```
///
/// # Errors
/// [`SignError`] when the URL, a header, the credentials, region, service or time cannot be
/// signed as they are; `req` is then unchanged.
pub fn sign(req: &mut OutboundRequest, params: &SigningParams<'_>) -> Result<(), SignError> {
    sign_with(req, params, true).map(|_| ())
}

/// What signing produced (the tests compare each step with the AWS test suite). No `Debug`
/// outside tests: the canonical request carries the session token.
#[cfg_attr(test, derive(Debug))]
pub(crate) struct Signed {
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) canonical_request: String,
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) string_to_sign: String,
    pub(crate) authorization: String,
}

/// [`sign`], with `x-amz-content-sha256` optional (the AWS test suite's requests go without).
pub(crate) fn sign_with(
    req: &mut OutboundRequest,
    params: &SigningParams<'_>,
    content_sha256: bool,
) -> Result<Signed, SignError> {
    let amz_date = amz_date(params.time)?;
    let method = fetch_method(&req.method).ok_or(SignError::BadMethod)?;
    let target = Target::of(&req.url)?;
    let payload_hash = hex(&Sha256::digest(req.body.as_deref().unwrap_or_default()));
    let mut headers: Vec<(String, String)> = Vec::with_capacity(req.headers.len() + 4);
    for (name, value) in &req.headers {
        if !is_token(name) {
            return Err(SignError::BadHeaderName);
        }
        if SET_BY_SIGN.iter().any(|s| name.eq_ignore_ascii_case(s)) {
            continue;
        }
        if headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
            return Err(SignError::DuplicateHeader { name: name.to_ascii_lowercase() });
        }
        headers.push((name.clone(), value.clone()));
    }
    headers.push(("x-amz-date".into(), amz_date.clone()));
    if let Some(token) = params.session_token {
        headers.push(("x-amz-security-token".into(), token.into()));
    }
    if content_sha256 {
        headers.push(("x-amz-content-sha256".into(), payload_hash.clone()));
    }
    let signed = sign_parts(
        &Parts { method, host: &target.host, path: &target.path, query: &target.query, headers: &headers },
        &payload_hash,
        params,
        &amz_date,
    )?;
    headers.push(("authorization".into(), signed.authorization.clone()));
    req.headers = headers;
    Ok(signed)
}

/// A request as it goes on the wire: the request line's path and query, the `Host`, the
/// headers (no `host`).
pub(crate) struct Parts<'a> {
    pub(crate) method: &'a str,
    pub(crate) host: &'a str,
    pub(crate) path: &'a str,
    pub(crate) query: &'a str,
    pub(crate) headers: &'a [(String, String)],
}

/// Signs `parts` (whose headers already carry `x-amz-date` and the rest) at `amz_date`.
pub(crate) fn sign_parts(
    parts: &Parts<'_>,
    payload_hash: &str,
    params: &SigningParams<'_>,
    amz_date: &str,
) -> Result<Signed, SignError> {
    check_params(params)?;
    let (headers, signed_headers) = canonical_headers(parts.host, parts.headers)?;
    let canonical_request = format!(
        "{}\n{}\n{}\n{headers}\n{signed_headers}\n{payload_hash}",
        parts.method,
        canonical_path(parts.path),
        canonical_query(parts.query),
    );
    let date = amz_date.get(..8).ok_or(SignError::TimeOutOfRange)?;
    let scope = format!("{date}/{}/{}/aws4_request", params.region, params.service);
    let string_to_sign =
        format!("{ALGORITHM}\n{amz_date}\n{scope}\n{}", hex(&Sha256::digest(canonical_request.as_bytes())));
    let mut key = hmac(format!("AWS4{}", params.secret_access_key).as_bytes(), date.as_bytes());
    for part in [params.region, params.service, "aws4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    let signature = hex(&hmac(&key, string_to_sign.as_bytes()));
    let authorization = format!(
        "{ALGORITHM} Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
        params.access_key_id
    );
    Ok(Signed { canonical_request, string_to_sign, authorization })
}

/// `x-amz-date` of `time`: `YYYYMMDD'T'HHMMSS'Z'` (UTC).
pub(crate) fn amz_date(time: u64) -> Result<String, SignError> {
    let secs = i64::try_from(time).ok().filter(|_| time <= MAX_TIME).ok_or(SignError::TimeOutOfRange)?;
    let (y, m, d) = crate::time::civil_from_days(secs / 86_400);
    let s = secs % 86_400;
    Ok(format!("{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z", s / 3600, s % 3600 / 60, s % 60))
}

fn check_params(p: &SigningParams<'_>) -> Result<(), SignError> {
    let scope_ok = |s: &str| {
        !s.is_empty()
            && s.len() <= 64
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    };
    let key_ok = !p.access_key_id.is_empty()
        && p.access_key_id.len() <= 128
        && p.access_key_id.bytes().all(|b| b.is_ascii_alphanumeric());
    let token_ok = p.session_token.is_none_or(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_graphic()));
    if !key_ok || p.secret_access_key.is_empty() || !token_ok {
        return Err(SignError::BadCredentials);
    }
    if !scope_ok(p.region) || !scope_ok(p.service) {
        return Err(SignError::BadScope);
    }
    Ok(())
}

/// The method as the Workers fetch sends it (it upper-cases these and sends anything else as
/// `GET`).
fn fetch_method(m: &str) -> Option<&'static str> {
    ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"].into_iter().find(|k| k.eq_ignore_ascii_case(m))
}

/// Lower-case hex.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}
