//! [`TestRequest`] (built like the route table reads: method, path, then who calls) and
//! [`TestResponse`] (status, headers, body, problem+json, and the Worker's log event of this
//! request).

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};

use layers_core::identity::{
    ApiKeyConfig, ApiKeyHeader, DefaultApiKey, DefaultWebhook, TokenConfig, TokenSource, WebhookConfig,
};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::identity::{random_hex, AccessToken};
use crate::logs::LogEvent;
use crate::Worker;

/// One request to the Worker, being built. Send it with [`send`](Self::send) (blocking), or
/// `.await` it in an async test.
///
/// Every request carries a `cf-ray` header made by the harness (unless you set one), which the
/// Worker's log event repeats: [`TestResponse::log`] finds this request's event by it.
#[must_use = "a request does nothing until it is sent: call `.send()` or `.await` it"]
pub struct TestRequest<'w> {
    worker: &'w Worker,
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
}

impl<'w> TestRequest<'w> {
    pub(crate) fn new(worker: &'w Worker, method: &str, target: &str) -> TestRequest<'w> {
        // Sent byte for byte: a path, but also `*` or an absolute-form target. Only what would
        // break the request line is refused.
        assert!(
            !target.is_empty() && !target.contains([' ', '\r', '\n']),
            "the request target must be non-empty, without spaces or line breaks (got {target:?})"
        );
        TestRequest { worker, method: method.to_owned(), target: target.to_owned(), headers: Vec::new(), body: None }
    }

    /// Adds a header (several of one name are sent as given).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Adds a cookie (to the one `Cookie` header).
    pub fn cookie(mut self, name: &str, value: &str) -> Self {
        let pair = format!("{name}={value}");
        match self.headers.iter_mut().find(|(k, _)| k.eq_ignore_ascii_case("cookie")) {
            Some((_, v)) => {
                v.push_str("; ");
                v.push_str(&pair);
            }
            None => self.headers.push(("Cookie".to_owned(), pair)),
        }
        self
    }

    /// Appends `name=value` to the query string (the value percent-encoded).
    pub fn query(mut self, name: &str, value: &str) -> Self {
        let sep = if self.target.contains('?') { '&' } else { '?' };
        self.target = format!(
            "{}{sep}{}={}",
            self.target,
            crate::support::percent_encode(name),
            crate::support::percent_encode(value)
        );
        self
    }

    /// Calls as the Access user with this email: a fresh RS256 JWT from the harness's key, for
    /// the Worker's team and AUD, in `Cf-Access-Jwt-Assertion`.
    pub fn as_access(self, email: &str) -> Self {
        self.access(&AccessToken::user(email))
    }

    /// Calls with the Access JWT `token` describes (a user with groups, a service token, an
    /// expired token, another AUD…), in `Cf-Access-Jwt-Assertion`.
    pub fn access(self, token: &AccessToken) -> Self {
        let jwt = self.worker.access_jwt(token);
        self.header(layers_core::identity::ACCESS_JWT_HEADER, &jwt)
    }

    /// The same token in the `CF_Authorization` cookie (what a browser sends).
    pub fn access_cookie(self, token: &AccessToken) -> Self {
        let jwt = self.worker.access_jwt(token);
        self.cookie(layers_core::identity::ACCESS_JWT_COOKIE, &jwt)
    }

    /// Presents the harness's API key for the default configuration (`x-api-key`, secret
    /// `API_KEYS`, label `test`).
    pub fn with_api_key(self) -> Self {
        self.with_api_key_for::<DefaultApiKey>()
    }

    /// Presents the harness's API key of configuration `C` where `C` reads it (register `C`
    /// with [`Builder::api_keys`](crate::Builder::api_keys) first).
    pub fn with_api_key_for<C: ApiKeyConfig>(self) -> Self {
        let key = self.worker.api_key_for::<C>();
        match C::HEADER {
            ApiKeyHeader::Named(h) => self.header(h, &key),
            ApiKeyHeader::Bearer => self.bearer(&key),
        }
    }

    /// `Authorization: Bearer <token>`.
    pub fn bearer(self, token: &str) -> Self {
        self.header("Authorization", &format!("Bearer {token}"))
    }

    /// A `SignedToken<C>` for `payload`, valid for an hour, minted with the Worker's key and
    /// put where `C` reads it (query, header, cookie or bearer). For a `:param` source, make
    /// the token with [`Worker::signed_token`] and put it in the path yourself.
    ///
    /// # Panics
    /// When `C` reads the token from a path parameter.
    pub fn signed_token<C: TokenConfig>(self, payload: &str) -> Self {
        let token = self.worker.signed_token::<C>(payload, std::time::Duration::from_secs(3600));
        match C::SOURCE {
            TokenSource::Query(name) => self.query(name, &token),
            TokenSource::Header(name) => self.header(name, &token),
            TokenSource::Cookie(name) => self.cookie(name, &token),
            TokenSource::Bearer => self.bearer(&token),
            TokenSource::Param(name) => panic!(
                "{} reads its token from the path parameter `:{name}`: build the path with \
                 `app.signed_token::<C>(payload, ttl)` instead",
                C::NAME
            ),
        }
    }

    /// A webhook delivery of `body` (raw bytes, sent as is), signed the Svix way with the
    /// Worker's `WEBHOOK_SECRET`: `svix-id`, `svix-timestamp` (now), `svix-signature`.
    pub fn webhook(self, body: impl Into<Vec<u8>>) -> Self {
        self.webhook_for::<DefaultWebhook>(body)
    }

    /// [`webhook`](Self::webhook) with the secret of configuration `C` (register it with
    /// [`Builder::webhook_secret`](crate::Builder::webhook_secret)).
    pub fn webhook_for<C: WebhookConfig>(self, body: impl Into<Vec<u8>>) -> Self {
        let body = body.into();
        let id = format!("msg_{}", random_hex(12));
        let ts = crate::now();
        let sig = self.worker.sign_webhook::<C>(&id, ts, &body);
        let mut r =
            self.header("svix-id", &id).header("svix-timestamp", &ts.to_string()).header("svix-signature", &sig);
        if !r.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type")) {
            r = r.header("content-type", "application/json");
        }
        r.body = Some(body);
        r
    }

    /// A Turnstile token the loopback siteverify accepts (once), in the
    /// `cf-turnstile-response` header.
    pub fn turnstile_pass(self) -> Self {
        let t = self.worker.turnstile_pass();
        self.header(layers_core::identity::TURNSTILE_FIELD, &t)
    }

    /// A Turnstile token siteverify refuses (`invalid-input-response`).
    pub fn turnstile_fail(self) -> Self {
        let t = self.worker.turnstile_fail();
        self.header(layers_core::identity::TURNSTILE_FIELD, &t)
    }

    /// A JSON body (`content-type: application/json`).
    ///
    /// # Panics
    /// When `value` does not serialize.
    pub fn json<T: Serialize + ?Sized>(self, value: &T) -> Self {
        let body = serde_json::to_vec(value).expect("the JSON body serializes");
        self.body("application/json", body)
    }

    /// A form body (`application/x-www-form-urlencoded`), e.g. `&[("email", "a@b.c")]` or a
    /// struct.
    ///
    /// # Panics
    /// When `value` does not serialize as a form.
    pub fn form<T: Serialize + ?Sized>(self, value: &T) -> Self {
        let body = serde_urlencoded::to_string(value).expect("the form body serializes");
        self.body("application/x-www-form-urlencoded", body)
    }

    /// A body of this content type.
    pub fn body(mut self, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case("content-type"));
        self = self.header("content-type", content_type);
        self.body = Some(body.into());
        self
    }

    /// A body sent exactly as given, with only the headers you set: no `content-type` is
    /// added (a request with a wrong or missing one, or bytes that are not what they claim).
    pub fn raw_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// Sends the request and waits for the answer (blocking the calling thread: a loopback
    /// round trip).
    ///
    /// # Panics
    /// When the Worker cannot be reached or answers something that is not HTTP.
    pub fn send(self) -> TestResponse<'w> {
        let (method, target, worker) = (self.method.clone(), self.target.clone(), self.worker);
        self.try_send().unwrap_or_else(|e| panic!("{method} {target}: {e}\n{}", worker.log_tail(30)))
    }

    /// [`send`](Self::send), with a connection the Worker closes or resets without an answer
    /// (what a runtime may do with a request line it refuses) as an `Err` instead of a panic.
    ///
    /// # Errors
    /// The I/O error of the exchange.
    pub fn try_send(mut self) -> std::io::Result<TestResponse<'w>> {
        let ray = match self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("cf-ray")) {
            Some((_, v)) => v.clone(),
            None => {
                let ray = format!("{}-TEST", random_hex(8));
                self.headers.push(("cf-ray".to_owned(), ray.clone()));
                ray
            }
        };
        let raw =
            crate::http::send(self.worker.port(), &self.method, &self.target, &self.headers, self.body.as_deref())?;
        Ok(TestResponse { worker: self.worker, method: self.method, target: self.target, ray, raw })
    }
}

impl<'w> IntoFuture for TestRequest<'w> {
    type Output = TestResponse<'w>;
    type IntoFuture = Sending<'w>;

    /// `.await` a request in an async test: any executor works (no runtime is required); the
    /// request goes out when the future is first polled and blocks that thread until the
    /// answer (a loopback call).
    fn into_future(self) -> Sending<'w> {
        Sending(Some(self))
    }
}

/// The future of an `.await`ed [`TestRequest`].
#[must_use = "futures do nothing unless awaited"]
pub struct Sending<'w>(Option<TestRequest<'w>>);

impl<'w> Future for Sending<'w> {
    type Output = TestResponse<'w>;

    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<TestResponse<'w>> {
        let req = self.0.take().expect("a request future polled after it completed");
        Poll::Ready(req.send())
    }
}

/// The Worker's answer to one [`TestRequest`].
pub struct TestResponse<'w> {
    worker: &'w Worker,
    method: String,
    target: String,
    ray: String,
    raw: crate::http::Raw,
}

impl std::fmt::Debug for TestResponse<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} → {} {}", self.method, self.target, self.raw.status, self.text())
    }
}

impl TestResponse<'_> {
    /// The status code.
    #[must_use]
    pub fn status(&self) -> u16 {
        self.raw.status
    }

    /// The first header of this name (case-insensitive).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.raw.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Every header, in the order received.
    #[must_use]
    pub fn headers(&self) -> &[(String, String)] {
        &self.raw.headers
    }

    /// The body as received.
    #[must_use]
    pub fn bytes(&self) -> &[u8] {
        &self.raw.body
    }

    /// The body as text (invalid UTF-8 replaced).
    #[must_use]
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.raw.body).into_owned()
    }

    /// The body as JSON of type `T`.
    ///
    /// # Panics
    /// When the body is not JSON of that shape (the message shows the body).
    #[must_use]
    pub fn json<T: DeserializeOwned>(&self) -> T {
        serde_json::from_slice(&self.raw.body).unwrap_or_else(|e| {
            panic!("{} {}: the body is not the JSON expected ({e}): {}", self.method, self.target, self.text())
        })
    }

    /// The `cf-ray` this request carried (the Worker's log event repeats it).
    #[must_use]
    pub fn ray(&self) -> &str {
        &self.ray
    }

    /// Asserts the status; the panic shows the body and the request's log event.
    ///
    /// # Panics
    /// When the status differs.
    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Self {
        if self.raw.status != status {
            let log = self.worker.find_event(&self.ray, std::time::Duration::from_secs(2));
            panic!(
                "{} {}: expected status {status}, got {}\nbody: {}\nlog event: {}",
                self.method,
                self.target,
                self.raw.status,
                self.text(),
                log.map_or_else(|| "(none found)".to_owned(), |e| e.raw().to_string())
            );
        }
        self
    }

    /// Asserts an RFC 9457 problem: this status, `content-type: application/problem+json`, and
    /// a `detail` containing `detail`.
    ///
    /// # Panics
    /// When any of the three differs.
    #[track_caller]
    pub fn assert_problem(&self, status: u16, detail: &str) -> &Self {
        self.assert_status(status);
        let ct = self.header("content-type").unwrap_or_default();
        assert!(
            ct.starts_with("application/problem+json"),
            "{} {}: content-type is {ct:?}, not application/problem+json: {}",
            self.method,
            self.target,
            self.text()
        );
        let v: serde_json::Value = self.json();
        assert_eq!(v["status"], status, "problem status: {v}");
        let got = v["detail"].as_str().unwrap_or_default();
        assert!(got.contains(detail), "problem detail {got:?} does not contain {detail:?}");
        self
    }

    /// The Worker's log event of this request (found by its `cf-ray`; waits up to 10 s, since
    /// the event is written when the request's scope ends, after any `After` work).
    ///
    /// # Panics
    /// When no event with this ray shows up.
    #[must_use]
    pub fn log(&self) -> LogEvent {
        self.worker.find_event(&self.ray, std::time::Duration::from_secs(10)).unwrap_or_else(|| {
            panic!(
                "{} {}: no log event with ray {} within 10 s (LAYERS_LOG=errors leaves out requests that went well)\n{}",
                self.method,
                self.target,
                self.ray,
                self.worker.log_tail(20)
            )
        })
    }
}
