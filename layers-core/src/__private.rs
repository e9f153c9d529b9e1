//! What `#[route]` and `app!` expand to. Not a public API.
//!
//! Everything here is safe to call from user code: the expansion only *describes* routes
//! (a [`Route`] impl) and hands the `Env` to [`serve`]. Verifying, making `Claims` and
//! opening storage happen inside this crate, behind `pub(crate)` constructors.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::OnceLock;

use futures_channel::oneshot;
use worker::web_sys;

use crate::after::After;
use crate::error::Error;
use crate::identity::capability::{Grant, Identifies, MayFederate, MayMint, Mint, Minter};
use crate::identity::cx::RuntimeHeaders;
use crate::identity::{Claims, Federation, Verifier, VerifyCx};
use crate::log::{now_ms, LogCx};
use crate::request::path::normalize;
use crate::request::pattern::{Method, Seg};
use crate::request::router::{Routed, Router};
use crate::request::Request;
use crate::storage::durable::DurableBinding;
pub use crate::storage::open::Handles;
use crate::storage::queue::QueueBinding;
use crate::storage::{Ai, AnalyticsEngine, Cache, Kv, StorageDecl, StorageKind, Vectorize, D1, R2};
use crate::vars::Vars;

pub use crate::check::{check_app, check_body, check_durable, check_events, check_grant};
pub use crate::durable_object::{DurableClass, DurableHost, DurableMeta, ObjectCx};
pub use crate::events::{
    cron_entry, queue_entry, Consumer, CronEntry, CronMeta, EventCx, IntoOutcome, QueueEntry, QueueMeta, Scheduled,
};
pub use crate::identity::capability::GrantParam;
pub use crate::identity::ClaimsFor;
pub use crate::storage::durable::typecheck as durable_check;
pub use crate::storage::queue::typecheck as queue_check;
pub use worker;
pub use worker::{js_sys, wasm_bindgen, wasm_bindgen_futures};

/// A boxed, non-`Send` future (Workers are single-threaded).
pub type LocalBoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// Everything `#[route]` knows about a handler.
#[derive(Debug, Clone, Copy)]
pub struct RouteMeta {
    /// The declared method.
    pub method: Method,
    /// The pattern as written.
    pub pattern: &'static str,
    /// The parsed pattern.
    pub segments: &'static [Seg],
    /// The identity type as written; [`entry`] replaces it with the verifier's `NAME` (for logs
    /// and the manifest).
    pub identity: &'static str,
    /// The identity type as written in the attribute (kept: `identity` becomes the `NAME`).
    pub identity_as_written: &'static str,
    /// The less specific routes this route takes requests from although their identity differs,
    /// as declared with `shadows("…")` (see [`check`](crate::check)).
    pub shadows: &'static [Shadowed],
    /// The declared storage.
    pub storage: &'static [StorageDecl],
    /// The handler function's name.
    pub handler: &'static str,
    /// What the handler's parameters grant beyond storage: the `Mint<'_, C>` and
    /// `Federation<'_, C>` it takes.
    pub grants: &'static [Grant],
    /// The identity's type name, set by [`entry`] from the verifier that really runs (the
    /// manifest names identities by type, never by a `NAME` a config chose).
    pub identity_type: fn() -> &'static str,
    /// The secrets the identity's verifier reads (`Verifier::SECRETS`), set by [`entry`].
    pub secrets: &'static [&'static str],
    /// The signed-token configurations the identity accepts (`Verifier::TOKENS`), set by
    /// [`entry`].
    pub tokens: &'static [&'static str],
}

/// A pattern named by a route's `shadows("…")`.
#[derive(Debug, Clone, Copy)]
pub struct Shadowed {
    /// The pattern as written.
    pub pattern: &'static str,
    /// The parsed pattern.
    pub segments: &'static [Seg],
}

/// The placeholder [`RouteMeta::identity_type`] of a description (`entry` sets the real one).
#[must_use]
pub fn unnamed() -> &'static str {
    "?"
}

/// A handler, described by `#[route]`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a route",
    label = "not a `#[route]` handler",
    note = "`app!{{ routes: [..] }}` lists handler functions that carry `#[route(METHOD \"/path\", identity = …)]`"
)]
pub trait Route: 'static {
    /// The route's verifier.
    type Identity: Verifier;
    /// The route's description.
    const META: RouteMeta;
    /// Calls the handler with what the framework prepared.
    fn call<'r>(cx: RouteCx<'r, Self::Identity>) -> LocalBoxFuture<'r, Result<worker::Response, Error>>;
}

/// Converts what a handler returns into a response.
#[diagnostic::on_unimplemented(
    message = "a route handler must return `Response` or `Result<Response, E>` where `E: Into<layers_core::Error>`",
    label = "`{Self}` is not a response"
)]
pub trait IntoResponse {
    /// The conversion.
    ///
    /// # Errors
    /// The handler's own error.
    fn into_response(self) -> Result<worker::Response, Error>;
}

impl IntoResponse for worker::Response {
    fn into_response(self) -> Result<worker::Response, Error> {
        Ok(self)
    }
}

impl<E: Into<Error>> IntoResponse for Result<worker::Response, E> {
    fn into_response(self) -> Result<worker::Response, Error> {
        self.map_err(Into::into)
    }
}

/// What a handler's arguments are taken from. Only the framework makes one, after the
/// route's verifier accepted the request; it holds exactly the storage the route declared.
pub struct RouteCx<'r, V: Verifier> {
    request: Option<Request>,
    claims: Option<Claims<'r, V>>,
    /// The handles the route declared, opened with its claims.
    storage: Handles<'r>,
    vars: Vars<'r>,
    after: After<'r>,
    /// Read only by [`RouteCx::federation`] (secrets and vars by name); never handed out.
    env: worker::Env,
}

impl<V: Verifier> std::fmt::Debug for RouteCx<'_, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouteCx").field("verifier", &V::NAME).finish_non_exhaustive()
    }
}

fn taken(what: &str) -> Error {
    Error::internal(format!("handler asked for {what} twice or undeclared"))
}

impl<'r, V: Verifier> RouteCx<'r, V> {
    /// The request (once).
    ///
    /// # Errors
    /// When taken twice.
    pub fn request(&mut self) -> Result<Request, Error> {
        self.request.take().ok_or_else(|| taken("the request"))
    }
    /// A head extractor (`Path<T>`, `Query<T>`, `Cf`), read before the request is taken.
    ///
    /// # Errors
    /// The extractor's 4xx problem, or when the request was taken already.
    pub fn parts<T: crate::request::extract::FromRequestParts>(&self) -> Result<T, Error> {
        T::from_parts(self.request.as_ref().ok_or_else(|| taken("the request"))?)
    }
    /// The body extractor (`Json<T>`, `Form<T>`), read before the request is taken.
    ///
    /// # Errors
    /// The extractor's 4xx problem, or when the request was taken already.
    pub async fn body<T: crate::request::extract::FromBody>(&mut self) -> Result<T, Error> {
        T::from_body(self.request.as_mut().ok_or_else(|| taken("the request"))?).await
    }
    /// The claims (once).
    ///
    /// # Errors
    /// When taken twice.
    pub fn claims(&mut self) -> Result<Claims<'r, V>, Error> {
        self.claims.take().ok_or_else(|| taken("the claims"))
    }
    /// The storage the route declared, opened with its claims.
    pub fn storage(&mut self) -> &mut Handles<'r> {
        &mut self.storage
    }
    /// The vars.
    #[must_use]
    pub fn vars(&self) -> Vars<'r> {
        self.vars.clone()
    }
    /// The after-the-response scheduler.
    #[must_use]
    pub fn after(&self) -> After<'r> {
        self.after.clone()
    }
    /// The token minter for config `C`: only where `C` opted in to minting from this
    /// route's identity (`C: MayMint<V>`), never from `Public`.
    #[must_use]
    pub fn mint<C: MayMint<V>>(&self) -> Mint<'r, C>
    where
        V: Minter,
    {
        Mint::new(self.env.clone())
    }
    /// The outbound federation helper for config `C`, with its secret and its `[vars]` read
    /// now: only where `C` opted in for this route's identity (`C: MayFederate<V>`), never
    /// from `Public` or `Turnstile`.
    #[must_use]
    pub fn federation<C: MayFederate<V>>(&self) -> Federation<'r, C>
    where
        V: Identifies,
    {
        let env = &self.env;
        let secret = |name: &str| env.secret(name).ok().map(|s| s.to_string());
        // Only `[vars]` names: a config naming a secret in a `*_VAR` const must not read it
        // (Workers expose secrets and vars through the same string bindings).
        let vars = self.vars.clone();
        let var = move |name: &str| vars.get(name);
        Federation::new(&secret, &var, crate::outbound::worker_fetch(), || now_ms() / 1000, dispatch_pause())
    }
}

struct Dispatch {
    env: worker::Env,
    req: web_sys::Request,
    method: String,
    path: String,
    query: String,
    params: Vec<(&'static str, String)>,
    rest: Option<String>,
    log: LogCx,
    vars: &'static [&'static str],
    t0: u64,
}

type RunFn = fn(Dispatch, oneshot::Sender<worker::Response>) -> LocalBoxFuture<'static, ()>;

/// One entry of the app's route table.
#[derive(Clone, Copy)]
pub struct RouteEntry {
    pub(crate) meta: RouteMeta,
    run: RunFn,
}

impl std::fmt::Debug for RouteEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.meta.fmt(f)
    }
}

impl RouteEntry {
    /// An entry that describes `meta` and runs nothing (the checks' unit tests).
    #[cfg(test)]
    pub(crate) fn described(meta: RouteMeta) -> RouteEntry {
        RouteEntry { meta, run: |_, _| Box::pin(async {}) }
    }

    /// The route's description.
    #[must_use]
    pub fn meta(&self) -> &RouteMeta {
        &self.meta
    }
}

/// The table entry for route `H`.
#[must_use]
pub const fn entry<H: Route>() -> RouteEntry {
    RouteEntry { meta: route_meta::<H>(), run: run_route::<H> }
}

/// Route `H`'s description with what its identity type says filled in: logs and the manifest
/// name the verifier that really runs and the secrets it reads, not what `META` claims.
#[must_use]
pub const fn route_meta<H: Route>() -> RouteMeta {
    let mut meta = H::META;
    meta.identity = <H::Identity as Verifier>::NAME;
    meta.identity_type = std::any::type_name::<H::Identity>;
    meta.secrets = <H::Identity as Verifier>::SECRETS;
    meta.tokens = <H::Identity as Verifier>::TOKENS;
    meta
}

/// The app: its routes, crons, queue consumers and the `[vars]` names handlers may read.
/// Built by `app!`, which checks it at compile time; when it first serves, it checks itself
/// again (segments, conflicting routes, `[vars]` that name secrets: see
/// [`check_app`](crate::check::check_app)) and, should that fail — an app built by hand —
/// answers every request with 500 and runs no cron or queue handler.
#[derive(Debug)]
pub struct App {
    routes: &'static [RouteEntry],
    crons: &'static [CronEntry],
    queues: &'static [QueueEntry],
    durables: &'static [crate::durable_object::DurableMeta],
    vars: &'static [&'static str],
    router: OnceLock<Result<Router, String>>,
}

impl App {
    /// A new app, held to what `app!` checks without wrangler.toml: every route's segments
    /// are what `#[route]` makes, no two routes can match one request, and no `[vars]` name is a
    /// secret the app uses (a verifier's `SECRETS`, a grant's secret).
    ///
    /// # Panics
    /// When one of those fails — at compile time, for the `static` `app!` writes (or one
    /// written by hand).
    #[must_use]
    pub const fn new(
        routes: &'static [RouteEntry],
        crons: &'static [CronEntry],
        queues: &'static [QueueEntry],
        durables: &'static [crate::durable_object::DurableMeta],
        vars: &'static [&'static str],
    ) -> App {
        if let Some(m) = crate::check::table_problem(routes, crons, queues, vars) {
            panic!("{}", m.as_str());
        }
        App { routes, crons, queues, durables, vars, router: OnceLock::new() }
    }

    /// The Durable Object classes written with layers (`app! { durable_objects: [..] }`).
    #[must_use]
    pub fn durables(&self) -> &'static [crate::durable_object::DurableMeta] {
        self.durables
    }

    /// The cron handlers.
    #[must_use]
    pub fn crons(&self) -> &'static [CronEntry] {
        self.crons
    }

    /// The queue consumers.
    #[must_use]
    pub fn queues(&self) -> &'static [QueueEntry] {
        self.queues
    }

    /// The `[vars]` names handlers may read.
    #[must_use]
    pub fn vars(&self) -> &'static [&'static str] {
        self.vars
    }

    /// The Worker's `scheduled` entry (see [`serve_scheduled`](crate::events::serve_scheduled)).
    pub async fn scheduled(&'static self, event: worker::worker_sys::ScheduledEvent, env: worker::Env) {
        match self.router() {
            Ok(_) => {
                crate::events::serve_scheduled(self.crons, self.vars, worker::ScheduledEvent::from(event), env).await
            }
            Err(why) => crate::events::app_refused("scheduled", why),
        }
    }

    /// The Worker's `queue` entry (see [`serve_queue`](crate::events::serve_queue)). Takes the
    /// platform's JS batch as is, so each message's `attempts` can be read.
    ///
    /// # Errors
    /// Never.
    pub async fn queue(&'static self, batch: worker::worker_sys::MessageBatch, env: worker::Env) -> worker::Result<()> {
        match self.router() {
            Ok(_) => crate::events::serve_queue(self.queues, self.vars, batch, env).await,
            Err(why) => {
                crate::events::app_refused("queue", why);
                worker::MessageBatch::<()>::from(batch).retry_all();
                Ok(())
            }
        }
    }

    /// The routes, in declaration order.
    #[must_use]
    pub fn routes(&self) -> &'static [RouteEntry] {
        self.routes
    }

    /// The router, made (once) after the app passed the checks `app!` runs: a table built by
    /// hand that `app!` would refuse gets an `Err`, and nothing is served.
    pub(crate) fn router(&self) -> &Result<Router, String> {
        self.router.get_or_init(|| {
            if let Some(why) = crate::check::app_problem(self) {
                return Err(format!("the app fails the checks app! runs, so it serves nothing: {why}"));
            }
            Router::new(self.routes.iter().map(|r| (r.meta.method, r.meta.segments)))
        })
    }
}

fn plain(status: u16, body: &str) -> worker::Response {
    let headers = worker::Headers::new();
    let _ = headers.set("content-type", "text/plain; charset=utf-8");
    let _ = headers.set("cache-control", "no-store");
    worker::ResponseBuilder::new().with_status(status).with_headers(headers).fixed(body.as_bytes().to_vec())
}

pub(crate) fn error_response(log: &LogCx, e: &Error) -> worker::Response {
    if let Some(d) = e.detail() {
        log.error(e.status(), d);
    }
    if let Some(body) = e.problem_json() {
        let headers = worker::Headers::new();
        let _ = headers.set("content-type", "application/problem+json");
        let _ = headers.set("cache-control", "no-store");
        return worker::ResponseBuilder::new().with_status(e.status()).with_headers(headers).fixed(body.into_bytes());
    }
    let mut msg = e.public_message().to_owned();
    msg.push('\n');
    plain(e.status(), &msg)
}

/// The Worker's `fetch` entry: normalize, route, verify, open storage, call, log.
///
/// # Errors
/// Never in practice: every failure becomes a response.
pub async fn serve(
    app: &'static App,
    req: web_sys::Request,
    env: worker::Env,
    ctx: worker::Context,
) -> worker::Result<worker::Response> {
    #[cfg(feature = "expose-routing")]
    let runtime_url = req.url();
    let mut view = RouteView::default();
    let resp = route_and_run(app, req, env, ctx, &mut view).await;
    #[cfg(feature = "expose-routing")]
    let resp = view.stamp(resp, &runtime_url);
    Ok(resp)
}

/// The body of the `fetch` export that `app!` writes: [`serve`], answered without a
/// JavaScript promise when it can be.
///
/// [`serve`] is polled once, right here. A request that never waits on the runtime (a public
/// route, a token the verified-token cache remembers, a rejected path) is finished by then,
/// and the `Response` goes back to workerd as is; a `fetch` handler may return a `Response`
/// or a promise of one. Otherwise the same future, already started, is handed to
/// `wasm-bindgen-futures` and a promise is returned. This saves a promise, a closure and a
/// microtask hop per request that `#[worker::event(fetch)]`'s `async` export always pays.
///
/// Polling once with a no-op waker is sound: every `Future` must store the waker of its
/// latest poll, and the executor polls the future again as soon as it takes it over.
pub fn fetch_export(
    app: &'static App,
    req: web_sys::Request,
    env: worker::Env,
    ctx: worker::worker_sys::Context,
) -> worker::wasm_bindgen::JsValue {
    use std::task::{Context, Poll, Waker};
    let mut fut = Box::pin(serve(app, req, env, worker::Context::new(ctx)));
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(resp) => into_js(resp),
        Poll::Pending => worker::wasm_bindgen_futures::future_to_promise(async move { Ok(into_js(fut.await)) }).into(),
    }
}

/// `worker`'s own conversion to the runtime's `Response`, with the fallback of
/// `#[worker::event(fetch)]`: a logged error and a bare 500.
fn into_js(resp: worker::Result<worker::Response>) -> worker::wasm_bindgen::JsValue {
    match resp.map(worker::IntoResponse::into_raw) {
        Ok(Ok(raw)) => raw.into(),
        Ok(Err(e)) => {
            let e: Box<dyn std::error::Error> = e.into();
            worker::console_error!("layers: could not convert the response: {e}");
            internal_error()
        }
        Err(e) => {
            worker::console_error!("layers: {e}");
            internal_error()
        }
    }
}

fn internal_error() -> worker::wasm_bindgen::JsValue {
    worker::IntoResponse::into_raw(plain(500, "internal error\n"))
        .map_or(worker::wasm_bindgen::JsValue::UNDEFINED, Into::into)
}

/// What routing decided, kept only in builds with the `expose-routing` feature (the
/// differential path test reads it from response headers); otherwise every method is a no-op.
#[derive(Default)]
struct RouteView {
    #[cfg(feature = "expose-routing")]
    path: Option<String>,
    #[cfg(feature = "expose-routing")]
    route: Option<&'static str>,
    #[cfg(feature = "expose-routing")]
    rejected: Option<String>,
}

impl RouteView {
    #[allow(clippy::unused_self)]
    fn routed_path(&mut self, _path: &str) {
        #[cfg(feature = "expose-routing")]
        {
            self.path = Some(_path.to_owned());
        }
    }

    #[allow(clippy::unused_self)]
    fn route(&mut self, _pattern: &'static str) {
        #[cfg(feature = "expose-routing")]
        {
            self.route = Some(_pattern);
        }
    }

    #[allow(clippy::unused_self)]
    fn rejected(&mut self, _why: &dyn std::fmt::Display) {
        #[cfg(feature = "expose-routing")]
        {
            self.rejected = Some(_why.to_string());
        }
    }

    /// Adds `x-layers-runtime-url` (the URL string the runtime handed the Worker),
    /// `x-layers-routed-path` (the normalized path routing used, bytes outside visible ASCII
    /// and `%` percent-encoded), `x-layers-route` (the pattern, or `-`) and, for a refused
    /// path, `x-layers-path-rejected`. On wasm32 it also adds `x-layers-wasm-memory`: the
    /// size in bytes of the Worker's linear memory as this response leaves it (the soak reads
    /// it; linear memory never shrinks, so its growth is the Worker's high-water mark).
    #[cfg(feature = "expose-routing")]
    fn stamp(self, resp: worker::Response, runtime_url: &str) -> worker::Response {
        fn visible(s: &str) -> String {
            use std::fmt::Write as _;
            let mut out = String::with_capacity(s.len());
            for b in s.bytes() {
                if (0x21..=0x7e).contains(&b) && b != b'%' {
                    out.push(char::from(b));
                } else {
                    let _ = write!(out, "%{b:02X}");
                }
            }
            out
        }
        let headers = resp.headers().clone();
        let _ = headers.set("x-layers-runtime-url", &visible(runtime_url));
        if let Some(p) = &self.path {
            let _ = headers.set("x-layers-routed-path", &visible(p));
        }
        let _ = headers.set("x-layers-route", self.route.unwrap_or("-"));
        if let Some(why) = &self.rejected {
            let _ = headers.set("x-layers-path-rejected", why);
        }
        #[cfg(target_arch = "wasm32")]
        {
            let bytes = core::arch::wasm32::memory_size::<0>() * 65_536;
            let _ = headers.set("x-layers-wasm-memory", &bytes.to_string());
        }
        resp.with_headers(headers)
    }
}

thread_local! {
    // `LAYERS_LOG`, read once per isolate (vars do not change while it lives).
    static QUIET_LOGS: std::cell::Cell<Option<bool>> = const { std::cell::Cell::new(None) };
}

/// Whether this Worker's `LAYERS_LOG` var is `"errors"` ([`crate::log`]'s errors-only mode).
pub(crate) fn quiet_logs(env: &worker::Env) -> bool {
    QUIET_LOGS.with(|q| {
        q.get().unwrap_or_else(|| {
            let quiet = crate::log::quiet_from(env.var("LAYERS_LOG").ok().map(|v| v.to_string()).as_deref());
            q.set(Some(quiet));
            quiet
        })
    })
}

async fn route_and_run(
    app: &'static App,
    req: web_sys::Request,
    env: worker::Env,
    ctx: worker::Context,
    view: &mut RouteView,
) -> worker::Response {
    let t0 = now_ms();
    let method = req.method();
    let ray = crate::log::Ray::of(&req);
    let mut log = LogCx::new(ray, method.clone(), "-", "fetch", quiet_logs(&env));
    // The path and query as a WHATWG parse reads them: straight from `request.url` when it is
    // simple (see `split_simple_url`: provably the same answer), else by a full parse.
    let raw_url = req.url();
    let parsed;
    let (raw_path, raw_query) = match crate::request::path::split_simple_url(&raw_url) {
        Some(parts) => parts,
        None => match worker::Url::parse(&raw_url) {
            Ok(u) => {
                parsed = u;
                (parsed.path(), parsed.query())
            }
            Err(_) => {
                log.request(400, now_ms().saturating_sub(t0), "bad_url");
                view.rejected(&"unparsable URL");
                return plain(400, "bad request\n");
            }
        },
    };
    let path = match normalize(raw_path) {
        Ok(p) => p,
        Err(e) => {
            log.request(e.status(), now_ms().saturating_sub(t0), &format!("path_rejected: {e}"));
            view.rejected(&e);
            return plain(e.status(), if e.status() == 414 { "uri too long\n" } else { "bad request\n" });
        }
    };
    view.routed_path(&path);
    let router = match app.router() {
        Ok(r) => r,
        Err(e) => {
            log.error(500, e);
            return plain(500, "internal error\n");
        }
    };
    match router.route(Method::from_request(&method), &path) {
        Routed::NotFound => {
            log.request(404, now_ms().saturating_sub(t0), "not_found");
            plain(404, "not found\n")
        }
        Routed::MethodNotAllowed(allow) => {
            log.request(405, now_ms().saturating_sub(t0), "method_not_allowed");
            let resp = plain(405, "method not allowed\n");
            let _ = resp.headers().set("allow", &allow.to_string());
            resp
        }
        Routed::Found { index, params, rest, head_from_get } => {
            let Some(entry) = app.routes.get(index) else {
                return plain(500, "internal error\n");
            };
            log.route = entry.meta.pattern;
            view.route(entry.meta.pattern);
            let names = entry.meta.segments.iter().filter_map(|s| match s {
                Seg::Param(n) => Some(*n),
                _ => None,
            });
            let params: Vec<(&'static str, String)> = names.zip(params.iter().map(str::to_owned)).collect();
            let rest = rest.map(str::to_owned);
            let d = Dispatch {
                env,
                req,
                method,
                path,
                query: raw_query.unwrap_or("").to_owned(),
                params,
                rest,
                log,
                vars: app.vars,
                t0,
            };
            let (tx, mut rx) = oneshot::channel();
            let mut run = (entry.run)(d, tx);
            // The route's scope (verifier, storage, handler, then its `After` tasks) must run to
            // completion even if the client hangs up, so whatever of it is still pending when
            // this fetch handler yields goes to `waitUntil`. The runtime can only cancel at such
            // a yield, so the first poll is made here: a handler that answers without waiting on
            // I/O costs no `waitUntil` promise and no extra task hop.
            let finished = std::future::poll_fn(|cx| std::task::Poll::Ready(run.as_mut().poll(cx).is_ready())).await;
            let answered = rx.try_recv().ok().flatten();
            if !finished {
                ctx.wait_until(run);
            }
            let resp = match answered {
                Some(resp) => resp,
                None => rx.await.unwrap_or_else(|_| plain(500, "internal error\n")),
            };
            if head_from_get {
                return worker::ResponseBuilder::new()
                    .with_status(resp.status_code())
                    .with_headers(resp.headers().clone())
                    .empty();
            }
            resp
        }
    }
}

/// Opens the storage a route declared, with its claims as the proof (see [`open_storage`]).
type OpenFn<V> = for<'r> fn(&worker::Env, &web_sys::Request, &Claims<'r, V>, &Rc<LogCx>) -> Result<Handles<'r>, Error>;
/// A route's handler ([`Route::call`]).
type CallFn<V> = for<'r> fn(RouteCx<'r, V>) -> LocalBoxFuture<'r, Result<worker::Response, Error>>;

fn run_route<H: Route>(d: Dispatch, tx: oneshot::Sender<worker::Response>) -> LocalBoxFuture<'static, ()> {
    // Only what is specific to the route is generic over it: which storage it opens and its
    // handler, passed as two function pointers. The scope itself (body, verification, the
    // reply, the `After` tasks) is generic over the verifier only: one copy per identity
    // type in the wasm, not one per route.
    Box::pin(drive::<H::Identity>(d, tx, open_storage::<H>, H::call))
}

async fn drive<V: Verifier>(d: Dispatch, tx: oneshot::Sender<worker::Response>, open: OpenFn<V>, call: CallFn<V>) {
    // The request's scope: every Claims, handle and After task of this request borrows
    // `scope`'s lifetime, which ends when this future does.
    let scope = ();
    let after = After::new();
    let resp = scoped::<V>(&scope, d, after.clone(), open, call).await;
    let _ = tx.send(resp);
    after.run_all().await;
}

/// `request.cf.tlsClientAuth` as strings, when present.
fn tls_client_auth(req: &web_sys::Request) -> Option<std::collections::HashMap<String, String>> {
    use worker::js_sys::{Object, Reflect};
    use worker::wasm_bindgen::{JsCast, JsValue};
    let cf = Reflect::get(req, &JsValue::from_str("cf")).ok().filter(JsValue::is_object)?;
    let tls = Reflect::get(&cf, &JsValue::from_str("tlsClientAuth")).ok().filter(JsValue::is_object)?;
    let obj: &Object = tls.unchecked_ref();
    let mut out = std::collections::HashMap::new();
    for entry in Object::entries(obj).iter() {
        let pair: &worker::js_sys::Array = entry.unchecked_ref();
        let (Some(k), v) = (pair.get(0).as_string(), pair.get(1)) else { continue };
        let v =
            v.as_string().or_else(|| v.as_f64().map(|n| n.to_string())).or_else(|| v.as_bool().map(|b| b.to_string()));
        if let Some(v) = v {
            out.insert(k, v);
        }
    }
    Some(out)
}

/// Reads the raw body for a verifier with `Verifier::BODY` (non-generic: one copy).
async fn verified_body(req: &web_sys::Request, log: &LogCx, t0: u64) -> Result<Vec<u8>, worker::Response> {
    match Request::read_body(req, crate::request::DEFAULT_BODY_LIMIT).await {
        Ok(b) => Ok(b),
        Err(e) => {
            log.request(e.status(), now_ms().saturating_sub(t0), "body_rejected");
            Err(error_response(log, &e))
        }
    }
}

/// The parts of a [`Dispatch`] a verifier looks at, moved into its [`VerifyCx`] and taken back
/// afterwards (no copies).
struct DispatchHead {
    method: String,
    path: String,
    query: String,
    params: Vec<(&'static str, String)>,
}

/// What the route's verifier sees (non-generic: one copy for every route). Headers are read
/// from the runtime only if the verifier asks for one; `tls_client_auth` is what the caller
/// read from `request.cf` (only for verifiers with `Verifier::TLS`).
#[allow(clippy::too_many_arguments)] // one call site, each argument a distinct piece
fn verify_cx<'e>(
    head: DispatchHead,
    req: &'e web_sys::Request,
    env: &'e worker::Env,
    declared: &'static [&'static str],
    log: &'e LogCx,
    body: Option<&Vec<u8>>,
    tls_client_auth: Option<std::collections::HashMap<String, String>>,
    now: u64,
) -> VerifyCx<'e> {
    // Built in one step (what `VerifyCx::builder()` would make from the same parts). The
    // Fetch `Headers` iterator yields lower-case names, combined per name.
    VerifyCx {
        method: head.method,
        path: head.path,
        query: head.query,
        headers: std::cell::OnceCell::new(),
        runtime: Some(RuntimeHeaders::new(
            Box::new(move |name: &str| req.headers().get(name).ok().flatten()),
            Box::new(move || worker::Headers(req.headers()).entries().collect()),
        )),
        params: head.params,
        // Only the secrets the verifier declares (`Verifier::SECRETS`), so that list is the whole
        // truth that `app!` and `Vars` keep secrets apart by.
        secrets: Box::new(move |name: &str| {
            if declared.contains(&name) {
                env_string(env, EnvKind::Secret, name)
            } else {
                log.error(500, &format!("the verifier read secret {name}, which its Verifier::SECRETS does not declare: it reads as unset"));
                None
            }
        }),
        vars: Box::new(|name: &str| env_string(env, EnvKind::Var, name)),
        now,
        body: body.cloned(),
        tls_client_auth,
        fetcher: crate::outbound::worker_fetch(),
        // The isolate's: what verifiers remember between requests belongs to dispatch alone.
        state: crate::identity::state::isolate(),
        pause: dispatch_pause(),
    }
}

/// The pause of dispatch's contexts: this request's own `setTimeout` (natively, where dispatch
/// never runs, a yield).
fn dispatch_pause() -> crate::identity::cx::Pause {
    #[cfg(target_arch = "wasm32")]
    {
        Rc::new(|ms: u32| -> LocalBoxFuture<'static, ()> { Box::pin(crate::timer::Sleep::new(ms)) })
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        crate::identity::cx::yield_once()
    }
}

/// Which of `env`'s string bindings a verifier asked for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum EnvKind {
    Var,
    Secret,
}

/// At most this many names are remembered per isolate by [`env_string`]; past it, lookups go
/// to `env` every time (a verifier that builds names from request input cannot grow memory).
const ENV_CACHE_NAMES: usize = 64;

thread_local! {
    // The vars and secrets verifiers read, by name, as `env` answered the first time. A
    // Worker's bindings do not change while its isolate lives (a new version or secret value
    // starts new isolates), and reading one through `env` costs a property lookup, a type
    // check and a string copy out of JS on every request.
    // A list, not a map: a handful of names, scanned in order.
    static ENV_STRINGS: std::cell::RefCell<Vec<(EnvKind, String, Option<String>)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// The var or secret `name` of `env` (`None` when unset or not a string), remembered per
/// isolate (see `ENV_STRINGS`).
fn env_string(env: &worker::Env, kind: EnvKind, name: &str) -> Option<String> {
    let known =
        ENV_STRINGS.with(|c| c.borrow().iter().find(|(k, n, _)| *k == kind && n == name).map(|(_, _, v)| v.clone()));
    if let Some(v) = known {
        return v;
    }
    let v = match kind {
        EnvKind::Var => env.var(name).ok().map(|s| s.to_string()),
        EnvKind::Secret => env.secret(name).ok().map(|s| s.to_string()),
    };
    ENV_STRINGS.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() < ENV_CACHE_NAMES {
            c.push((kind, name.to_owned(), v.clone()));
        }
    });
    v
}

/// Takes back from a spent [`VerifyCx`] what the handler's request needs.
fn into_head(cx: VerifyCx<'_>) -> DispatchHead {
    DispatchHead { method: cx.method, path: cx.path, query: cx.query, params: cx.params }
}

/// Logs a refusal by verifier `name` and answers it (non-generic).
fn denied(log: &LogCx, name: &str, deny: &crate::identity::Deny, t_id: u64, t0: u64) -> worker::Response {
    log.identity(name, Err((deny.status(), deny.detail())), now_ms().saturating_sub(t_id));
    log.request(deny.status(), now_ms().saturating_sub(t0), "denied");
    plain(deny.status(), deny.public_body())
}

/// A storage binding that did not open: logged and answered (non-generic).
fn storage_unavailable(log: &LogCx, t0: u64, e: &Error) -> worker::Response {
    log.request(500, now_ms().saturating_sub(t0), "storage_unavailable");
    error_response(log, e)
}

/// The handler's answer (or its error as a response), logged (non-generic).
fn handled(log: &LogCx, t0: u64, result: Result<worker::Response, Error>) -> worker::Response {
    let resp = match result {
        Ok(r) => r,
        Err(e) => error_response(log, &e),
    };
    log.request(resp.status_code(), now_ms().saturating_sub(t0), "handled");
    resp
}

/// Whether `storage` declares a binding of `kind` (evaluated at compile time per route, so a
/// route's storage opener only holds the code of the storage kinds it declares).
const fn declares(storage: &[StorageDecl], kind: StorageKind) -> bool {
    let mut i = 0;
    while i < storage.len() {
        if storage[i].kind as u8 == kind as u8 {
            return true;
        }
        i += 1;
    }
    false
}

/// Opens every binding route `H` declares, with the request's claims as the proof. Each arm is
/// compiled only for routes that declare that kind (`declares` is const), so a route carries
/// only the code of its own storage kinds.
fn open_storage<'r, H: Route>(
    env: &worker::Env,
    req: &web_sys::Request,
    claims: &Claims<'r, H::Identity>,
    log: &Rc<LogCx>,
) -> Result<Handles<'r>, Error> {
    let mut h = Handles::empty();
    for decl in H::META.storage {
        match decl.kind {
            StorageKind::D1 if const { declares(H::META.storage, StorageKind::D1) } => {
                h.d1 = Some(D1::open(env, decl.binding, claims, log.clone())?);
            }
            StorageKind::Kv if const { declares(H::META.storage, StorageKind::Kv) } => {
                h.kv = Some(Kv::open(env, decl.binding, claims, log.clone())?);
            }
            StorageKind::Queue if const { declares(H::META.storage, StorageKind::Queue) } => {
                h.queue = Some(QueueBinding::open(env, decl.binding, claims, log.clone())?);
            }
            StorageKind::R2 if const { declares(H::META.storage, StorageKind::R2) } => {
                h.r2 = Some(R2::open(env, decl.binding, claims, log.clone())?);
            }
            StorageKind::Cache if const { declares(H::META.storage, StorageKind::Cache) } => {
                let origin =
                    worker::Url::parse(&req.url()).map(|u| u.origin().ascii_serialization()).unwrap_or_default();
                h.cache = Some(Cache::open(decl.binding, &origin, claims, log.clone())?);
            }
            StorageKind::AnalyticsEngine if const { declares(H::META.storage, StorageKind::AnalyticsEngine) } => {
                h.analytics = Some(AnalyticsEngine::open(env, decl.binding, claims, log.clone())?);
            }
            StorageKind::DurableObject if const { declares(H::META.storage, StorageKind::DurableObject) } => {
                h.durable = Some(DurableBinding::open(env, decl.binding, claims, log.clone())?);
            }
            StorageKind::Ai if const { declares(H::META.storage, StorageKind::Ai) } => {
                h.ai = Some(Ai::open(env, decl.binding, claims, log.clone())?);
            }
            StorageKind::Vectorize if const { declares(H::META.storage, StorageKind::Vectorize) } => {
                h.vectorize = Some(Vectorize::open(env, decl.binding, claims, log.clone())?);
            }
            // Unreachable: `decl` is one of `H::META.storage`, whose kinds the guards above admit.
            _ => {}
        }
    }
    Ok(h)
}

async fn scoped<'r, V: Verifier>(
    _scope: &'r (),
    d: Dispatch,
    after: After<'r>,
    open: OpenFn<V>,
    call: CallFn<V>,
) -> worker::Response {
    let Dispatch { env, req, method, path, query, params, rest, log, vars, t0 } = d;
    let log = Rc::new(log);
    // Boxed, and made only when the verifier reads the body: routes whose verifier does not
    // (most) then carry no body-reading code at all.
    let body = {
        let read: Option<LocalBoxFuture<'_, Result<Vec<u8>, worker::Response>>> =
            if V::BODY { Some(Box::pin(verified_body(&req, &log, t0))) } else { None };
        match read {
            Some(read) => match read.await {
                Ok(b) => Some(b),
                Err(resp) => return resp,
            },
            None => None,
        }
    };
    let head = DispatchHead { method, path, query, params };
    let t_id = now_ms();
    // Read here, in the verifier's own code, so Workers without a TLS verifier do not link it.
    let tls = if V::TLS { tls_client_auth(&req) } else { None };
    let cx = verify_cx(head, &req, &env, V::SECRETS, &log, body.as_ref(), tls, t_id / 1000);
    let verified = V::verify(&cx).await;
    let DispatchHead { method, path, query, params } = into_head(cx);
    let claims: Claims<'r, V> = match verified {
        Ok(data) => {
            log.identity(V::NAME, Ok(()), now_ms().saturating_sub(t_id));
            Claims::new(data)
        }
        Err(deny) => return denied(&log, V::NAME, &deny, t_id, t0),
    };
    let storage = match open(&env, &req, &claims, &log) {
        Ok(h) => h,
        Err(e) => return storage_unavailable(&log, t0, &e),
    };
    let request = Request::new(req, method, path, query, params, rest).with_buffered_body(body);
    let rcx = RouteCx {
        request: Some(request),
        claims: Some(claims),
        storage,
        vars: Vars::new(env.clone(), vars),
        after,
        env,
    };
    handled(&log, t0, call(rcx).await)
}
