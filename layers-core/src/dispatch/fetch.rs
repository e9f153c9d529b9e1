//! The `fetch` entry: the export `app!` writes ([`fetch_export`], [`serve`]), then one request
//! from URL to route (parse, normalize, route, 404/405) and from the route's answer back to the
//! runtime (`HEAD` without a body, the scope's pending work handed to `waitUntil`).

use std::rc::Rc;

use worker::web_sys;

use super::answer::Answer;
use super::app::App;
use super::scope::Dispatch;
use crate::error::Error;
use crate::log::{now_ms, LogCx};
use crate::request::path::normalize;
use crate::request::pattern::{Method, Seg};
use crate::request::router::Routed;

pub(super) fn plain(status: u16, body: &str) -> worker::Response {
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
    let (outcome, finish) = start(app, req, env, &ctx);
    let resp = match outcome {
        Outcome::Now(resp) => resp,
        Outcome::Later(answer) => {
            let (tx, rx) = futures_channel::oneshot::channel();
            answer.on_answer(Box::new(move |resp| {
                let _ = tx.send(resp);
            }));
            rx.await.unwrap_or_else(|_| plain(500, "internal error\n"))
        }
    };
    Ok(finish.apply(resp))
}

/// The body of the `fetch` export that `app!` writes: [`serve`], answered without a
/// JavaScript promise when it can be, and otherwise with one promise that the route's scope
/// resolves itself.
///
/// Routing and the route's scope start right here, and the scope is polled once. A request
/// that never waits on the runtime (a public route, a token the verified-token cache
/// remembers, a rejected path) is finished by then, and the `Response` goes back to workerd as
/// is; a `fetch` handler may return a `Response` or a promise of one. Otherwise the scope,
/// already started, goes to `waitUntil` (it must run to its end even if the client hangs up),
/// and the handler returns a bare promise whose resolve function the scope calls the moment it
/// answers (`dispatch::answer`). `#[worker::event(fetch)]`'s `async` export would instead make a second
/// task that polls for the answer: a promise, a closure and microtask hops per request more.
///
/// Polling once with a no-op waker is sound: every `Future` must store the waker of its
/// latest poll, and `waitUntil`'s executor polls the future again as soon as it takes it over.
pub fn fetch_export(
    app: &'static App,
    req: web_sys::Request,
    env: worker::Env,
    ctx: worker::worker_sys::Context,
) -> worker::wasm_bindgen::JsValue {
    let (outcome, finish) = start(app, req, env, &worker::Context::new(ctx));
    match outcome {
        Outcome::Now(resp) => into_js(Ok(finish.apply(resp))),
        Outcome::Later(answer) => {
            let mut finish = Some(finish);
            worker::js_sys::Promise::new(&mut |resolve, _reject| {
                let finish = finish.take();
                answer.on_answer(Box::new(move |resp| {
                    let resp = match finish {
                        Some(f) => f.apply(resp),
                        None => resp,
                    };
                    let _ = resolve.call1(&worker::wasm_bindgen::JsValue::UNDEFINED, &into_js(Ok(resp)));
                }));
            })
            .into()
        }
    }
}

/// What routing and the route's first steps came to.
enum Outcome {
    /// Answered already: a rejected path, a 404 or 405, or a route that never waited.
    Now(worker::Response),
    /// The route's scope waits on the runtime (and runs on under `waitUntil`); its answer
    /// arrives through this.
    Later(Rc<Answer>),
}

/// What is done to every response on its way out: a `HEAD` answered by a `GET` route loses
/// its body; builds with `expose-routing` add the routing headers.
struct Finish {
    head_from_get: bool,
    view: RouteView,
    #[cfg(feature = "expose-routing")]
    runtime_url: String,
}

impl Finish {
    fn new(_req: &web_sys::Request) -> Finish {
        Finish {
            head_from_get: false,
            view: RouteView::default(),
            #[cfg(feature = "expose-routing")]
            runtime_url: _req.url(),
        }
    }

    fn apply(self, resp: worker::Response) -> worker::Response {
        let resp = if self.head_from_get {
            worker::ResponseBuilder::new().with_status(resp.status_code()).with_headers(resp.headers().clone()).empty()
        } else {
            resp
        };
        #[cfg(feature = "expose-routing")]
        let resp = self.view.stamp(resp, &self.runtime_url);
        resp
    }
}

/// Routes the request and starts its route's scope (see [`fetch_export`]).
fn start(app: &'static App, req: web_sys::Request, env: worker::Env, ctx: &worker::Context) -> (Outcome, Finish) {
    let mut finish = Finish::new(&req);
    let outcome = route_and_run(app, req, env, ctx, &mut finish);
    (outcome, finish)
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

fn route_and_run(
    app: &'static App,
    req: web_sys::Request,
    env: worker::Env,
    ctx: &worker::Context,
    finish: &mut Finish,
) -> Outcome {
    let view = &mut finish.view;
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
                return Outcome::Now(plain(400, "bad request\n"));
            }
        },
    };
    let path = match normalize(raw_path) {
        Ok(p) => p,
        Err(e) => {
            log.request(e.status(), now_ms().saturating_sub(t0), &format!("path_rejected: {e}"));
            view.rejected(&e);
            return Outcome::Now(plain(e.status(), if e.status() == 414 { "uri too long\n" } else { "bad request\n" }));
        }
    };
    view.routed_path(&path);
    let router = match app.router() {
        Ok(r) => r,
        Err(e) => {
            log.error(500, e);
            return Outcome::Now(plain(500, "internal error\n"));
        }
    };
    match router.route(Method::from_request(&method), &path) {
        Routed::NotFound => {
            log.request(404, now_ms().saturating_sub(t0), "not_found");
            Outcome::Now(plain(404, "not found\n"))
        }
        Routed::MethodNotAllowed(allow) => {
            log.request(405, now_ms().saturating_sub(t0), "method_not_allowed");
            let resp = plain(405, "method not allowed\n");
            let _ = resp.headers().set("allow", &allow.to_string());
            Outcome::Now(resp)
        }
        Routed::Found { index, params, rest, head_from_get } => {
            let Some(entry) = app.routes().get(index) else {
                return Outcome::Now(plain(500, "internal error\n"));
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
                vars: entry.meta.vars,
                config_vars: app.vars(),
                outbound: entry.meta.outbound,
                t0,
            };
            let (answer, tx) = Answer::new(|| plain(500, "internal error\n"));
            let mut run = (entry.run)(d, ctx, tx);
            finish.head_from_get = head_from_get;
            // The route's scope (verifier, storage, handler, then its `After` tasks) must run to
            // completion even if the client hangs up, so whatever of it is still pending after
            // this first poll goes to `waitUntil`. The runtime can only cancel at a yield, so
            // the first poll is made here: a handler that answers without waiting on I/O costs
            // no `waitUntil` promise and no task.
            let waker = std::task::Waker::noop();
            let finished = run.as_mut().poll(&mut std::task::Context::from_waker(waker)).is_ready();
            if !finished {
                ctx.wait_until(run);
            }
            match answer.take() {
                Some(resp) => Outcome::Now(resp),
                None => Outcome::Later(answer),
            }
        }
    }
}
