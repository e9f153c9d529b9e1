//! One request's scope, once routed: read the body if the verifier signs it, verify, make the
//! `Claims`, open the declared storage with them as the proof, call the handler, log, then run
//! the `After` tasks. Only the storage opener and the handler are generic over the route; the
//! rest is generic over the verifier, or not at all.

use std::rc::Rc;

use worker::web_sys;

use super::answer::AnswerTx;

use super::fetch::{error_response, plain};
use super::handler_cx::HandlerCx;
use super::route::{LocalBoxFuture, Route, RouteCx};
use crate::after::After;
use crate::error::Error;
use crate::identity::cx::RuntimeHeaders;
use crate::identity::{AccessIdentity, Claims, RuntimeAccess, Verifier, VerifyCx, MAX_ACCESS_IDENTITY_LEN};
use crate::log::{now_ms, LogCx};
use crate::request::Request;
use crate::storage::open::Handles;
use crate::vars::Vars;

/// A routed request, handed to its route's scope.
pub(super) struct Dispatch {
    pub(super) env: worker::Env,
    pub(super) req: web_sys::Request,
    pub(super) method: String,
    pub(super) path: String,
    pub(super) query: String,
    pub(super) params: Vec<(&'static str, String)>,
    pub(super) rest: Option<String>,
    pub(super) log: LogCx,
    pub(super) vars: &'static [&'static str],
    /// The names under wrangler's `[vars]` (`App::vars`): what a grant may read as a var.
    pub(super) config_vars: &'static [&'static str],
    /// The handler's `outbound(…)`.
    pub(super) outbound: &'static [crate::outbound::OutboundDecl],
    pub(super) t0: u64,
}

/// Opens the storage a route declared, with its claims as the proof (see [`open_storage`]).
type OpenFn<V> = for<'r> fn(&worker::Env, &web_sys::Request, &Claims<'r, V>, &Rc<LogCx>) -> Result<Handles<'r>, Error>;
/// A route's handler ([`Route::call`]).
type CallFn<V> = for<'r> fn(RouteCx<'r, V>) -> LocalBoxFuture<'r, Result<worker::Response, Error>>;

pub(super) fn run_route<H: Route>(d: Dispatch, ctx: &worker::Context, tx: AnswerTx) -> LocalBoxFuture<'static, ()> {
    // Only what is specific to the route is generic over it: which storage it opens and its
    // handler, passed as two function pointers. The scope itself (body, verification, the
    // reply, the `After` tasks) is generic over the verifier only: one copy per identity
    // type in the wasm, not one per route.
    // `ctx.access` only for a verifier that reads it (a constant: the others never look).
    let access = if <H::Identity as Verifier>::ACCESS { ctx_access(ctx) } else { None };
    Box::pin(drive::<H::Identity>(d, access, tx, crate::storage::open::open_for_route::<H>, H::call))
}

async fn drive<V: Verifier>(
    d: Dispatch,
    access: Option<worker::wasm_bindgen::JsValue>,
    tx: AnswerTx,
    open: OpenFn<V>,
    call: CallFn<V>,
) {
    // The request's scope: every Claims, handle and After task of this request borrows
    // `scope`'s lifetime, which ends when this future does.
    let scope = ();
    let after = After::new();
    let resp = scoped::<V>(&scope, d, access, after.clone(), open, call).await;
    tx.send(resp);
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

/// The runtime's `ctx.access` object (Cloudflare's Worker-scoped Access), or `None` when it is
/// `undefined` (Access did not authenticate the request) or cannot be read.
fn ctx_access(ctx: &worker::Context) -> Option<worker::wasm_bindgen::JsValue> {
    use worker::js_sys::Reflect;
    use worker::wasm_bindgen::JsValue;
    let raw: &worker::worker_sys::Context = ctx.as_ref();
    Reflect::get(raw, &JsValue::from_str("access")).ok().filter(|a| !a.is_undefined() && !a.is_null())
}

/// `ctx.access` as plain data for the verifier: its `aud`, and what its `getIdentity()`
/// resolves to, read as JSON (non-generic: one copy).
async fn runtime_access(access: Option<worker::wasm_bindgen::JsValue>) -> RuntimeAccess {
    use worker::js_sys::{Function, JsString, Promise, Reflect, JSON};
    use worker::wasm_bindgen::{JsCast, JsValue};
    use worker::wasm_bindgen_futures::JsFuture;
    let unreadable = |why: &str| RuntimeAccess::Unreadable(why.to_owned());
    let Some(access) = access else { return RuntimeAccess::Absent };
    let Some(aud) = Reflect::get(&access, &JsValue::from_str("aud")).ok().and_then(|a| a.as_string()) else {
        return unreadable("its aud is not a string");
    };
    let Some(get) = Reflect::get(&access, &JsValue::from_str("getIdentity")).ok().filter(JsValue::is_function) else {
        return unreadable("it has no getIdentity()");
    };
    let get: Function = get.unchecked_into();
    let identity = match get.call0(&access) {
        Ok(out) => JsFuture::from(Promise::resolve(&out)).await,
        Err(e) => Err(e),
    };
    let Ok(identity) = identity else {
        return unreadable("getIdentity() threw or rejected");
    };
    let text = if identity.is_undefined() || identity.is_null() {
        "null".to_owned()
    } else if !identity.is_object() {
        return unreadable("getIdentity() resolved to something other than an object");
    } else {
        // `JSON.stringify` throws (a BigInt, a cycle) or yields `undefined` (a `toJSON` that
        // returns nothing): both unreadable, checked before the string is looked at.
        let json: JsValue = match JSON::stringify(&identity) {
            Ok(json) => json.into(),
            Err(_) => JsValue::UNDEFINED,
        };
        if !json.is_string() {
            return unreadable("getIdentity() resolved to something JSON cannot hold");
        }
        let json: &JsString = json.unchecked_ref();
        // UTF-16 units: never more than the UTF-8 bytes, so a longer string is too long.
        if json.length() as usize > MAX_ACCESS_IDENTITY_LEN {
            return unreadable("getIdentity() resolved to an identity that is too large");
        }
        String::from(json)
    };
    match AccessIdentity::from_json(&aud, &text) {
        Ok(a) => RuntimeAccess::Present(a),
        Err(e) => RuntimeAccess::Unreadable(format!("getIdentity(): {e}")),
    }
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

/// The secrets and vars a verifier declares (`Verifier::SECRETS`, `Verifier::VARS`): all it
/// can read; and whether it may fetch.
#[derive(Clone, Copy)]
struct Declared {
    secrets: &'static [&'static str],
    vars: &'static [&'static str],
    /// Whether it declares outbound calls (`Verifier::OUTBOUND`).
    outbound: bool,
}

/// What the route's verifier sees (non-generic: one copy for every route). Headers are read
/// from the runtime only if the verifier asks for one; `tls_client_auth` is what the caller
/// read from `request.cf` (only for verifiers with `Verifier::TLS`).
#[allow(clippy::too_many_arguments)] // one call site, each argument a distinct piece
fn verify_cx<'e>(
    head: DispatchHead,
    req: &'e web_sys::Request,
    env: &'e worker::Env,
    declared: Declared,
    log: &'e LogCx,
    body: Option<&Vec<u8>>,
    tls_client_auth: Option<std::collections::HashMap<String, String>>,
    access: RuntimeAccess,
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
            if declared.secrets.contains(&name) {
                env_string(env, EnvKind::Secret, name)
            } else {
                log.error(500, &format!("the verifier read secret {name}, which its Verifier::SECRETS does not declare: it reads as unset"));
                None
            }
        }),
        // Likewise the vars (`Verifier::VARS`): what the manifest lists is all a verifier reads.
        vars: Box::new(move |name: &str| {
            if declared.vars.contains(&name) {
                env_string(env, EnvKind::Var, name)
            } else {
                log.error(
                    500,
                    &format!(
                        "the verifier read var {name}, which its Verifier::VARS does not declare: it reads as unset"
                    ),
                );
                None
            }
        }),
        now,
        body: body.cloned(),
        tls_client_auth,
        // Only from the runtime (`ctx.access`), only for a verifier with `Verifier::ACCESS`.
        access,
        // A verifier that declares no outbound call (`Verifier::OUTBOUND`) cannot make one.
        fetcher: if declared.outbound { crate::outbound::worker_fetch() } else { crate::outbound::no_fetch() },
        // The isolate's: what verifiers remember between requests belongs to dispatch alone.
        state: crate::identity::state::isolate(),
        pause: dispatch_pause(),
    }
}

/// The pause of dispatch's contexts: this request's own `setTimeout` (natively, where dispatch
/// never runs, a yield).
pub(super) fn dispatch_pause() -> crate::identity::cx::Pause {
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

async fn scoped<'r, V: Verifier>(
    _scope: &'r (),
    d: Dispatch,
    access: Option<worker::wasm_bindgen::JsValue>,
    after: After<'r>,
    open: OpenFn<V>,
    call: CallFn<V>,
) -> worker::Response {
    let Dispatch { env, req, method, path, query, params, rest, log, vars, config_vars, outbound, t0 } = d;
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
    // Likewise `ctx.access`, its `getIdentity()` awaited only for a verifier that reads it — and
    // boxed, as the body read is, so the other verifiers' scopes carry none of it.
    let access = {
        let read: Option<LocalBoxFuture<'_, RuntimeAccess>> =
            if V::ACCESS { Some(Box::pin(runtime_access(access))) } else { None };
        match read {
            Some(read) => read.await,
            None => RuntimeAccess::Absent,
        }
    };
    let declared = Declared { secrets: V::SECRETS, vars: V::VARS, outbound: !V::OUTBOUND.is_empty() };
    let cx = verify_cx(head, &req, &env, declared, &log, body.as_ref(), tls, access, t_id / 1000);
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
        held: HandlerCx::new(claims, storage),
        vars: Vars::new(env.clone(), vars),
        config_vars,
        outbound,
        after,
        env,
    };
    handled(&log, t0, call(rcx).await)
}
