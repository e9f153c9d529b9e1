//! Outbound identity: OIDC federation. The Worker signs a short-lived JWT about itself and
//! exchanges it at an STS endpoint (AWS `AssumeRoleWithWebIdentity`) for temporary
//! credentials, which are cached in KV until shortly before they expire.

use std::fmt;
use std::marker::PhantomData;
use std::rc::Rc;

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use jwt_compact::alg::{Rsa, RsaPrivateKey, RsaPublicKey, StrongKey};
use jwt_compact::{AlgorithmExt as _, Claims as JwtClaims, Header};
use rsa::pkcs1::DecodeRsaPrivateKey as _;
use rsa::pkcs8::DecodePrivateKey as _;
use rsa::traits::PublicKeyParts as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::cx::Pause;
use super::single_flight::{Entry, Flights, NoAnswer};
use crate::error::Error;
use crate::outbound::{check_https_or_loopback, form_encode, Fetcher, OutboundRequest};
use crate::storage::kv::MIN_TTL_SECS;
use crate::storage::Kv;

/// AWS STS's global endpoint, used when the STS URL var is unset.
pub const DEFAULT_STS_URL: &str = "https://sts.amazonaws.com/";
/// The audience AWS expects in a web identity token, used when the audience var is unset.
pub const DEFAULT_STS_AUDIENCE: &str = "sts.amazonaws.com";
/// STS answers larger than this many bytes are treated as garbage.
pub const MAX_STS_RESPONSE_LEN: usize = 64 * 1024;
/// Longest key secret accepted (bytes; a 4096-bit PKCS#8 PEM is about 3.3 KiB).
pub const MAX_FEDERATION_KEY_LEN: usize = 16 * 1024;

/// Configures a [`Federation`]: where the signing key, issuer, audience, STS URL and role come
/// from, what the assertion says, and how long credentials live. Every item has a default, so
/// a config only overrides what differs.
///
/// ```
/// use layers_core::identity::{Federation, FederationConfig};
///
/// /// Credentials for the nightly backup job's IAM role.
/// pub struct BackupRole;
/// impl FederationConfig for BackupRole {
///     const SUBJECT: &'static str = "blog-worker:backup";
///     const SESSION_NAME: &'static str = "blog-backup";
///     const ROLE_VAR: &'static str = "BACKUP_ROLE_ARN";
///     const NAME: &'static str = "BackupRole";
/// }
/// // A handler takes `creds: Federation<'_, BackupRole>` and calls `creds.credentials(&kv)`.
/// ```
pub trait FederationConfig: 'static {
    /// Worker secret holding the RSA private key that signs the assertion: PKCS#8 PEM
    /// (`-----BEGIN PRIVATE KEY-----`; literal `\n` escapes are read as newlines, since dotenv
    /// files carry one line), PKCS#1 PEM, or base64 of the PKCS#8 DER. 2048, 3072 or 4096 bits.
    const KEY_SECRET: &'static str = "FEDERATION_KEY";
    /// The `kid` put in the assertion's header (the key's id in the JWKS the identity provider
    /// publishes for this issuer).
    const KEY_ID: &'static str = "layers-federation";
    /// Var holding the assertion's `iss`: the OIDC issuer URL registered with the STS, e.g.
    /// `https://blog.example.com` (must be `https://`).
    const ISSUER_VAR: &'static str = "FEDERATION_ISSUER";
    /// The assertion's `sub`: who this Worker is to the STS (matched by the role's trust policy).
    const SUBJECT: &'static str = "layers-worker";
    /// Var holding the assertion's `aud`; [`DEFAULT_STS_AUDIENCE`] when unset.
    const AUDIENCE_VAR: &'static str = "STS_AUDIENCE";
    /// Var holding the STS endpoint; [`DEFAULT_STS_URL`] when unset. Must be `https://…`, or
    /// `http://` on 127.0.0.1, `localhost` or `[::1]` (tests).
    const STS_URL_VAR: &'static str = "STS_URL";
    /// Var holding the ARN of the role to assume.
    const ROLE_VAR: &'static str = "STS_ROLE_ARN";
    /// `RoleSessionName` (2–64 characters of `A-Z a-z 0-9 + = , . @ _ -`), shown in the
    /// STS audit trail.
    const SESSION_NAME: &'static str = "layers";
    /// `DurationSeconds` asked for (900–43200).
    const DURATION_SECS: u64 = 3600;
    /// Cached credentials are renewed when they have this many seconds or fewer left.
    const REFRESH_BEFORE_SECS: u64 = 300;
    /// Lifetime of the signed assertion, in seconds (1–3600).
    const ASSERTION_TTL_SECS: u64 = 300;
    /// Name in logs, errors and the KV cache key.
    const NAME: &'static str = "Federation";
    /// Set only by layers' own [`DefaultFederation`]: a configuration any app could opt in to,
    /// so no route may obtain its credentials ([`MayFederate`](super::MayFederate) needs a
    /// configuration of your app).
    #[doc(hidden)]
    const LAYERS_DEFAULT: bool = false;
}

/// The default [`Federation`] configuration: secret `FEDERATION_KEY`, vars `FEDERATION_ISSUER`,
/// `STS_AUDIENCE`, `STS_URL`, `STS_ROLE_ARN`; one-hour credentials renewed five minutes before
/// they expire. No route may take it: credentials are granted only for configurations of your
/// app ([`MayFederate`](super::MayFederate)); write one that overrides what differs.
#[derive(Debug)]
pub struct DefaultFederation;

impl FederationConfig for DefaultFederation {
    #[doc(hidden)]
    const LAYERS_DEFAULT: bool = true;
}

/// Temporary credentials from an STS exchange (or from the KV cache).
///
/// `Debug` shows the access key id and the expiry only: the secret key and the session token
/// are redacted. There is deliberately no `Serialize`, so they cannot end up in a response
/// body by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct TempCredentials {
    /// The access key id (`ASIA…`).
    pub access_key_id: String,
    /// The secret access key. Never log it or send it to a client.
    pub secret_access_key: String,
    /// The session token. Never log it or send it to a client.
    pub session_token: String,
    /// When the credentials expire, seconds since the Unix epoch.
    pub expiration: u64,
    /// Whether they came from the KV cache rather than a fresh exchange.
    pub from_cache: bool,
}

impl fmt::Debug for TempCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TempCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("session_token", &"<redacted>")
            .field("expiration", &self.expiration)
            .field("from_cache", &self.from_cache)
            .finish()
    }
}

/// What is kept in KV (the same fields, without `from_cache`).
#[derive(Serialize, Deserialize)]
struct CacheEntry {
    access_key_id: String,
    secret_access_key: String,
    session_token: String,
    expiration: u64,
}

impl CacheEntry {
    fn from_json(text: &str) -> Option<TempCredentials> {
        let e: CacheEntry = serde_json::from_str(text).ok()?;
        let ok = valid_access_key_id(&e.access_key_id)
            && valid_secret_value(&e.secret_access_key, 256)
            && valid_secret_value(&e.session_token, MAX_STS_RESPONSE_LEN);
        ok.then_some(TempCredentials {
            access_key_id: e.access_key_id,
            secret_access_key: e.secret_access_key,
            session_token: e.session_token,
            expiration: e.expiration,
            from_cache: true,
        })
    }

    fn to_json(c: &TempCredentials) -> Result<String, Error> {
        let e = CacheEntry {
            access_key_id: c.access_key_id.clone(),
            secret_access_key: c.secret_access_key.clone(),
            session_token: c.session_token.clone(),
            expiration: c.expiration,
        };
        serde_json::to_string(&e).map_err(|_| Error::internal("federation: cannot serialize credentials"))
    }
}

// ---- the signing key -----------------------------------------------------------------------------

/// An RSA private key (2048, 3072 or 4096 bits) that signs federation assertions. `Debug`
/// shows only its size.
#[derive(Clone)]
pub struct FederationKey {
    key: RsaPrivateKey,
}

impl fmt::Debug for FederationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FederationKey").field("bits", &self.bits()).finish_non_exhaustive()
    }
}

impl FederationKey {
    /// Reads a key from a secret's text: PKCS#8 PEM (`BEGIN PRIVATE KEY`), PKCS#1 PEM
    /// (`BEGIN RSA PRIVATE KEY`), or base64 (standard alphabet, padding optional) of the
    /// PKCS#8 or PKCS#1 DER. Literal `\n` and `\r` escapes count as line breaks, so a PEM
    /// fits on one dotenv line.
    ///
    /// # Errors
    /// A description that never contains key material: not a key, encrypted, or not
    /// 2048/3072/4096 bits.
    pub fn parse(secret: &str) -> Result<FederationKey, String> {
        if secret.len() > MAX_FEDERATION_KEY_LEN {
            return Err(format!("longer than {MAX_FEDERATION_KEY_LEN} bytes"));
        }
        let text = secret.trim().replace("\\r", "").replace("\\n", "\n");
        let text = text.trim().trim_matches('"').trim();
        let key = if text.contains("-----BEGIN ") {
            let (label, der) = pem_decode(text)?;
            match label.as_str() {
                "PRIVATE KEY" => RsaPrivateKey::from_pkcs8_der(&der).map_err(|_| "not an RSA PKCS#8 private key")?,
                "RSA PRIVATE KEY" => {
                    RsaPrivateKey::from_pkcs1_der(&der).map_err(|_| "not an RSA PKCS#1 private key")?
                }
                "ENCRYPTED PRIVATE KEY" => {
                    return Err("an encrypted private key: store it unencrypted (openssl pkcs8 -topk8 -nocrypt)".into())
                }
                _ => return Err(format!("a PEM block labelled {label:?}, not PRIVATE KEY")),
            }
        } else {
            let b64: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
            let der = STANDARD
                .decode(&b64)
                .or_else(|_| STANDARD_NO_PAD.decode(&b64))
                .map_err(|_| "neither a PEM private key nor base64 of a DER one")?;
            RsaPrivateKey::from_pkcs8_der(&der)
                .or_else(|_| RsaPrivateKey::from_pkcs1_der(&der))
                .map_err(|_| "base64 that is not an RSA private key (PKCS#8 or PKCS#1 DER)")?
        };
        let key = StrongKey::try_from(key).map_err(|_| "the RSA key is not 2048, 3072 or 4096 bits")?.into_inner();
        Ok(FederationKey { key })
    }

    /// The modulus size in bits.
    #[must_use]
    pub fn bits(&self) -> usize {
        self.key.size() * 8
    }

    /// The public half (what the issuer's JWKS publishes).
    #[must_use]
    pub fn public_key(&self) -> RsaPublicKey {
        self.key.to_public_key()
    }
}

/// The label and decoded body of the first PEM block of `text`.
fn pem_decode(text: &str) -> Result<(String, Vec<u8>), String> {
    let begin = text.find("-----BEGIN ").ok_or("no PEM BEGIN line")?;
    let rest = &text[begin + "-----BEGIN ".len()..];
    let label_end = rest.find("-----").ok_or("a malformed PEM BEGIN line")?;
    let label = rest[..label_end].trim().to_owned();
    if label.is_empty() || label.len() > 64 || !label.bytes().all(|b| b.is_ascii_uppercase() || b == b' ') {
        return Err("a malformed PEM label".into());
    }
    let body_and_end = &rest[label_end + 5..];
    let end_line = format!("-----END {label}-----");
    let body_end = body_and_end.find(&end_line).ok_or("no matching PEM END line")?;
    let body = &body_and_end[..body_end];
    if body.contains(':') {
        return Err("a PEM block with headers (encrypted?)".into());
    }
    let b64: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let der = STANDARD.decode(&b64).map_err(|_| "a PEM body that is not base64")?;
    Ok((label, der))
}

// ---- the assertion -------------------------------------------------------------------------------

/// What the signed assertion says about the Worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssertionClaims<'a> {
    /// `iss`: the OIDC issuer URL.
    pub issuer: &'a str,
    /// `sub`: who the Worker is to the STS.
    pub subject: &'a str,
    /// `aud`: the STS's client id, e.g. `sts.amazonaws.com`.
    pub audience: &'a str,
    /// Seconds from `iat` to `exp`.
    pub ttl_secs: u64,
}

/// Longest `kid` put in an assertion.
const MAX_KID_LEN: usize = 128;

/// Signs a web identity token: an RS256 JWT with header `alg RS256`, `typ JWT`, `kid`, and
/// claims `iss`, `sub`, `aud`, `iat = nbf = now`, `exp = now + ttl_secs`, and a random `jti`
/// (128 bits, base64url).
///
/// # Errors
/// A description (never containing the key or the token) when `kid` is empty, longer than
/// 128 bytes or not printable ASCII, a claim is empty, `ttl_secs` is 0, or no randomness or
/// signature could be had.
pub fn sign_assertion(
    key: &FederationKey,
    kid: &str,
    claims: &AssertionClaims<'_>,
    now: u64,
) -> Result<String, String> {
    if kid.is_empty() || kid.len() > MAX_KID_LEN || !kid.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("the key id is empty, too long, or not printable ASCII".into());
    }
    for (name, v) in [("iss", claims.issuer), ("sub", claims.subject), ("aud", claims.audience)] {
        if v.trim().is_empty() {
            return Err(format!("the assertion's {name} is empty"));
        }
    }
    if claims.ttl_secs == 0 {
        return Err("the assertion lifetime is 0".into());
    }
    let exp = now.checked_add(claims.ttl_secs).ok_or("the assertion's exp overflows")?;
    let mut jti = [0u8; 16];
    getrandom::getrandom(&mut jti).map_err(|e| format!("no randomness for the jti: {e}"))?;
    let body = serde_json::json!({
        "iss": claims.issuer,
        "sub": claims.subject,
        "aud": claims.audience,
        "iat": now,
        "nbf": now,
        "exp": exp,
        "jti": URL_SAFE_NO_PAD.encode(jti),
    });
    let header = Header::empty().with_key_id(kid).with_token_type("JWT");
    Rsa::rs256().token(&header, &JwtClaims::new(body), &key.key).map_err(|_| "signing the assertion failed".into())
}

// ---- the STS answer ------------------------------------------------------------------------------

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
pub fn parse_sts_response(status: u16, body: &[u8]) -> Result<TempCredentials, String> {
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

fn valid_access_key_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn valid_secret_value(s: &str, max: usize) -> bool {
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

// ---- time ----------------------------------------------------------------------------------------

/// Parses an ISO 8601 / RFC 3339 UTC time, `YYYY-MM-DDTHH:MM:SS[.fraction]Z` (`+00:00` is
/// accepted for `Z`; the fraction, 1–9 digits, is truncated), into seconds since the Unix
/// epoch. Years 1970–9999; the date must exist (leap years follow the Gregorian rules).
/// Other offsets, missing parts, leap seconds and trailing text give `None`.
#[must_use]
pub fn parse_iso8601_utc(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<u64> {
        let digits = b.get(range)?;
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        digits.iter().try_fold(0u64, |acc, d| Some(acc * 10 + u64::from(d - b'0')))
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        let digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 || digits > 9 {
            return None;
        }
        i += 1 + digits;
    }
    match &b[i..] {
        b"Z" | b"z" | b"+00:00" => {}
        _ => return None,
    }
    if !(1970..=9999).contains(&year) || !(1..=12).contains(&month) || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    if day == 0 || day > days_in_month(year, month) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(days * 86_400 + hour * 3600 + minute * 60 + second)
}

fn is_leap(y: u64) -> bool {
    (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400)
}

fn days_in_month(y: u64, m: u64) -> u64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days from 1970-01-01 to `y-m-d` (proleptic Gregorian, `y >= 1970`), after Howard Hinnant's
/// `days_from_civil`: years start in March, so the leap day is the last day of the year.
fn days_from_civil(y: u64, m: u64, d: u64) -> u64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y / 400;
    let yoe = y - era * 400; // [0, 399]
    let mp = (m + 9) % 12; // March = 0 … February = 11
    let doy = (153 * mp + 2) / 5 + d - 1; // [0, 365]
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
    era * 146_097 + doe - 719_468
}

// ---- the helper a handler takes ------------------------------------------------------------------

type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The Worker's outbound identity: signs an assertion with its own key and exchanges it at an
/// STS for temporary credentials (AWS `AssumeRoleWithWebIdentity`), cached in KV.
///
/// A handler takes it as a parameter — `creds: Federation<'_, MyRole>` — and passes the
/// route's KV handle to [`credentials`](Self::credentials). Like claims and storage handles it
/// lives only as long as the request, and only the framework makes one. The key, issuer and
/// role are read from the secret and vars [`FederationConfig`] names.
///
/// ```ignore
/// #[route(GET "/admin/backup-credentials", identity = Admin, storage(KV))]
/// async fn backup(_: Claims<'_, Admin>, kv: Kv<'_>, sts: Federation<'_, BackupRole>) -> Result<Response> {
///     let creds = sts.credentials(&kv).await?;
///     Ok(Response::from_json(&serde_json::json!({ "access_key_id": creds.access_key_id }))?)
/// }
/// ```
pub struct Federation<'r, C: FederationConfig = DefaultFederation> {
    key: Option<String>,
    issuer: Option<String>,
    audience: Option<String>,
    sts_url: Option<String>,
    role: Option<String>,
    fetcher: Fetcher,
    clock: fn() -> u64,
    /// How a request waits for another's STS exchange (its own timer).
    pause: Pause,
    config: PhantomData<fn() -> C>,
    scope: PhantomData<fn(&'r ()) -> &'r ()>,
}

/// How often a request waiting for another's STS exchange looks for its answer (ms).
const STS_WAIT_STEP_MS: u32 = 25;

/// The answer of one STS exchange, shared with the requests that waited for it.
type Exchanged = Result<TempCredentials, Error>;

thread_local! {
    // The isolate's STS exchanges in flight, by cache key (config and role): a request that
    // misses the cache while another exchanges for the same role waits for that answer.
    // Only dispatch makes a `Federation`, with the Worker's real fetcher, so only real
    // exchanges put answers here, and only their waiters take them.
    static STS_FLIGHTS: Rc<Flights<Exchanged>> = Rc::default();
}

impl<C: FederationConfig> fmt::Debug for Federation<'_, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Federation")
            .field("config", &C::NAME)
            .field("role", &self.role)
            .field("sts_url", &self.sts_url)
            .finish_non_exhaustive()
    }
}

/// Validated settings for one exchange.
struct Settings {
    key: String,
    issuer: String,
    audience: String,
    sts_url: String,
    role: String,
}

/// Where credentials are cached: KV in a Worker, a map in tests.
trait CredentialCache {
    /// The cached text, `None` when absent or unreadable (a failed read is logged by the
    /// storage layer and treated as a miss).
    async fn load(&self, key: &str) -> Option<String>;
    /// Stores `value` for `ttl_secs`; a failed write is logged by the storage layer and does
    /// not fail the request (the credentials are good either way).
    async fn store(&self, key: &str, value: &str, ttl_secs: u64);
}

impl CredentialCache for Kv<'_> {
    // Under `layers:`, which a handler's own `Kv` can neither read nor write.
    async fn load(&self, key: &str) -> Option<String> {
        self.get_any(key).await.ok().flatten()
    }
    async fn store(&self, key: &str, value: &str, ttl_secs: u64) {
        let _ = self.put_any_with_ttl(key, value, ttl_secs).await;
    }
}

fn unavailable(detail: String) -> Error {
    Error::new(503, "service unavailable").with_detail(detail)
}

fn bad_gateway(detail: String) -> Error {
    Error::new(502, "bad gateway").with_detail(detail)
}

fn valid_session_name(s: &str) -> bool {
    (2..=64).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'=' | b',' | b'.' | b'@' | b'_' | b'-'))
}

impl<'r, C: FederationConfig> Federation<'r, C> {
    /// Made by the framework's dispatch only, from the Worker's secrets and vars.
    pub(crate) fn new(secret: Lookup<'_>, var: Lookup<'_>, fetcher: Fetcher, clock: fn() -> u64, pause: Pause) -> Self {
        let set = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        Federation {
            key: set(secret(C::KEY_SECRET)),
            issuer: set(var(C::ISSUER_VAR)),
            audience: set(var(C::AUDIENCE_VAR)),
            sts_url: set(var(C::STS_URL_VAR)),
            role: set(var(C::ROLE_VAR)),
            fetcher,
            clock,
            pause,
            config: PhantomData,
            scope: PhantomData,
        }
    }

    /// The ARN of the role this helper assumes, when its var is set.
    #[must_use]
    pub fn role(&self) -> Option<&str> {
        self.role.as_deref()
    }

    /// The KV key credentials for `role` are cached under: `layers:federation:<NAME>:<role>`.
    #[must_use]
    pub fn cache_key(role: &str) -> String {
        format!("layers:federation:{}:{role}", C::NAME)
    }

    fn settings(&self) -> Result<Settings, Error> {
        let name = C::NAME;
        if !valid_session_name(C::SESSION_NAME) {
            return Err(Error::internal(format!("{name}: SESSION_NAME must be 2-64 of A-Z a-z 0-9 + = , . @ _ -")));
        }
        if !(900..=43_200).contains(&C::DURATION_SECS) {
            return Err(Error::internal(format!("{name}: DURATION_SECS must be 900-43200")));
        }
        if !(1..=3600).contains(&C::ASSERTION_TTL_SECS) {
            return Err(Error::internal(format!("{name}: ASSERTION_TTL_SECS must be 1-3600")));
        }
        let key =
            self.key.clone().ok_or_else(|| unavailable(format!("{name}: secret {} is not set", C::KEY_SECRET)))?;
        let issuer =
            self.issuer.clone().ok_or_else(|| unavailable(format!("{name}: var {} is not set", C::ISSUER_VAR)))?;
        let issuer_ok = issuer.strip_prefix("https://").is_some_and(|h| !h.is_empty() && !h.starts_with('/'))
            && issuer.len() <= 2048
            && issuer.bytes().all(|b| b.is_ascii_graphic());
        if !issuer_ok {
            return Err(unavailable(format!("{name}: var {} is not an https:// URL", C::ISSUER_VAR)));
        }
        let role = self.role.clone().ok_or_else(|| unavailable(format!("{name}: var {} is not set", C::ROLE_VAR)))?;
        if !role.starts_with("arn:") || role.len() > 2048 || !role.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(unavailable(format!("{name}: var {} is not a role ARN", C::ROLE_VAR)));
        }
        let audience = self.audience.clone().unwrap_or_else(|| DEFAULT_STS_AUDIENCE.to_owned());
        if audience.len() > 256 || !audience.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(unavailable(format!("{name}: var {} is not a plain audience", C::AUDIENCE_VAR)));
        }
        let sts_url = self.sts_url.clone().unwrap_or_else(|| DEFAULT_STS_URL.to_owned());
        check_https_or_loopback(&sts_url, &format!("var {}", C::STS_URL_VAR))
            .map_err(|e| unavailable(format!("{name}: {e}")))?;
        Ok(Settings { key, issuer, audience, sts_url, role })
    }

    /// Temporary credentials for the configured role: from the KV `cache` while they have
    /// more than [`FederationConfig::REFRESH_BEFORE_SECS`] left, otherwise by a fresh
    /// exchange —
    ///
    /// 1. sign an RS256 assertion ([`sign_assertion`]) valid for
    ///    [`FederationConfig::ASSERTION_TTL_SECS`],
    /// 2. `POST` it form-encoded to the STS (`Action=AssumeRoleWithWebIdentity`,
    ///    `Version=2011-06-15`, `RoleArn`, `RoleSessionName`, `WebIdentityToken`,
    ///    `DurationSeconds`),
    /// 3. read the answer ([`parse_sts_response`]),
    /// 4. cache it under [`cache_key`](Self::cache_key) for its lifetime less the refresh
    ///    margin (at least 60 s, KV's minimum).
    ///
    /// One exchange per role at a time in an isolate: a request that misses the cache while
    /// another is exchanging for the same role waits for that exchange (on its own timer, up
    /// to the outbound timeout) and gets its answer — the same credentials, or the same error
    /// — instead of calling the STS too.
    ///
    /// A failed KV read counts as a miss and a failed KV write does not fail the call (both
    /// are logged by the storage layer). Neither the assertion, nor the secret key, nor the
    /// session token is ever logged or put in an error.
    ///
    /// # Errors
    /// * 503 when the key secret, the issuer or role var is unset or unusable, or the STS is
    ///   unreachable;
    /// * 502 when the STS refuses the exchange (its error `Code` goes to the log) or answers
    ///   garbage or credentials that are already expired;
    /// * 500 when the config's constants are out of range.
    pub async fn credentials(&self, cache: &Kv<'_>) -> Result<TempCredentials, Error> {
        self.credentials_in(cache).await
    }

    async fn credentials_in(&self, cache: &impl CredentialCache) -> Result<TempCredentials, Error> {
        let name = C::NAME;
        let s = self.settings()?;
        let cache_key = Self::cache_key(&s.role);
        let now = (self.clock)();
        if let Some(hit) = cache.load(&cache_key).await.as_deref().and_then(CacheEntry::from_json) {
            if hit.expiration.saturating_sub(now) > C::REFRESH_BEFORE_SECS {
                return Ok(hit);
            }
        }
        let turn = match STS_FLIGHTS.with(Rc::clone).enter(&cache_key) {
            Entry::Lead(turn) => turn,
            Entry::Follow(wait) => {
                let max = crate::outbound::DEFAULT_TIMEOUT_MS + STS_WAIT_STEP_MS;
                return match wait.answer(&self.pause, STS_WAIT_STEP_MS, max).await {
                    Ok(answer) => answer,
                    Err(NoAnswer::Abandoned) => {
                        Err(unavailable(format!("{name}: the STS exchange another request started was abandoned")))
                    }
                    Err(NoAnswer::TimedOut) => {
                        Err(unavailable(format!("{name}: the STS exchange another request started did not end")))
                    }
                };
            }
        };
        let answer = self.exchange(&s, &cache_key, now, cache).await;
        turn.finish(answer.clone());
        answer
    }

    /// One exchange with the STS (see [`credentials`](Self::credentials)), its answer cached.
    async fn exchange(
        &self,
        s: &Settings,
        cache_key: &str,
        now: u64,
        cache: &impl CredentialCache,
    ) -> Result<TempCredentials, Error> {
        let name = C::NAME;
        let key = FederationKey::parse(&s.key)
            .map_err(|e| unavailable(format!("{name}: secret {} is unusable: {e}", C::KEY_SECRET)))?;
        let claims = AssertionClaims {
            issuer: &s.issuer,
            subject: C::SUBJECT,
            audience: &s.audience,
            ttl_secs: C::ASSERTION_TTL_SECS,
        };
        let assertion = sign_assertion(&key, C::KEY_ID, &claims, now)
            .map_err(|e| Error::internal(format!("{name}: cannot sign the assertion: {e}")))?;
        let duration = C::DURATION_SECS.to_string();
        let form = form_encode(&[
            ("Action", "AssumeRoleWithWebIdentity"),
            ("Version", "2011-06-15"),
            ("RoleArn", &s.role),
            ("RoleSessionName", C::SESSION_NAME),
            ("WebIdentityToken", &assertion),
            ("DurationSeconds", &duration),
        ]);
        drop(assertion);
        let mut req = OutboundRequest::post(&s.sts_url, "application/x-www-form-urlencoded", form.into_bytes());
        // A config URL: never follow a redirect, never read more than an answer can be.
        req.redirect = crate::outbound::RedirectMode::Manual;
        req.max_body = Some(MAX_STS_RESPONSE_LEN + 1);
        let resp = (self.fetcher)(req)
            .await
            .map_err(|e| unavailable(format!("{name}: STS {} unreachable: {e}", s.sts_url)))?;
        let creds = parse_sts_response(resp.status, &resp.body)
            .map_err(|e| bad_gateway(format!("{name}: exchange for {}: {e}", s.role)))?;
        let now = (self.clock)().max(now);
        if creds.expiration <= now {
            return Err(bad_gateway(format!("{name}: STS returned credentials that already expired")));
        }
        let ttl = creds.expiration.saturating_sub(now).saturating_sub(C::REFRESH_BEFORE_SECS).max(MIN_TTL_SECS);
        cache.store(cache_key, &CacheEntry::to_json(&creds)?, ttl).await;
        Ok(creds)
    }
}

#[cfg(test)]
mod tests {
    use std::cell::{Cell, RefCell};
    use std::collections::HashMap;
    use std::rc::Rc;

    use super::*;
    use crate::outbound::{FetchFuture, OutboundResponse};

    const KEY_A: &str = include_str!("../../../tests/fixtures/access/key-a.pem");
    const ROLE: &str = "arn:aws:iam::123456789012:role/layers-backup";

    thread_local! {
        static NOW: Cell<u64> = const { Cell::new(1_800_000_000) };
    }

    fn clock() -> u64 {
        NOW.with(Cell::get)
    }

    #[derive(Default)]
    struct MapCache(RefCell<HashMap<String, (String, u64)>>);

    impl CredentialCache for MapCache {
        async fn load(&self, key: &str) -> Option<String> {
            self.0.borrow().get(key).map(|(v, _)| v.clone())
        }
        async fn store(&self, key: &str, value: &str, ttl_secs: u64) {
            self.0.borrow_mut().insert(key.to_owned(), (value.to_owned(), ttl_secs));
        }
    }

    struct Sts {
        calls: Rc<RefCell<Vec<OutboundRequest>>>,
        fetcher: Fetcher,
    }

    fn sts(status: u16, body: impl Fn() -> String + 'static) -> Sts {
        let calls = Rc::new(RefCell::new(Vec::new()));
        let seen = Rc::clone(&calls);
        let fetcher: Fetcher = Rc::new(move |r: OutboundRequest| -> FetchFuture {
            seen.borrow_mut().push(r);
            let body = body().into_bytes();
            Box::pin(async move { Ok(OutboundResponse { status, headers: Vec::new(), body }) })
        });
        Sts { calls, fetcher }
    }

    fn xml_ok() -> String {
        xml_expiring(clock() + 3600)
    }

    fn xml_expiring(exp: u64) -> String {
        let secs = exp % 86_400;
        let (y, m, d) = civil_from_days(exp / 86_400);
        format!(
            "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
             <AssumeRoleWithWebIdentityResult><Credentials>\
             <AccessKeyId>ASIA0000000000000001</AccessKeyId>\
             <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY</SecretAccessKey>\
             <SessionToken>FwoGZXIvYXdzEBYaDHVzLWVhc3QtMSJHMEUCIQ</SessionToken>\
             <Expiration>{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z</Expiration>\
             </Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>",
            secs / 3600,
            secs % 3600 / 60,
            secs % 60
        )
    }

    fn civil_from_days(z: u64) -> (u64, u64, u64) {
        let z = z + 719_468;
        let era = z / 146_097;
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        let y = yoe + era * 400 + u64::from(m <= 2);
        (y, m, d)
    }

    struct Role;
    impl FederationConfig for Role {
        const NAME: &'static str = "TestRole";
        const KEY_ID: &'static str = "kid-a";
        const SUBJECT: &'static str = "worker:test";
        const SESSION_NAME: &'static str = "layers-test";
    }

    fn federation(fetcher: Fetcher, key: Option<&str>, vars: &[(&str, &str)]) -> Federation<'static, Role> {
        let key = key.map(str::to_owned);
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        let secret = move |n: &str| if n == "FEDERATION_KEY" { key.clone() } else { None };
        let var = move |n: &str| vars.get(n).cloned();
        Federation::new(&secret, &var, fetcher, clock, crate::identity::cx::yield_once())
    }

    const VARS: [(&str, &str); 3] =
        [("FEDERATION_ISSUER", "https://layers.test"), ("STS_ROLE_ARN", ROLE), ("STS_URL", "http://127.0.0.1:9/sts")];

    fn form_field(body: &[u8], name: &str) -> Option<String> {
        let body = std::str::from_utf8(body).ok()?;
        crate::request::parse_query(body).into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    #[test]
    fn exchanges_once_then_serves_from_the_cache_until_the_refresh_margin() {
        NOW.with(|n| n.set(1_800_000_000));
        let s = sts(200, xml_ok);
        let f = federation(Rc::clone(&s.fetcher), Some(KEY_A), &VARS);
        let cache = MapCache::default();

        let first = futures::executor::block_on(f.credentials_in(&cache)).expect("exchange");
        assert!(!first.from_cache);
        assert_eq!(first.access_key_id, "ASIA0000000000000001");
        assert_eq!(first.expiration, clock() + 3600);
        assert_eq!(s.calls.borrow().len(), 1);

        // What went to the STS.
        let req = s.calls.borrow()[0].clone();
        assert_eq!(req.redirect, crate::outbound::RedirectMode::Manual, "a config URL never redirects");
        assert_eq!(req.max_body, Some(MAX_STS_RESPONSE_LEN + 1), "a bounded answer");
        assert_eq!(req.method, "POST");
        assert_eq!(req.url, "http://127.0.0.1:9/sts");
        assert!(req.headers.contains(&("content-type".into(), "application/x-www-form-urlencoded".into())));
        let body = req.body.expect("form body");
        assert_eq!(form_field(&body, "Action").as_deref(), Some("AssumeRoleWithWebIdentity"));
        assert_eq!(form_field(&body, "Version").as_deref(), Some("2011-06-15"));
        assert_eq!(form_field(&body, "RoleArn").as_deref(), Some(ROLE));
        assert_eq!(form_field(&body, "RoleSessionName").as_deref(), Some("layers-test"));
        assert_eq!(form_field(&body, "DurationSeconds").as_deref(), Some("3600"));
        assert!(std::str::from_utf8(&body).unwrap().contains("RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2F"));
        let token = form_field(&body, "WebIdentityToken").expect("token");
        let public = FederationKey::parse(KEY_A).unwrap().public_key();
        let claims = crate::identity::verify_rs256(&token, &public).expect("signature verifies");
        assert_eq!(claims["iss"], "https://layers.test");
        assert_eq!(claims["sub"], "worker:test");
        assert_eq!(claims["aud"], DEFAULT_STS_AUDIENCE);
        assert_eq!(claims["exp"], clock() + 300);

        // Cached with the lifetime less the refresh margin.
        let key = Federation::<Role>::cache_key(ROLE);
        assert_eq!(key, format!("layers:federation:TestRole:{ROLE}"));
        let (stored, ttl) = cache.0.borrow().get(&key).cloned().expect("cached");
        assert_eq!(ttl, 3600 - 300);
        assert!(stored.contains("ASIA0000000000000001"));

        let second = futures::executor::block_on(f.credentials_in(&cache)).expect("cached");
        assert!(second.from_cache);
        assert_eq!(second.access_key_id, first.access_key_id);
        assert_eq!(second.secret_access_key, first.secret_access_key);
        assert_eq!(s.calls.borrow().len(), 1, "a cache hit makes no STS call");

        // Inside the refresh margin: exchange again.
        NOW.with(|n| n.set(1_800_000_000 + 3600 - 300));
        let third = futures::executor::block_on(f.credentials_in(&cache)).expect("refresh");
        assert!(!third.from_cache);
        assert_eq!(s.calls.borrow().len(), 2);
    }

    /// An STS that answers after giving way `turns` times (a slow exchange, natively).
    fn slow_sts(turns: usize, status: u16) -> Sts {
        let calls = Rc::new(RefCell::new(Vec::new()));
        let seen = Rc::clone(&calls);
        let fetcher: Fetcher = Rc::new(move |r: OutboundRequest| -> FetchFuture {
            seen.borrow_mut().push(r);
            let body = xml_ok().into_bytes();
            Box::pin(async move {
                for _ in 0..turns {
                    crate::identity::cx::yield_once()(0).await;
                }
                Ok(OutboundResponse { status, headers: Vec::new(), body })
            })
        });
        Sts { calls, fetcher }
    }

    #[test]
    fn concurrent_misses_make_one_exchange_per_role() {
        NOW.with(|n| n.set(1_800_000_000));
        let s = slow_sts(5, 200);
        let f = federation(Rc::clone(&s.fetcher), Some(KEY_A), &VARS);
        let cache = MapCache::default();
        let all = futures::executor::block_on(futures::future::join_all((0..50).map(|_| f.credentials_in(&cache))));
        assert_eq!(s.calls.borrow().len(), 1, "50 concurrent misses, one STS call");
        for c in &all {
            let c = c.as_ref().expect("every request gets the credentials");
            assert_eq!(c.access_key_id, "ASIA0000000000000001");
            assert!(!c.from_cache);
        }
        assert_eq!(STS_FLIGHTS.with(|f| f.slots()), 0, "nothing is kept once the waiters have their answer");

        // Another role is another exchange, at the same time.
        let other_vars = [VARS[0], ("STS_ROLE_ARN", "arn:aws:iam::123456789012:role/other"), VARS[2]];
        let s = slow_sts(5, 200);
        let (a, b) = (
            federation(Rc::clone(&s.fetcher), Some(KEY_A), &VARS),
            federation(Rc::clone(&s.fetcher), Some(KEY_A), &other_vars),
        );
        let cache = MapCache::default();
        let both = futures::executor::block_on(futures::future::join_all((0..10).map(|i| {
            if i % 2 == 0 {
                a.credentials_in(&cache)
            } else {
                b.credentials_in(&cache)
            }
        })));
        assert!(both.iter().all(Result::is_ok));
        assert_eq!(s.calls.borrow().len(), 2, "one exchange per role");
    }

    #[test]
    fn concurrent_misses_share_a_failed_exchange() {
        NOW.with(|n| n.set(1_800_000_000));
        let s = slow_sts(3, 500);
        let f = federation(Rc::clone(&s.fetcher), Some(KEY_A), &VARS);
        let cache = MapCache::default();
        let all = futures::executor::block_on(futures::future::join_all((0..20).map(|_| f.credentials_in(&cache))));
        assert_eq!(s.calls.borrow().len(), 1, "a failing STS is asked once, not once per request");
        for r in &all {
            assert_eq!(r.as_ref().expect_err("fails closed").status(), 502);
        }
        assert!(cache.0.borrow().is_empty(), "nothing cached");
        // The failure is not remembered: the next request exchanges again.
        let again = futures::executor::block_on(f.credentials_in(&cache));
        assert!(again.is_err());
        assert_eq!(s.calls.borrow().len(), 2);
        assert_eq!(STS_FLIGHTS.with(|f| f.slots()), 0);
    }

    #[test]
    fn unusable_cache_entries_are_misses() {
        NOW.with(|n| n.set(1_800_000_000));
        let s = sts(200, xml_ok);
        let f = federation(Rc::clone(&s.fetcher), Some(KEY_A), &VARS);
        let cache = MapCache::default();
        let key = Federation::<Role>::cache_key(ROLE);
        for garbage in [
            "not json",
            "{}",
            r#"{"access_key_id":"","secret_access_key":"x","session_token":"y","expiration":9999999999}"#,
        ] {
            cache.0.borrow_mut().insert(key.clone(), (garbage.to_owned(), 60));
            let c = futures::executor::block_on(f.credentials_in(&cache)).expect("exchange");
            assert!(!c.from_cache, "{garbage}");
        }
        assert_eq!(s.calls.borrow().len(), 3);
    }

    #[test]
    fn missing_configuration_is_503_without_an_sts_call() {
        NOW.with(|n| n.set(1_800_000_000));
        let s = sts(200, xml_ok);
        let cache = MapCache::default();
        let run = |key: Option<&str>, vars: &[(&str, &str)]| {
            futures::executor::block_on(federation(Rc::clone(&s.fetcher), key, vars).credentials_in(&cache))
                .expect_err("must fail")
        };
        let e = run(None, &VARS);
        assert_eq!(e.status(), 503);
        assert!(e.detail().unwrap().contains("FEDERATION_KEY"), "{e:?}");
        let e = run(Some(KEY_A), &VARS[1..]);
        assert_eq!(e.status(), 503);
        assert!(e.detail().unwrap().contains("FEDERATION_ISSUER"));
        let e = run(Some(KEY_A), &[VARS[0], VARS[2]]);
        assert!(e.detail().unwrap().contains("STS_ROLE_ARN"));
        let e = run(Some(KEY_A), &[VARS[0], VARS[1], ("STS_URL", "http://sts.example.com/")]);
        assert_eq!(e.status(), 503);
        assert!(e.detail().unwrap().contains("off loopback"), "{e:?}");
        let e = run(Some(KEY_A), &[("FEDERATION_ISSUER", "http://layers.test"), VARS[1], VARS[2]]);
        assert_eq!(e.status(), 503);
        let e = run(Some("not a key"), &VARS);
        assert_eq!(e.status(), 503);
        assert!(!e.detail().unwrap().contains("not a key"));
        assert!(s.calls.borrow().is_empty());
    }

    #[test]
    fn sts_refusal_is_502_with_the_code_and_never_the_token() {
        NOW.with(|n| n.set(1_800_000_000));
        let s = sts(400, || {
            "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code>\
             <Message>bad token</Message></Error></ErrorResponse>"
                .to_owned()
        });
        let f = federation(Rc::clone(&s.fetcher), Some(KEY_A), &VARS);
        let cache = MapCache::default();
        let e = futures::executor::block_on(f.credentials_in(&cache)).expect_err("refused");
        assert_eq!(e.status(), 502);
        let detail = e.detail().unwrap();
        assert!(detail.contains("InvalidIdentityToken"), "{detail}");
        let body = s.calls.borrow()[0].body.clone().unwrap();
        let token = form_field(&body, "WebIdentityToken").unwrap();
        assert!(!detail.contains(&token));
        assert!(!format!("{e:?}").contains(&token[..20]));
        assert!(cache.0.borrow().is_empty(), "nothing cached on failure");
    }

    #[test]
    fn unreachable_sts_is_503_and_expired_credentials_are_502() {
        NOW.with(|n| n.set(1_800_000_000));
        let down: Fetcher =
            Rc::new(|_r: OutboundRequest| -> FetchFuture { Box::pin(async { Err("connection refused".to_owned()) }) });
        let cache = MapCache::default();
        let e = futures::executor::block_on(federation(down, Some(KEY_A), &VARS).credentials_in(&cache)).unwrap_err();
        assert_eq!(e.status(), 503);
        let stale = sts(200, || xml_expiring(clock() - 10));
        let e = futures::executor::block_on(federation(stale.fetcher, Some(KEY_A), &VARS).credentials_in(&cache))
            .unwrap_err();
        assert_eq!(e.status(), 502, "{e:?}");
        assert!(e.detail().unwrap().contains("already expired"), "{e:?}");
        assert!(cache.0.borrow().is_empty());
    }

    #[test]
    fn debug_output_holds_no_secret() {
        let f = federation(sts(200, xml_ok).fetcher, Some(KEY_A), &VARS);
        let d = format!("{f:?}");
        assert!(d.contains("TestRole") && d.contains(ROLE));
        assert!(!d.contains("PRIVATE KEY"));
        let k = FederationKey::parse(KEY_A).unwrap();
        assert_eq!(format!("{k:?}"), "FederationKey { bits: 2048, .. }");
    }

    #[test]
    fn days_from_civil_matches_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        for days in [0, 59, 60, 365, 10_957, 11_016, 11_017, 19_000, 20_000, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
