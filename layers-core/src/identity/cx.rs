use std::collections::HashMap;
use std::fmt;

use crate::outbound::{no_fetch, Fetcher, OutboundRequest, OutboundResponse};

type Lookup<'a> = Box<dyn Fn(&str) -> Option<String> + 'a>;
/// Reads the request's headers (names lower-case), once, when a verifier first asks.
pub(crate) type HeaderSource<'a> = Box<dyn Fn() -> Vec<(String, String)> + 'a>;

/// What a [`Verifier`](super::Verifier) may look at: the request head, path parameters,
/// and secrets and vars by name. No storage binding is reachable from here.
///
/// The framework builds one per request; tests build one with [`VerifyCx::builder`].
pub struct VerifyCx<'a> {
    // `pub(crate)`: the framework fills one in a single step per request (no builder moves).
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) query: String,
    /// Names lower-case. Read from the request only when a verifier first looks (a `Public`
    /// route never copies its headers out of the runtime).
    pub(crate) headers: std::cell::OnceCell<Vec<(String, String)>>,
    pub(crate) header_source: Option<HeaderSource<'a>>,
    pub(crate) params: Vec<(&'static str, String)>,
    pub(crate) secrets: Lookup<'a>,
    pub(crate) vars: Lookup<'a>,
    pub(crate) now: u64,
    pub(crate) body: Option<Vec<u8>>,
    pub(crate) tls_client_auth: Option<HashMap<String, String>>,
    pub(crate) fetcher: Fetcher,
}

impl fmt::Debug for VerifyCx<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Header values may be credentials: names only.
        let names: Vec<&str> = self.headers().iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("VerifyCx")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("headers", &names)
            .field("now", &self.now)
            .finish_non_exhaustive()
    }
}

impl<'a> VerifyCx<'a> {
    /// Starts a context for tests or for calling a verifier by hand.
    #[must_use]
    pub fn builder() -> VerifyCxBuilder<'a> {
        VerifyCxBuilder {
            cx: VerifyCx {
                method: "GET".into(),
                path: "/".into(),
                query: String::new(),
                headers: std::cell::OnceCell::from(Vec::new()),
                header_source: None,
                params: Vec::new(),
                secrets: Box::new(|_| None),
                vars: Box::new(|_| None),
                now: 0,
                body: None,
                tls_client_auth: None,
                fetcher: no_fetch(),
            },
        }
    }

    /// The request method.
    #[must_use]
    pub fn method(&self) -> &str {
        &self.method
    }
    /// The normalized path that was routed.
    #[must_use]
    pub fn path(&self) -> &str {
        &self.path
    }
    /// Every header, names lower-case, read from the request on first use.
    fn headers(&self) -> &[(String, String)] {
        self.headers.get_or_init(|| self.header_source.as_ref().map(|read| read()).unwrap_or_default())
    }
    /// The first value of header `name` (case-insensitive).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers().iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    /// How many times header `name` occurs (a credential sent twice is suspicious).
    #[must_use]
    pub fn header_count(&self, name: &str) -> usize {
        self.headers().iter().filter(|(k, _)| k.eq_ignore_ascii_case(name)).count()
    }
    /// The value of path parameter `:name`.
    #[must_use]
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str())
    }
    /// The decoded values of query parameter `name`.
    #[must_use]
    pub fn query_all(&self, name: &str) -> Vec<String> {
        crate::request::parse_query(&self.query).into_iter().filter(|(k, _)| k == name).map(|(_, v)| v).collect()
    }
    /// The value of cookie `name`, if sent exactly once.
    #[must_use]
    pub fn cookie(&self, name: &str) -> Option<String> {
        let mut found = 0usize;
        let mut value = None;
        for (k, v) in self.headers() {
            if !k.eq_ignore_ascii_case("cookie") {
                continue;
            }
            for pair in v.split(';') {
                if let Some((ck, cv)) = pair.trim().split_once('=') {
                    if ck == name {
                        found += 1;
                        value = Some(cv.to_owned());
                    }
                }
            }
        }
        if found == 1 {
            value
        } else {
            None
        }
    }
    /// A Worker secret by name. Never log what this returns, and never put it (or anything
    /// that holds it) in your verifier's claims: handlers must not see secrets. To hand out
    /// signed tokens from a handler, use [`Claims::mint_token`](crate::Claims::mint_token).
    #[must_use]
    pub fn secret(&self, name: &str) -> Option<String> {
        (self.secrets)(name)
    }
    /// A plain (non-secret) var by name.
    #[must_use]
    pub fn var(&self, name: &str) -> Option<String> {
        (self.vars)(name)
    }
    /// The current time, seconds since the Unix epoch.
    #[must_use]
    pub fn now(&self) -> u64 {
        self.now
    }
    /// The raw request body, exactly as received — present only for verifiers that set
    /// [`Verifier::BODY`](super::Verifier::BODY). The handler still receives the same bytes.
    #[must_use]
    pub fn body(&self) -> Option<&[u8]> {
        self.body.as_deref()
    }
    /// `request.cf.tlsClientAuth` as strings (e.g. `certVerified`, `certRevoked`,
    /// `certFingerprintSHA256`, `certSubjectDN`), when Cloudflare terminated a client certificate.
    #[must_use]
    pub fn tls_client_auth(&self) -> Option<&HashMap<String, String>> {
        self.tls_client_auth.as_ref()
    }
    /// Performs an outbound HTTP call (the Workers `fetch`, aborted after 5 s).
    ///
    /// # Errors
    /// A description when the call could not be made or completed.
    pub async fn fetch(&self, req: OutboundRequest) -> Result<OutboundResponse, String> {
        (self.fetcher)(req).await
    }
}

/// Builds a [`VerifyCx`] by hand (tests, or calling a verifier outside a route).
pub struct VerifyCxBuilder<'a> {
    cx: VerifyCx<'a>,
}

impl fmt::Debug for VerifyCxBuilder<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.cx.fmt(f)
    }
}

impl<'a> VerifyCxBuilder<'a> {
    /// Sets the method.
    #[must_use]
    pub fn method(mut self, m: &str) -> Self {
        self.cx.method = m.to_owned();
        self
    }
    /// Sets the (already normalized) path.
    #[must_use]
    pub fn path(mut self, p: &str) -> Self {
        self.cx.path = p.to_owned();
        self
    }
    /// Sets the raw query string (without `?`).
    #[must_use]
    pub fn query(mut self, q: &str) -> Self {
        self.cx.query = q.to_owned();
        self
    }
    /// Adds a header.
    #[must_use]
    pub fn header(mut self, k: &str, v: &str) -> Self {
        let headers = self.cx.headers.get_mut();
        if let Some(h) = headers {
            h.push((k.to_ascii_lowercase(), v.to_owned()));
        }
        self
    }
    /// Adds a path parameter.
    #[must_use]
    pub fn param(mut self, k: &'static str, v: &str) -> Self {
        self.cx.params.push((k, v.to_owned()));
        self
    }
    /// Sets how secrets are looked up.
    #[must_use]
    pub fn secrets(mut self, f: impl Fn(&str) -> Option<String> + 'a) -> Self {
        self.cx.secrets = Box::new(f);
        self
    }
    /// Sets how vars are looked up.
    #[must_use]
    pub fn vars(mut self, f: impl Fn(&str) -> Option<String> + 'a) -> Self {
        self.cx.vars = Box::new(f);
        self
    }
    /// Sets the clock (seconds since the Unix epoch).
    #[must_use]
    pub fn now(mut self, now: u64) -> Self {
        self.cx.now = now;
        self
    }
    /// Sets the raw body (for verifiers with [`Verifier::BODY`](super::Verifier::BODY)).
    #[must_use]
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.cx.body = Some(body.into());
        self
    }
    /// Sets `request.cf.tlsClientAuth`.
    #[must_use]
    pub fn tls_client_auth(mut self, fields: HashMap<String, String>) -> Self {
        self.cx.tls_client_auth = Some(fields);
        self
    }
    /// Sets how outbound calls are made (tests: a loopback or in-process fetcher).
    #[must_use]
    pub fn fetcher(mut self, f: Fetcher) -> Self {
        self.cx.fetcher = f;
        self
    }
    /// Finishes the context.
    #[must_use]
    pub fn build(self) -> VerifyCx<'a> {
        self.cx
    }
}
