//! The request layer: where the event came from, and the one normalized path it is routed on.

mod body;
pub mod extract;
pub mod headers;
pub mod path;
pub mod pattern;
pub mod response;
pub mod router;

use serde::de::DeserializeOwned;

use crate::error::Error;
pub use pattern::Method;

/// Largest body [`Request::bytes`], [`Request::text`] and [`Request::json`] read (1 MiB);
/// larger bodies are refused with 413.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// The incoming request as a handler sees it: its method, the normalized path it was routed
/// on, the path parameters, headers and body.
pub struct Request {
    /// The runtime's `Request`: headers, body and `cf` are read from it only when asked for.
    inner: worker::web_sys::Request,
    method: String,
    path: String,
    query: String,
    params: Vec<(&'static str, String)>,
    rest: Option<String>,
    buffered: Option<Vec<u8>>,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

impl Request {
    pub(crate) fn new(
        inner: worker::web_sys::Request,
        method: String,
        path: String,
        query: String,
        params: Vec<(&'static str, String)>,
        rest: Option<String>,
    ) -> Self {
        Request { inner, method, path, query, params, rest, buffered: None }
    }

    /// Hands the body that was read before verification back to the handler.
    pub(crate) fn with_buffered_body(mut self, body: Option<Vec<u8>>) -> Self {
        self.buffered = body;
        self
    }

    /// Reads the raw body of `req` (at most `limit` bytes) for a verifier that needs it, or for
    /// the handler. A `content-length` over `limit` is refused unread; otherwise the body is read
    /// chunk by chunk from its stream and reading stops at the first chunk that would pass
    /// `limit` (413), so a chunked body of any size never costs more than `limit` plus one chunk
    /// of wasm memory. A body read before (by a verifier, or by the handler once already) is
    /// refused as unreadable: the runtime's reader rejects a used stream.
    pub(crate) async fn read_body(req: &worker::web_sys::Request, limit: usize) -> Result<Vec<u8>, Error> {
        if let Some(len) = req.headers().get("content-length").ok().flatten() {
            match len.trim().parse::<u64>() {
                Ok(n) if n > limit as u64 => return Err(Error::new(413, "payload too large")),
                Ok(_) => {}
                Err(_) => return Err(Error::bad_request("invalid content-length")),
            }
        }
        if req.body_used() {
            return Err(Error::bad_request("unreadable body").with_detail("the body was read already"));
        }
        match req.body() {
            None => Ok(Vec::new()),
            Some(stream) => body::read_stream_limited(&stream, limit).await,
        }
    }

    /// The request method, as sent.
    #[must_use]
    pub fn method(&self) -> &str {
        &self.method
    }
    /// The normalized, decoded path that was routed (see [`path::normalize`]).
    #[must_use]
    pub fn path(&self) -> &str {
        &self.path
    }
    /// The value of path parameter `:name`.
    #[must_use]
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str())
    }
    /// What the pattern's trailing `*` matched (without the leading `/`).
    #[must_use]
    pub fn rest(&self) -> Option<&str> {
        self.rest.as_deref()
    }
    /// The first value of query parameter `name`, decoded.
    #[must_use]
    pub fn query(&self, name: &str) -> Option<String> {
        parse_query(&self.query).into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }
    /// Header `name` (case-insensitive). Repeated headers are joined with `, `.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<String> {
        self.inner.headers().get(name).ok().flatten()
    }
    /// Every header as `(lowercase name, value)`, in order (for [`headers::Headers`]).
    pub(crate) fn header_entries(&self) -> Vec<(String, String)> {
        worker::Headers(self.inner.headers()).entries().collect()
    }
    /// The value of cookie `name` from the `Cookie` header, if sent (or take a
    /// [`headers::Cookies`] parameter).
    #[must_use]
    pub fn cookie(&self, name: &str) -> Option<String> {
        cookie(&self.header("cookie")?, name)
    }
    /// The typed `request.cf` (see [`extract::Cf`]); empty when the edge sent none.
    #[must_use]
    pub fn cf(&self) -> extract::Cf {
        read_cf(&self.inner).unwrap_or_default()
    }
    /// The `cf-ray` id, for correlating with the layer logs.
    #[must_use]
    pub fn ray(&self) -> Option<String> {
        self.header("cf-ray")
    }

    /// Reads the whole body, refusing more than `limit` bytes with 413.
    ///
    /// # Errors
    /// 413 when the body is larger than `limit`, 400 when it cannot be read.
    pub async fn bytes_limited(&mut self, limit: usize) -> Result<Vec<u8>, Error> {
        if let Some(b) = self.buffered.take() {
            if b.len() > limit {
                return Err(Error::new(413, "payload too large"));
            }
            return Ok(b);
        }
        Self::read_body(&self.inner, limit).await
    }
    /// The body as a stream of known length, without reading it: hand it to
    /// [`R2::put_stream`](crate::storage::R2::put_stream). The length comes from
    /// `content-length`, which must be sent (R2 stores only streams of known length).
    /// Take it once; the body cannot be read again afterwards.
    ///
    /// # Errors
    /// 411 without `content-length`, 413 when it is larger than `limit`, 400 when it is not a
    /// number.
    pub fn body_stream(&mut self, limit: u64) -> Result<BodyStream, Error> {
        if let Some(b) = self.buffered.take() {
            // A verifier read the body already: pass the same bytes on.
            if b.len() as u64 > limit {
                return Err(Error::new(413, "payload too large"));
            }
            return Ok(BodyStream { len: b.len() as u64, inner: BodyInner::Buffered(b) });
        }
        let len = body_length(self.header("content-length").as_deref(), limit)?;
        let inner = match self.inner.body() {
            Some(stream) if len > 0 => BodyInner::Stream(stream),
            _ => BodyInner::Buffered(Vec::new()),
        };
        Ok(BodyStream { inner, len })
    }
    /// Reads the whole body (at most [`DEFAULT_BODY_LIMIT`] bytes).
    ///
    /// # Errors
    /// See [`Request::bytes_limited`].
    pub async fn bytes(&mut self) -> Result<Vec<u8>, Error> {
        self.bytes_limited(DEFAULT_BODY_LIMIT).await
    }
    /// Reads the body as UTF-8 text (at most [`DEFAULT_BODY_LIMIT`] bytes).
    ///
    /// # Errors
    /// 413 when too large, 400 when not UTF-8.
    pub async fn text(&mut self) -> Result<String, Error> {
        String::from_utf8(self.bytes().await?).map_err(|_| Error::bad_request("body is not UTF-8"))
    }
    /// Parses a JSON body (at most [`DEFAULT_BODY_LIMIT`] bytes).
    ///
    /// # Errors
    /// 415 unless `content-type` is JSON, 413 when too large, 400 when it does not parse.
    pub async fn json<T: DeserializeOwned>(&mut self) -> Result<T, Error> {
        let ct = self.header("content-type").unwrap_or_default();
        let mime = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        if mime != "application/json" && !mime.ends_with("+json") {
            return Err(Error::new(415, "expected content-type: application/json"));
        }
        let body = self.bytes().await?;
        serde_json::from_slice(&body).map_err(|e| {
            // Where it failed, not what it found: serde's text can quote the input.
            let public = match e.classify() {
                serde_json::error::Category::Data => {
                    format!("JSON body does not have the expected shape (line {}, column {})", e.line(), e.column())
                }
                _ => format!("invalid JSON body (line {}, column {})", e.line(), e.column()),
            };
            Error::bad_request(public)
        })
    }
    /// Parses an `application/x-www-form-urlencoded` body into pairs.
    ///
    /// # Errors
    /// 413 when too large, 400 when not UTF-8.
    pub async fn form(&mut self) -> Result<Vec<(String, String)>, Error> {
        let text = self.text().await?;
        Ok(parse_query(&text))
    }
}

/// The declared length of a body to stream: 411 when none, 413 when over `limit`.
fn body_length(content_length: Option<&str>, limit: u64) -> Result<u64, Error> {
    let Some(v) = content_length else {
        return Err(Error::new(411, "length required: send content-length"));
    };
    let v = v.trim();
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::bad_request("invalid content-length"));
    }
    match v.parse::<u64>() {
        Ok(n) if n <= limit => Ok(n),
        _ => Err(Error::new(413, "payload too large")),
    }
}

/// A request body of known length, not read yet (see [`Request::body_stream`]).
pub struct BodyStream {
    inner: BodyInner,
    len: u64,
}

enum BodyInner {
    Stream(worker::web_sys::ReadableStream),
    Buffered(Vec<u8>),
}

impl std::fmt::Debug for BodyStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BodyStream").field("len", &self.len).finish_non_exhaustive()
    }
}

impl BodyStream {
    /// The length in bytes, as declared by `content-length`.
    #[must_use]
    pub fn len(&self) -> u64 {
        self.len
    }
    /// Whether the body is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// What R2 stores: the request's own stream (known length), or the buffered bytes.
    pub(crate) fn into_data(self) -> worker::Data {
        match self.inner {
            BodyInner::Stream(s) => worker::Data::ReadableStream(s),
            BodyInner::Buffered(b) => worker::Data::Bytes(b),
        }
    }
}

/// The first value of cookie `name` in a `Cookie` header (`a=1; b=2`), quotes removed.
fn cookie(header: &str, name: &str) -> Option<String> {
    header.split(';').find_map(|c| {
        let (k, v) = c.split_once('=')?;
        (k.trim() == name).then(|| v.trim().trim_matches('"').to_owned())
    })
}

/// `request.cf`, read from the JS object.
fn read_cf(req: &worker::web_sys::Request) -> Option<extract::Cf> {
    use worker::js_sys::{Object, Reflect};
    use worker::wasm_bindgen::{JsCast, JsValue};
    let get = |o: &JsValue, k: &str| {
        Reflect::get(o, &JsValue::from_str(k)).ok().filter(|v| !v.is_undefined() && !v.is_null())
    };
    let cf = get(req, "cf").filter(JsValue::is_object)?;
    let string = |k: &str| get(&cf, k).and_then(|v| v.as_string());
    let number = |o: &JsValue, k: &str| {
        get(o, k)
            .and_then(|v| v.as_f64().or_else(|| v.as_string().and_then(|s| s.parse().ok())))
            .filter(|n| n.is_finite() && *n >= 0.0 && *n <= f64::from(u32::MAX))
            .map(|n| n as u32)
    };
    let tls_client_auth = get(&cf, "tlsClientAuth").filter(JsValue::is_object).map(|tls| {
        let obj: &Object = tls.unchecked_ref();
        let mut out = std::collections::HashMap::new();
        for entry in Object::entries(obj).iter() {
            let pair: &worker::js_sys::Array = entry.unchecked_ref();
            let (Some(k), v) = (pair.get(0).as_string(), pair.get(1)) else { continue };
            let v = v
                .as_string()
                .or_else(|| v.as_f64().map(|n| n.to_string()))
                .or_else(|| v.as_bool().map(|b| b.to_string()));
            if let Some(v) = v {
                out.insert(k, v);
            }
        }
        out
    });
    Some(extract::Cf {
        country: string("country"),
        colo: string("colo"),
        asn: number(&cf, "asn"),
        city: string("city"),
        bot_score: get(&cf, "botManagement").and_then(|b| number(&b, "score")),
        tls_version: string("tlsVersion"),
        tls_client_auth,
    })
}

fn unhex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Decodes `application/x-www-form-urlencoded` text (a query string or a form body) into
/// pairs. Invalid escapes are kept literally; invalid UTF-8 is replaced.
///
/// ```
/// assert_eq!(
///     layers_core::request::parse_query("a=1&b=x+y&c=%C3%A9&d"),
///     vec![("a".into(), "1".into()), ("b".into(), "x y".into()), ("c".into(), "é".into()), ("d".into(), "".into())]
/// );
/// ```
#[must_use]
pub fn parse_query(q: &str) -> Vec<(String, String)> {
    fn dec(s: &str) -> String {
        let b = s.as_bytes();
        let mut out = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'+' => {
                    out.push(b' ');
                    i += 1;
                }
                b'%' if i + 2 < b.len() => match (unhex(b[i + 1]), unhex(b[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push(h << 4 | l);
                        i += 3;
                    }
                    _ => {
                        out.push(b'%');
                        i += 1;
                    }
                },
                c => {
                    out.push(c);
                    i += 1;
                }
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    q.trim_start_matches('?')
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (dec(k), dec(v)),
            None => (dec(p), String::new()),
        })
        .collect()
}

#[cfg(test)]
mod cookie_tests {
    #[test]
    fn streamed_bodies_need_a_sane_length() {
        use super::body_length;
        assert_eq!(body_length(Some("10"), 10).unwrap(), 10);
        assert_eq!(body_length(Some(" 0 "), 10).unwrap(), 0);
        assert_eq!(body_length(None, 10).unwrap_err().status(), 411);
        assert_eq!(body_length(Some("11"), 10).unwrap_err().status(), 413);
        assert_eq!(body_length(Some("99999999999999999999999"), 10).unwrap_err().status(), 413);
        for bad in ["", "-1", "+5", "1e3", "0x10", "5, 5"] {
            assert_eq!(body_length(Some(bad), 10).unwrap_err().status(), 400, "{bad:?}");
        }
    }

    #[test]
    fn cookies_by_name() {
        let h = "a=1; CF_Authorization=tok.en; quoted=\"x y\"; a=2";
        assert_eq!(super::cookie(h, "a").as_deref(), Some("1"));
        assert_eq!(super::cookie(h, "CF_Authorization").as_deref(), Some("tok.en"));
        assert_eq!(super::cookie(h, "quoted").as_deref(), Some("x y"));
        assert_eq!(super::cookie(h, "b"), None);
        assert_eq!(super::cookie("", "a"), None);
    }
}
