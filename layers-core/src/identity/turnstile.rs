use std::marker::PhantomData;

use serde::Deserialize;

use super::single_flight::{Entry, Flights, NoAnswer};
use super::{Deny, Verifier, VerifyCx};
use crate::outbound::{check_https_or_loopback, form_encode, OutboundRequest, RedirectMode};

/// Configures a [`Turnstile`] verifier.
///
/// ```
/// use layers_core::identity::{Turnstile, TurnstileConfig};
///
/// pub struct SubscribeForm;
/// impl TurnstileConfig for SubscribeForm {
///     const SECRET: &'static str = "TURNSTILE_SECRET";
///     const ACTION: Option<&'static str> = Some("subscribe");
/// }
/// pub type Subscribe = Turnstile<SubscribeForm>; // use as `identity = Subscribe`
/// ```
pub trait TurnstileConfig: 'static {
    /// The Worker secret holding the widget's secret key.
    const SECRET: &'static str;
    /// The var naming the siteverify URL; when unset, [`SITEVERIFY_URL`] is used (tests point
    /// the var at a local server). When set it must be `https://…`, or `http://` on 127.0.0.1,
    /// `localhost` or `[::1]`; anything else (empty included) answers 503.
    const VERIFY_URL_VAR: &'static str = "TURNSTILE_VERIFY_URL";
    /// The var listing the accepted hostnames (separated by commas or whitespace, compared
    /// case-insensitively with siteverify's `hostname`). Unset: any hostname. Set but listing
    /// none: 503 (a misconfiguration, never "anything").
    const HOSTNAME_VAR: &'static str = "TURNSTILE_HOSTNAME";
    /// The widget action siteverify must report (`data-action`), or `None` for any.
    const ACTION: Option<&'static str> = None;
    /// Name in logs and the manifest.
    const NAME: &'static str = "Turnstile";
}

/// The default [`Turnstile`] configuration: secret `TURNSTILE_SECRET`, URL var
/// `TURNSTILE_VERIFY_URL`, hostname var `TURNSTILE_HOSTNAME`, any action.
#[derive(Debug)]
pub struct DefaultTurnstile;

impl TurnstileConfig for DefaultTurnstile {
    const SECRET: &'static str = "TURNSTILE_SECRET";
}

/// Cloudflare's siteverify endpoint.
pub const SITEVERIFY_URL: &str = "https://challenges.cloudflare.com/turnstile/v0/siteverify";
/// Longest Turnstile token accepted (bytes; siteverify documents 2048 characters).
pub const MAX_TURNSTILE_TOKEN_LEN: usize = 2048;
/// Siteverify answers longer than this many bytes are refused unread past it (503).
pub const MAX_SITEVERIFY_LEN: usize = 64 * 1024;
/// The header, and the form field, carrying the token.
pub const TURNSTILE_FIELD: &str = "cf-turnstile-response";

/// Most parts looked at in a `multipart/form-data` body.
const MAX_PARTS: usize = 1000;

/// How often a request carrying a token that another request is verifying looks for that
/// verification's answer (ms).
const WAIT_STEP_MS: u32 = 25;

/// The siteverify calls in flight, by token: a verifier's state, so one dispatcher's
/// verifications never see another's.
type SiteverifyFlights = Flights<Result<TurnstileClaims, Deny>>;

/// A Cloudflare Turnstile token, checked with siteverify (single use: a token verifies once).
///
/// The token is read from the `cf-turnstile-response` header, else from the
/// `cf-turnstile-response` field of an `application/x-www-form-urlencoded` or
/// `multipart/form-data` body (so the verifier asks for the body, [`Verifier::BODY`]; the
/// handler still reads the same bytes). It is posted, form-encoded, with the secret and the
/// visitor's `cf-connecting-ip` to siteverify. No `idempotency_key` is sent: the call is not
/// retried.
///
/// One siteverify call per token at a time: a request whose token another request of the
/// isolate is verifying waits for that answer (on its own timer, at most the fetch timeout)
/// instead of calling too. A token verifies once, so a success is the first request's alone:
/// the others are refused as a duplicate (403), as siteverify would refuse them; a refusal or
/// an outage is the same for all of them. A single token thus costs one call however many
/// requests carry it at once.
///
/// * 401: no token (no header, and no field in a form body; a JSON body is not searched).
/// * 403: token longer than [`MAX_TURNSTILE_TOKEN_LEN`], sent twice, or refused by siteverify
///   (`invalid-input-response`, `timeout-or-duplicate` for a spent or expired token, …); hostname
///   or action other than configured; a malformed multipart body.
/// * 503: secret unset; siteverify unreachable, not 200 or not JSON; or it reports its own
///   trouble or ours (`internal-error`, `bad-request`, `missing-input-secret`,
///   `invalid-input-secret`).
#[derive(Debug)]
pub struct Turnstile<C: TurnstileConfig = DefaultTurnstile>(PhantomData<C>);

/// What a [`Turnstile`] proves: a visitor solved a challenge, as siteverify reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TurnstileClaims {
    /// The hostname the challenge was served on (empty if siteverify did not say).
    pub hostname: String,
    /// The widget's action, if it had one.
    pub action: Option<String>,
    /// When the challenge was solved (ISO 8601, as siteverify sent it; empty if it did not say).
    pub challenge_ts: String,
    /// The widget's customer data, if it had any.
    pub cdata: Option<String>,
}

#[derive(Deserialize)]
struct Siteverify {
    success: bool,
    #[serde(rename = "error-codes", default)]
    error_codes: Vec<String>,
    #[serde(default)]
    hostname: Option<String>,
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    challenge_ts: Option<String>,
    #[serde(default)]
    cdata: Option<String>,
}

/// Error codes that say siteverify could not decide, or that our request (secret) is wrong.
const UNAVAILABLE_CODES: [&str; 4] = ["internal-error", "bad-request", "missing-input-secret", "invalid-input-secret"];

/// Error codes for the log: only short `[a-z0-9_-]` codes, at most eight.
fn codes_for_log(codes: &[String]) -> String {
    let shown: Vec<&str> = codes
        .iter()
        .take(8)
        .map(|c| {
            let ok = !c.is_empty()
                && c.len() <= 64
                && c.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
            if ok {
                c.as_str()
            } else {
                "<unrecognized>"
            }
        })
        .collect();
    if shown.is_empty() {
        "none".into()
    } else {
        shown.join(",")
    }
}

/// Position of `needle` in `hay` at or after `from`. Linear for needles whose only `\r` is the
/// first byte (the multipart delimiter), since a match attempt stops at the next `\r`.
fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let first = *needle.first()?;
    let mut i = from;
    while i < hay.len() {
        let off = hay.get(i..)?.iter().position(|&b| b == first)?;
        i += off;
        if hay.get(i..).is_some_and(|h| h.starts_with(needle)) {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// The `boundary` parameter of a `multipart/form-data` content type.
fn boundary(content_type: &str) -> Option<String> {
    let (_, params) = content_type.split_once(';')?;
    let (_, value) = header_params(params).into_iter().find(|(k, _)| k.eq_ignore_ascii_case("boundary"))?;
    let ok = !value.is_empty() && value.len() <= 70 && value.bytes().all(|b| b.is_ascii_graphic() || b == b' ');
    ok.then_some(value)
}

/// Parses `; key=value; key="quoted; value"` header parameters.
fn header_params(s: &str) -> Vec<(String, String)> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && matches!(b[i], b' ' | b'\t' | b';') {
            i += 1;
        }
        let start = i;
        while i < b.len() && !matches!(b[i], b'=' | b';') {
            i += 1;
        }
        let key = s.get(start..i).unwrap_or("").trim().to_owned();
        let mut value = Vec::new();
        if i < b.len() && b[i] == b'=' {
            i += 1;
            while i < b.len() && matches!(b[i], b' ' | b'\t') {
                i += 1;
            }
            if i < b.len() && b[i] == b'"' {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' && i + 1 < b.len() {
                        i += 1;
                    }
                    value.push(b[i]);
                    i += 1;
                }
                i += 1; // closing quote
                while i < b.len() && b[i] != b';' {
                    i += 1;
                }
            } else {
                let vs = i;
                while i < b.len() && b[i] != b';' {
                    i += 1;
                }
                value.extend_from_slice(s.as_bytes().get(vs..i).unwrap_or_default().trim_ascii());
            }
        }
        if !key.is_empty() {
            out.push((key, String::from_utf8_lossy(&value).into_owned()));
        }
    }
    out
}

/// The values of the non-file fields named `field` in a `multipart/form-data` body (RFC 7578).
///
/// # Errors
/// A description when the body is not well-formed multipart.
fn multipart_field(content_type: &str, body: &[u8], field: &str) -> Result<Vec<Vec<u8>>, &'static str> {
    let boundary = boundary(content_type).ok_or("multipart content type without a valid boundary")?;
    let dash = format!("--{boundary}");
    let crlf_dash = format!("\r\n--{boundary}");
    let (dash, crlf_dash) = (dash.as_bytes(), crlf_dash.as_bytes());
    let mut i = if body.starts_with(dash) {
        dash.len()
    } else {
        find(body, crlf_dash, 0).ok_or("multipart body without its boundary")? + crlf_dash.len()
    };
    let mut found = Vec::new();
    for _ in 0..MAX_PARTS {
        let rest = body.get(i..).unwrap_or_default();
        if rest.starts_with(b"--") {
            return Ok(found);
        }
        let pad = rest.iter().take_while(|&&b| b == b' ' || b == b'\t').count();
        if !rest.get(pad..).is_some_and(|r| r.starts_with(b"\r\n")) {
            return Err("malformed multipart delimiter line");
        }
        let start = i + pad + 2;
        let end = find(body, crlf_dash, start).ok_or("unterminated multipart body")?;
        let part = body.get(start..end).ok_or("malformed multipart part")?;
        let (head, content) = if part.starts_with(b"\r\n") {
            (&part[..0], &part[2..])
        } else {
            let h = find(part, b"\r\n\r\n", 0).ok_or("multipart part without a header end")?;
            (&part[..h], &part[h + 4..])
        };
        let head = std::str::from_utf8(head).map_err(|_| "multipart part headers are not UTF-8")?;
        for line in head.split("\r\n") {
            let Some((name, value)) = line.split_once(':') else { continue };
            if !name.trim().eq_ignore_ascii_case("content-disposition") {
                continue;
            }
            let (kind, params) = value.split_once(';').unwrap_or((value, ""));
            if !kind.trim().eq_ignore_ascii_case("form-data") {
                continue;
            }
            let params = header_params(params);
            let named = params.iter().any(|(k, v)| k.eq_ignore_ascii_case("name") && v == field);
            let file = params.iter().any(|(k, _)| k.eq_ignore_ascii_case("filename"));
            if named && !file {
                found.push(content.to_vec());
            }
        }
        i = end + crlf_dash.len();
    }
    Err("too many multipart parts")
}

impl<C: TurnstileConfig> Turnstile<C> {
    const SITEVERIFY_CALL: &'static super::const_text::ConstName =
        &super::const_text::ConstName::join(&["Turnstile siteverify (var ", C::VERIFY_URL_VAR, ", else Cloudflare's)"]);
    /// Finds the token: header first, then the form body.
    fn token(cx: &VerifyCx<'_>) -> Result<String, Deny> {
        if cx.header_count(TURNSTILE_FIELD) > 1 {
            return Err(Deny::invalid("cf-turnstile-response header sent more than once"));
        }
        if let Some(t) = cx.header(TURNSTILE_FIELD).map(str::trim).filter(|t| !t.is_empty()) {
            return Ok(t.to_owned());
        }
        let Some(body) = cx.body().filter(|b| !b.is_empty()) else {
            return Err(Deny::missing("no Turnstile token (no header, no body)"));
        };
        let ct = cx.header("content-type").unwrap_or_default();
        let mime = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        let mut values: Vec<String> = match mime.as_str() {
            "application/x-www-form-urlencoded" => crate::request::parse_query(&String::from_utf8_lossy(body))
                .into_iter()
                .filter(|(k, _)| k == TURNSTILE_FIELD)
                .map(|(_, v)| v)
                .collect(),
            "multipart/form-data" => multipart_field(ct, body, TURNSTILE_FIELD)
                .map_err(Deny::invalid)?
                .into_iter()
                .map(|v| String::from_utf8(v).map_err(|_| Deny::invalid("Turnstile token is not UTF-8")))
                .collect::<Result<_, _>>()?,
            _ => return Err(Deny::missing("no Turnstile token (no header, and the body is not a form)")),
        };
        if values.len() > 1 {
            return Err(Deny::invalid("cf-turnstile-response field sent more than once"));
        }
        match values.pop().map(|v| v.trim().to_owned()) {
            Some(t) if !t.is_empty() => Ok(t),
            _ => Err(Deny::missing("no Turnstile token in the form body")),
        }
    }
}

impl<C: TurnstileConfig> Verifier for Turnstile<C> {
    type Claims = TurnstileClaims;
    const NAME: &'static str = C::NAME;
    const SECRETS: &'static [&'static str] = &[C::SECRET];
    const VARS: &'static [&'static str] = &[C::VERIFY_URL_VAR, C::HOSTNAME_VAR];
    const OUTBOUND: &'static [&'static str] = &[Self::SITEVERIFY_CALL.as_str()];
    const BODY: bool = true;

    fn openapi_security() -> super::Security {
        use super::{Location, Scheme, SchemeKind, Security};
        let action = C::ACTION.map_or(String::from("any action"), |a| format!("action `{a}`"));
        Security::one(
            Scheme::new(
                C::NAME,
                SchemeKind::ApiKey { name: TURNSTILE_FIELD, location: Location::Header },
                format!(
                    "A Cloudflare Turnstile token in header `{TURNSTILE_FIELD}` or in the form field of that name \
                     (urlencoded or multipart body), checked once with siteverify ({action})."
                ),
            )
            .with_extension("x-layers-turnstile", format!("single-use; header or form field `{TURNSTILE_FIELD}`")),
        )
    }

    async fn verify(cx: &VerifyCx<'_>) -> Result<TurnstileClaims, Deny> {
        let Some(secret) = cx.secret(C::SECRET).filter(|s| !s.trim().is_empty()) else {
            return Err(Deny::unavailable(format!("secret {} is not set", C::SECRET)));
        };
        let token = Self::token(cx)?;
        if token.len() > MAX_TURNSTILE_TOKEN_LEN {
            return Err(Deny::invalid(format!("Turnstile token longer than {MAX_TURNSTILE_TOKEN_LEN} bytes")));
        }
        // Keyed by configuration as well: two configurations' verdicts on a token differ.
        let key = format!("{}\n{}\n{token}", C::SECRET, C::VERIFY_URL_VAR);
        let flights = cx.state::<SiteverifyFlights>();
        let turn = match flights.enter(&key) {
            Entry::Lead(turn) => turn,
            Entry::Follow(wait) => {
                let max = crate::outbound::DEFAULT_TIMEOUT_MS + WAIT_STEP_MS;
                return match wait.answer(&cx.pause, WAIT_STEP_MS, max).await {
                    Ok(Ok(_)) => Err(Deny::invalid("Turnstile token spent by a concurrent request")),
                    Ok(Err(deny)) => Err(deny),
                    Err(NoAnswer::Abandoned) => Err(Deny::unavailable(
                        "the siteverify call another request started for this token was abandoned",
                    )),
                    Err(NoAnswer::TimedOut) => {
                        Err(Deny::unavailable("the siteverify call another request started for this token did not end"))
                    }
                };
            }
        };
        let answer = Self::siteverify(cx, secret.trim(), &token).await;
        turn.finish(answer.clone());
        answer
    }
}

impl<C: TurnstileConfig> Turnstile<C> {
    /// One siteverify call for `token`, and what its answer proves.
    async fn siteverify(cx: &VerifyCx<'_>, secret: &str, token: &str) -> Result<TurnstileClaims, Deny> {
        let url = match cx.var(C::VERIFY_URL_VAR) {
            None => SITEVERIFY_URL.to_owned(),
            Some(u) => {
                let u = u.trim().to_owned();
                // Set means set: an empty or non-https URL is a misconfiguration, not the default.
                check_https_or_loopback(&u, &format!("var {}", C::VERIFY_URL_VAR))
                    .map_err(|e| Deny::unavailable(format!("Turnstile configuration: {e}")))?;
                u
            }
        };
        let url = url.as_str();
        let mut form = vec![("secret", secret), ("response", token)];
        let ip = cx.header("cf-connecting-ip").map(str::trim).filter(|ip| !ip.is_empty() && ip.len() <= 64);
        if let Some(ip) = ip {
            form.push(("remoteip", ip));
        }
        let mut req = OutboundRequest::post(url, "application/x-www-form-urlencoded", form_encode(&form).into_bytes());
        // A config URL: its answer is never a redirect to follow, and never large.
        req.redirect = RedirectMode::Manual;
        req.max_body = Some(MAX_SITEVERIFY_LEN);
        let resp = cx.fetch(req).await.map_err(|e| Deny::unavailable(format!("siteverify unreachable: {e}")))?;
        if resp.status != 200 {
            return Err(Deny::unavailable(format!("siteverify answered HTTP {}", resp.status)));
        }
        // An object only: serde would also read a struct from an array such as `[true]`.
        let sv: Siteverify = match serde_json::from_slice::<serde_json::Value>(&resp.body) {
            Ok(v @ serde_json::Value::Object(_)) => serde_json::from_value(v),
            Ok(_) => return Err(Deny::unavailable("siteverify answer is not a JSON object")),
            Err(e) => Err(e),
        }
        .map_err(|e| Deny::unavailable(format!("siteverify answer is not the expected JSON: {e}")))?;
        if !sv.success {
            let codes = codes_for_log(&sv.error_codes);
            return if sv.error_codes.iter().any(|c| UNAVAILABLE_CODES.contains(&c.as_str())) {
                Err(Deny::unavailable(format!("siteverify could not decide: {codes}")))
            } else {
                Err(Deny::invalid(format!("siteverify refused the token: {codes}")))
            };
        }
        let hostname = sv.hostname.unwrap_or_default();
        if let Some(allowed) = cx.var(C::HOSTNAME_VAR) {
            let mut list = allowed.split([',', ' ', '\n', '\t', '\r']).filter(|h| !h.is_empty()).peekable();
            // Set but empty is a misconfiguration (503), never "any hostname".
            if list.peek().is_none() {
                return Err(Deny::unavailable(format!("var {} is set but lists no hostname", C::HOSTNAME_VAR)));
            }
            if !list.any(|h| h.eq_ignore_ascii_case(&hostname)) {
                return Err(Deny::invalid(format!("Turnstile hostname {hostname:?} is not in {}", C::HOSTNAME_VAR)));
            }
        }
        if let Some(want) = C::ACTION {
            if sv.action.as_deref() != Some(want) {
                return Err(Deny::invalid(format!("Turnstile action {:?} is not {want:?}", sv.action)));
            }
        }
        Ok(TurnstileClaims {
            hostname,
            action: sv.action.filter(|a| !a.is_empty()),
            challenge_ts: sv.challenge_ts.unwrap_or_default(),
            cdata: sv.cdata.filter(|c| !c.is_empty()),
        })
    }
}
