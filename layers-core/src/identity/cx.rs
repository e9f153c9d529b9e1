use std::collections::HashMap;
use std::fmt;
use std::rc::Rc;

use super::state::VerifierState;
use super::worker_access::{AccessIdentity, RuntimeAccess};
use super::Deny;
use crate::outbound::{no_fetch, Fetcher, OutboundRequest, OutboundResponse};

type Lookup<'a> = Box<dyn Fn(&str) -> Option<String> + 'a>;

/// How many distinct headers a verifier may ask the runtime for before the context reads
/// them all at once (the built-in verifiers ask for one or two).
const ASKED_HEADERS: usize = 4;

/// The request's headers as the runtime holds them, read one name at a time, only when a
/// verifier asks (Fetch `Headers.get`: case-insensitive, repeated headers combined with
/// `", "`), each name once.
pub(crate) struct RuntimeHeaders<'a> {
    /// `Headers.get(name)`.
    pub(crate) get: Lookup<'a>,
    /// Every header, names lower-case (`Headers.entries()`), for when more names are asked
    /// for than there are slots.
    pub(crate) all: Box<dyn Fn() -> Vec<(String, String)> + 'a>,
    /// The names asked for so far (lower-case) with their values.
    asked: [std::cell::OnceCell<(String, Option<String>)>; ASKED_HEADERS],
}

impl<'a> RuntimeHeaders<'a> {
    /// Headers read through `get` (one name) and `all` (every header).
    pub(crate) fn new(get: Lookup<'a>, all: Box<dyn Fn() -> Vec<(String, String)> + 'a>) -> Self {
        RuntimeHeaders { get, all, asked: Default::default() }
    }

    /// The value of `name`: `Some(None)` when absent, `None` when every slot is taken by
    /// other names.
    fn value(&self, name: &str) -> Option<Option<&str>> {
        for slot in &self.asked {
            match slot.get() {
                Some((k, v)) if k.eq_ignore_ascii_case(name) => return Some(v.as_deref()),
                Some(_) => {}
                None => {
                    let (_, v) = slot.get_or_init(|| (name.to_ascii_lowercase(), (self.get)(name)));
                    return Some(v.as_deref());
                }
            }
        }
        None
    }
}

/// What a [`Verifier`](super::Verifier) may look at: the request head, path parameters,
/// and secrets and vars by name. No storage binding is reachable from here.
///
/// The framework builds one per request; tests build one with [`VerifyCx::builder`]. What
/// verifiers remember between requests (key sets, tokens that verified) lives in the context's
/// [`VerifierState`]: the isolate's for the contexts dispatch builds, a private one for every
/// built context, so a verifier run by hand can never change what dispatch's verification sees
/// (see [`state`](super::state)).
pub struct VerifyCx<'a> {
    // `pub(crate)`: the framework fills one in a single step per request (no builder moves).
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) query: String,
    /// Names lower-case: the builder's headers, or (in a Worker) every header of the request
    /// once more names were asked for than `runtime` keeps.
    pub(crate) headers: std::cell::OnceCell<Vec<(String, String)>>,
    /// In a Worker: the request's headers, read from the runtime by name only when a verifier
    /// asks (a `Public` route never copies a header out of the runtime).
    pub(crate) runtime: Option<RuntimeHeaders<'a>>,
    pub(crate) params: Vec<(&'static str, String)>,
    pub(crate) secrets: Lookup<'a>,
    pub(crate) vars: Lookup<'a>,
    pub(crate) now: u64,
    pub(crate) body: Option<Vec<u8>>,
    pub(crate) tls_client_auth: Option<HashMap<String, String>>,
    /// `ctx.access` (Worker-scoped Access): in a Worker, what dispatch read from the runtime for a
    /// verifier with `Verifier::ACCESS` (absent for the others); in a built context, what the
    /// builder was given.
    pub(crate) access: RuntimeAccess,
    pub(crate) fetcher: Fetcher,
    /// What verifiers remember between requests: the isolate's (dispatch) or a private one.
    pub(crate) state: Rc<VerifierState>,
    /// Waits a number of milliseconds on this request's own timer (dispatch: the runtime's
    /// `setTimeout`; a built context: yields once).
    pub(crate) pause: Pause,
}

/// A wait of some milliseconds, as a context makes it.
pub(crate) type Pause = Rc<dyn Fn(u32) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>>;

/// The pause of a built context: gives other futures one turn, whatever the milliseconds.
pub(crate) fn yield_once() -> Pause {
    Rc::new(|_| {
        let mut yielded = false;
        Box::pin(std::future::poll_fn(move |cx| {
            if yielded {
                std::task::Poll::Ready(())
            } else {
                yielded = true;
                cx.waker().wake_by_ref();
                std::task::Poll::Pending
            }
        }))
    })
}

impl fmt::Debug for VerifyCx<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Header values may be credentials: names only (in a Worker, those read so far).
        let mut names: Vec<&str> =
            self.headers.get().map(|h| h.iter().map(|(k, _)| k.as_str()).collect()).unwrap_or_default();
        if let Some(rt) = &self.runtime {
            names.extend(rt.asked.iter().filter_map(|s| s.get()).filter(|(_, v)| v.is_some()).map(|(k, _)| k.as_str()));
        }
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
                runtime: None,
                params: Vec::new(),
                secrets: Box::new(|_| None),
                vars: Box::new(|_| None),
                now: 0,
                body: None,
                tls_client_auth: None,
                access: RuntimeAccess::Absent,
                fetcher: no_fetch(),
                state: Rc::new(VerifierState::new()),
                pause: yield_once(),
            },
        }
    }

    /// The value of type `T` in this context's [`VerifierState`] (made with `Default` on first
    /// use): where a verifier keeps what it remembers between requests — a replay set, a key
    /// cache. In a Worker, every request dispatch verifies on this isolate sees the same value;
    /// in a context from [`VerifyCx::builder`], the value is private to that context (or to
    /// the contexts sharing [`VerifyCxBuilder::state`]).
    ///
    /// ```
    /// use std::cell::RefCell;
    /// use std::collections::HashSet;
    /// use layers_core::identity::VerifyCx;
    ///
    /// #[derive(Default)]
    /// struct SeenNonces(RefCell<HashSet<String>>);
    ///
    /// let cx = VerifyCx::builder().header("x-nonce", "n-1").build();
    /// let seen = cx.state::<SeenNonces>();
    /// let fresh = seen.0.borrow_mut().insert(cx.header("x-nonce").unwrap().to_owned());
    /// assert!(fresh);
    /// assert!(cx.state::<SeenNonces>().0.borrow().contains("n-1"));
    /// ```
    #[must_use]
    pub fn state<T: Default + 'static>(&self) -> Rc<T> {
        self.state.get::<T>()
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
    /// The values of header `name` (case-insensitive), in order. In a Worker the runtime has
    /// already combined a repeated header into one value (Fetch `Headers`), so there is at
    /// most one.
    fn values<'s>(&'s self, name: &str) -> Vec<&'s str> {
        if self.headers.get().is_none() {
            if let Some(one) = self.runtime.as_ref().and_then(|rt| rt.value(name)) {
                return one.into_iter().collect();
            }
        }
        let all = self.headers.get_or_init(|| self.runtime.as_ref().map(|rt| (rt.all)()).unwrap_or_default());
        all.iter().filter(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).collect()
    }
    /// The first value of header `name` (case-insensitive).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.values(name).first().copied()
    }
    /// How many times header `name` occurs (a credential sent twice is suspicious).
    #[must_use]
    pub fn header_count(&self, name: &str) -> usize {
        self.values(name).len()
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
        for v in self.values("cookie") {
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
    /// signed tokens from a handler, take a [`Mint<'_, C>`](crate::Mint) parameter.
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
    /// Cloudflare's Worker-scoped Access (`ctx.access`): `None` when the runtime gave none —
    /// Access did not authenticate the request, or the verifier does not set
    /// [`Verifier::ACCESS`](super::Verifier::ACCESS) — else its AUD tag and the identity its
    /// `getIdentity()` resolved to. In a context made with [`VerifyCx::builder`], what
    /// [`VerifyCxBuilder::access`] set.
    ///
    /// # Errors
    /// 503 when the runtime's `ctx.access` was there but could not be read (its `aud` not a
    /// string, `getIdentity()` failing, an identity that is too large or not an object).
    pub fn access(&self) -> Result<Option<&AccessIdentity>, Deny> {
        match &self.access {
            RuntimeAccess::Absent => Ok(None),
            RuntimeAccess::Present(a) => Ok(Some(a)),
            RuntimeAccess::Unreadable(why) => Err(Deny::unavailable(format!("ctx.access: {why}"))),
        }
    }
    /// Waits `ms` milliseconds on this request's own timer (in a context made with
    /// [`VerifyCx::builder`], gives other futures one turn instead).
    pub(crate) async fn pause(&self, ms: u32) {
        (self.pause)(ms).await;
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
    /// Sets what the runtime's `ctx.access` holds (Worker-scoped Access; without this call it is
    /// absent). Only this context sees it: dispatch builds its own contexts from the runtime.
    #[must_use]
    pub fn access(mut self, access: AccessIdentity) -> Self {
        self.cx.access = RuntimeAccess::Present(access);
        self
    }
    /// Sets how outbound calls are made (tests: a loopback or in-process fetcher).
    #[must_use]
    pub fn fetcher(mut self, f: Fetcher) -> Self {
        self.cx.fetcher = f;
        self
    }
    /// Makes this context share `state` with the other contexts built with it — how a test
    /// checks what a verifier remembers from one request to the next. Without it, the
    /// context's state is its own. (The isolate's state, which dispatch's contexts use, cannot
    /// be had here.)
    #[must_use]
    pub fn state(mut self, state: Rc<VerifierState>) -> Self {
        self.cx.state = state;
        self
    }
    /// Finishes the context.
    #[must_use]
    pub fn build(self) -> VerifyCx<'a> {
        self.cx
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;

    /// A context whose headers come from a runtime stand-in (`Headers.get` semantics: names
    /// case-insensitive, one combined value per name), recording what was asked of it.
    fn runtime_cx<'a>(headers: &'a [(&'a str, &'a str)], asked: &'a RefCell<Vec<String>>) -> VerifyCx<'a> {
        let mut cx = VerifyCx::builder().build();
        cx.headers = std::cell::OnceCell::new();
        cx.runtime = Some(RuntimeHeaders::new(
            Box::new(move |name: &str| {
                asked.borrow_mut().push(name.to_owned());
                headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| (*v).to_owned())
            }),
            Box::new(move || {
                asked.borrow_mut().push("*".to_owned());
                headers.iter().map(|(k, v)| (k.to_ascii_lowercase(), (*v).to_owned())).collect()
            }),
        ));
        cx
    }

    #[test]
    fn runtime_headers_are_read_by_name_once_each() {
        let asked = RefCell::new(Vec::new());
        let headers = [("x-key", "k1"), ("cookie", "a=1; b=2; a=3"), ("x-other", "o")];
        let cx = runtime_cx(&headers, &asked);
        assert_eq!(cx.header("X-Key"), Some("k1"));
        assert_eq!(cx.header("x-key"), Some("k1"));
        assert_eq!(cx.header_count("x-key"), 1);
        assert_eq!(cx.header("x-missing"), None);
        assert_eq!(cx.header_count("x-missing"), 0);
        assert_eq!(cx.cookie("b").as_deref(), Some("2"));
        assert_eq!(cx.cookie("a"), None, "a cookie sent twice is not taken");
        assert_eq!(*asked.borrow(), ["X-Key", "x-missing", "cookie"], "each name asked of the runtime once");
        let shown = format!("{cx:?}");
        assert!(
            shown.contains("x-key")
                && shown.contains("cookie")
                && !shown.contains("k1")
                && !shown.contains("x-missing")
        );
    }

    #[test]
    fn past_the_slots_every_header_is_read_once() {
        let asked = RefCell::new(Vec::new());
        let headers = [("h1", "1"), ("h2", "2"), ("h3", "3"), ("h4", "4"), ("h5", "5"), ("h6", "6")];
        let cx = runtime_cx(&headers, &asked);
        for (k, v) in &headers {
            assert_eq!(cx.header(k), Some(*v));
        }
        assert_eq!(cx.header("h1"), Some("1"));
        assert_eq!(cx.header("h6"), Some("6"));
        assert_eq!(cx.header("nope"), None);
        assert_eq!(*asked.borrow(), ["h1", "h2", "h3", "h4", "*"]);
    }

    #[test]
    fn builder_headers_keep_repeats() {
        let cx = VerifyCx::builder().header("X-Key", "a").header("x-key", "b").build();
        assert_eq!(cx.header("x-key"), Some("a"));
        assert_eq!(cx.header_count("X-KEY"), 2);
    }
}
