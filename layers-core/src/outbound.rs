//! Outbound HTTP, declared like storage. Handlers call out only through [`Outbound`], which
//! sends only what their attribute's `outbound(…)` declares: a service at a URL a var names, or
//! user-supplied URLs through the [`guard`] ([`UrlPolicy`] refuses what could reach the
//! Worker's own network; redirects are never followed; bodies are capped). Verifiers declare
//! theirs in [`Verifier::OUTBOUND`](crate::identity::Verifier::OUTBOUND) (JWKS, Turnstile
//! siteverify); a verifier that declares none cannot fetch.
//!
//! Requests and responses are plain data in and out, so a verifier can be driven natively in
//! tests with a loopback or in-process fetcher ([`Fetcher`]).

pub mod guard;
mod handle;
pub mod sigv4;

pub use guard::{GuardedError, Refused, UrlPolicy};
pub use handle::{Outbound, OutboundDecl, DEFAULT_MAX_BODY};

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

/// How long an outbound call may take before it is aborted.
pub const DEFAULT_TIMEOUT_MS: u32 = 5_000;

/// What an outbound call does with a 3xx answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RedirectMode {
    /// Follow it (the `fetch` default; fine for URLs the Worker's own config names).
    #[default]
    Follow,
    /// Never follow: the 3xx response comes back as is (`redirect: "manual"`). Required for URLs
    /// a user supplied, whose redirect target was never checked.
    Manual,
}

/// An outbound request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OutboundRequest {
    /// `GET`, `POST`…
    pub method: String,
    /// Absolute URL.
    pub url: String,
    /// Request headers.
    pub headers: Vec<(String, String)>,
    /// Request body.
    pub body: Option<Vec<u8>>,
    /// Whether redirects are followed.
    pub redirect: RedirectMode,
    /// The most response-body bytes read; past it the call fails (`None`: no limit).
    pub max_body: Option<usize>,
}

impl OutboundRequest {
    /// A `GET` of `url`.
    #[must_use]
    pub fn get(url: &str) -> Self {
        OutboundRequest { method: "GET".into(), url: url.into(), ..Default::default() }
    }
    /// A `POST` of `body` with `content_type` to `url`.
    #[must_use]
    pub fn post(url: &str, content_type: &str, body: Vec<u8>) -> Self {
        OutboundRequest {
            method: "POST".into(),
            url: url.into(),
            headers: vec![("content-type".into(), content_type.into())],
            body: Some(body),
            ..Default::default()
        }
    }
}

/// An outbound response.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OutboundResponse {
    /// HTTP status.
    pub status: u16,
    /// Response headers (names lower-case).
    pub headers: Vec<(String, String)>,
    /// Response body.
    pub body: Vec<u8>,
}

/// The future an outbound call returns.
pub type FetchFuture = Pin<Box<dyn Future<Output = Result<OutboundResponse, String>>>>;

/// Something that performs outbound calls: the Workers `fetch` in production, anything in tests.
pub type Fetcher = Rc<dyn Fn(OutboundRequest) -> FetchFuture>;

/// A fetcher that refuses every call (the default of a hand-built `VerifyCx`).
#[must_use]
pub fn no_fetch() -> Fetcher {
    Rc::new(|r: OutboundRequest| -> FetchFuture {
        Box::pin(async move { Err(format!("no outbound fetch configured (wanted {} {})", r.method, r.url)) })
    })
}

/// Appends `bytes` percent-encoded as RFC 3986 wants a URI component: `A-Z a-z 0-9 - . _ ~`
/// as they are, every other byte `%XX` (upper-case hex). What form bodies, SigV4's canonical
/// request and a path segment built from a value (a Bedrock model id's `:` → `%3A`) all use.
pub fn percent_encode_into(out: &mut String, bytes: &[u8]) {
    for &b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

/// `s` percent-encoded ([`percent_encode_into`]): safe as one path segment or query value.
#[must_use]
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    percent_encode_into(&mut out, s.as_bytes());
    out
}

/// `application/x-www-form-urlencoded` encoding of `pairs` (every byte but `A-Z a-z 0-9 - . _ ~`
/// percent-encoded).
#[must_use]
pub fn form_encode(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        percent_encode_into(&mut out, k.as_bytes());
        out.push('=');
        percent_encode_into(&mut out, v.as_bytes());
    }
    out
}

/// Checks that `u` is an `https://` URL, or an `http://` one on 127.0.0.1, `localhost` or `[::1]`
/// (tests point outbound calls at loopback servers). `what` names the URL in the error.
pub(crate) fn check_https_or_loopback(u: &str, what: &str) -> Result<(), String> {
    if u.len() > 2048 || u.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err(format!("{what} is not a URL"));
    }
    if let Some(rest) = u.strip_prefix("https://") {
        if !rest.is_empty() && !rest.starts_with('/') {
            return Ok(());
        }
    } else if let Some(rest) = u.strip_prefix("http://") {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let host =
            if authority.starts_with("[::1]") { "[::1]" } else { authority.split(':').next().unwrap_or_default() };
        let port_ok = authority.strip_prefix(host).is_some_and(|p| {
            p.is_empty() || p.strip_prefix(':').is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        });
        if matches!(host, "127.0.0.1" | "localhost" | "[::1]") && port_ok {
            return Ok(());
        }
        return Err(format!("{what} uses http:// off loopback"));
    }
    Err(format!("{what} must start with https://"))
}

/// The Workers runtime's `fetch`, aborted after [`DEFAULT_TIMEOUT_MS`]. Verifiers get it through
/// their [`VerifyCx`](crate::identity::VerifyCx) when they declare outbound calls; handlers use
/// [`Outbound`].
#[must_use]
pub(crate) fn worker_fetch() -> Fetcher {
    Rc::new(|r: OutboundRequest| -> FetchFuture { Box::pin(send(r)) })
}

async fn send(r: OutboundRequest) -> Result<OutboundResponse, String> {
    let url = r.url.clone();
    send_inner(r).await.map_err(|e| match e {
        SendError::Request(m) => format!("request to {url}: {m}"),
        SendError::Network(m) => format!("fetch {url}: {m}"),
        SendError::Timeout => format!("fetch {url}: no answer within {DEFAULT_TIMEOUT_MS} ms"),
        SendError::TooLarge(n) => format!("reading {url}: body larger than {n} bytes"),
    })
}

/// Why a Workers fetch failed (no URL inside: callers decide what of it may be logged).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SendError {
    /// The request could not be built (bad header, bad URL).
    Request(String),
    /// The runtime's fetch failed (DNS, connection, TLS, a refused destination).
    Network(String),
    /// No complete answer within [`DEFAULT_TIMEOUT_MS`].
    Timeout,
    /// The body was longer than the request's `max_body`.
    TooLarge(usize),
}

/// The Workers fetch: honours `redirect` and `max_body`, aborts after [`DEFAULT_TIMEOUT_MS`].
pub(crate) async fn send_inner(r: OutboundRequest) -> Result<OutboundResponse, SendError> {
    use std::cell::Cell;
    use worker::wasm_bindgen::{JsCast, JsValue};
    // Built on `web_sys` directly: `worker::Request::new_with_init` + `Fetch::Request` make the
    // same calls, but also link `worker::Request`'s conversions and the `cf` properties'
    // serializer (unused here: the `cf` defaults are never sent), several KB of wasm.
    let headers = worker::Headers::new();
    for (k, v) in &r.headers {
        headers.set(k, v).map_err(|e| SendError::Request(format!("header {k}: {e}")))?;
    }
    let init = worker::web_sys::RequestInit::new();
    if !r.headers.is_empty() {
        init.set_headers(headers.as_ref());
    }
    init.set_method(worker::Method::from(r.method.clone()).as_ref());
    init.set_redirect(match r.redirect {
        RedirectMode::Follow => worker::web_sys::RequestRedirect::Follow,
        RedirectMode::Manual => worker::web_sys::RequestRedirect::Manual,
    });
    if let Some(b) = &r.body {
        init.set_body(&JsValue::from(worker::js_sys::Uint8Array::from(b.as_slice())));
    }
    let req = worker::web_sys::Request::new_with_str_and_init(&r.url, &init).map_err(|e| {
        SendError::Request(e.as_string().unwrap_or_else(|| "invalid URL or options for Request".to_owned()))
    })?;
    let controller = worker::AbortController::default();
    let signal = controller.signal();
    let timed_out = Rc::new(Cell::new(false));
    let flag = Rc::clone(&timed_out);
    worker::wasm_bindgen_futures::spawn_local(async move {
        worker::Delay::from(std::time::Duration::from_millis(u64::from(DEFAULT_TIMEOUT_MS))).await;
        flag.set(true);
        controller.abort();
    });
    let fetched = async {
        let init = worker::web_sys::RequestInit::new();
        init.set_signal(Some(&signal));
        let global: worker::web_sys::WorkerGlobalScope = worker::js_sys::global().unchecked_into();
        let resp =
            worker::wasm_bindgen_futures::JsFuture::from(global.fetch_with_request_and_init(&req, &init)).await?;
        resp.dyn_into::<worker::web_sys::Response>()
    };
    let mut resp = worker::Response::from(fetched.await.map_err(|e| {
        if timed_out.get() {
            SendError::Timeout
        } else {
            SendError::Network(worker::Error::from(e).to_string())
        }
    })?);
    let status = resp.status_code();
    let headers = resp.headers().entries().collect();
    let body = match r.max_body {
        None => resp.bytes().await.map_err(|e| SendError::Network(e.to_string()))?,
        Some(limit) => read_limited(&mut resp, limit).await?,
    };
    // An abort mid-body ends the stream quietly: a truncated body must not pass as whole.
    if timed_out.get() {
        return Err(SendError::Timeout);
    }
    Ok(OutboundResponse { status, headers, body })
}

/// Reads at most `limit` bytes of `resp`'s body, chunk by chunk; one more is an error.
async fn read_limited(resp: &mut worker::Response, limit: usize) -> Result<Vec<u8>, SendError> {
    use futures_core::Stream;
    let mut stream = match resp.stream() {
        Ok(s) => Box::pin(s),
        // No body at all (204, a HEAD answer…).
        Err(_) => return Ok(Vec::new()),
    };
    let mut body = Vec::new();
    while let Some(chunk) = std::future::poll_fn(|cx| stream.as_mut().poll_next(cx)).await {
        let chunk = chunk.map_err(|e| SendError::Network(e.to_string()))?;
        if body.len() + chunk.len() > limit {
            return Err(SendError::TooLarge(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
