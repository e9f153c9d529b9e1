//! Durable Object classes written with layers (`#[durable_object]`): the host the generated
//! JavaScript class wraps, and the context a call's arguments come from.
//!
//! A class is a `Default` struct plus one `async fn` taking its typed message. The host keeps
//! the object's state and the Worker's `Env` to itself: a call's storage — the object's own
//! ([`ObjectStorage`]) and the bindings the class declares in `storage(…)` — is opened with the
//! call's `Claims<'_, DurableCaller>`, exactly as a route's is with its claims, so a class never
//! sees the `Env` and its handles never outlive the call. Callers hold a typed
//! [`DurableObject<'_, C>`](crate::DurableObject) and send `C::Msg`, receiving `C::Reply`; both
//! travel as JSON.

use std::rc::Rc;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::dispatch::handler_cx::HandlerCx;
use crate::error::Error;
use crate::identity::{Claims, DurableCaller, DurableCallerClaims};
use crate::log::{now_ms, LogCx};
use crate::storage::object_storage::ObjectStorage;
use crate::storage::open::open_declared;
use crate::storage::StorageDecl;

/// A boxed, non-`Send` future.
pub type LocalBoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + 'a>>;

/// Everything `#[durable_object]` knows about a class.
#[derive(Debug, Clone, Copy)]
pub struct DurableMeta {
    /// The class's JavaScript name (the struct's name), as wrangler.toml's `class_name`.
    pub class: &'static str,
    /// The declared storage (besides the object's own).
    pub storage: &'static [StorageDecl],
    /// The handler method's name.
    pub handler: &'static str,
}

/// A Durable Object class, described by `#[durable_object]`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a Durable Object class written with layers",
    label = "not a `#[durable_object]` class",
    note = "write the class as a `Default` struct with `#[durable_object] impl {Self} {{ async fn call(&self, msg: Msg, who: Claims<'_, DurableCaller>, store: ObjectStorage<'_>) -> Result<Reply> {{ … }} }}`"
)]
pub trait DurableClass: Default + 'static {
    /// What callers send.
    type Msg: Serialize + DeserializeOwned;
    /// What the object answers.
    type Reply: Serialize + DeserializeOwned;
    /// The class's description.
    const META: DurableMeta;
    /// Calls the class's handler with what the host prepared.
    fn call<'r>(&'r self, msg: Self::Msg, cx: ObjectCx<'r>) -> LocalBoxFuture<'r, Result<Self::Reply, Error>>;
}

/// What a Durable Object handler's arguments are taken from; only the host makes one, after
/// the call reached the object.
pub struct ObjectCx<'r> {
    /// The `DurableCaller` claims and the handles the class declared, opened with them.
    held: HandlerCx<'r, DurableCaller>,
    object: ObjectStorage<'r>,
}

impl std::fmt::Debug for ObjectCx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectCx").finish_non_exhaustive()
    }
}

impl<'r> std::ops::Deref for ObjectCx<'r> {
    type Target = HandlerCx<'r, DurableCaller>;
    fn deref(&self) -> &HandlerCx<'r, DurableCaller> {
        &self.held
    }
}

impl<'r> std::ops::DerefMut for ObjectCx<'r> {
    fn deref_mut(&mut self) -> &mut HandlerCx<'r, DurableCaller> {
        &mut self.held
    }
}

impl<'r> ObjectCx<'r> {
    /// The object's own storage.
    #[must_use]
    pub fn object_storage(&self) -> ObjectStorage<'r> {
        self.object.clone()
    }
}

/// An object of class `C`, as the generated JavaScript class holds it: the object, its state
/// and the Worker's `Env`, none of which a handler can reach.
pub struct DurableHost<C: DurableClass> {
    object: C,
    state: worker::durable::State,
    env: worker::Env,
}

impl<C: DurableClass> std::fmt::Debug for DurableHost<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DurableHost").field("class", &C::META.class).finish_non_exhaustive()
    }
}

impl<C: DurableClass> DurableHost<C> {
    /// The object the runtime constructs (`new RateLimiter(state, env)`).
    #[must_use]
    pub fn new(state: worker::worker_sys::DurableObjectState, env: worker::Env) -> Self {
        DurableHost { object: C::default(), state: worker::durable::State::from(state), env }
    }

    /// The object's `fetch`: one typed call — the JSON body decoded into `C::Msg`, the handler
    /// run with the object's storage and its declared bindings, `C::Reply` answered as JSON.
    /// Every failure becomes a response (400 for a message that does not decode, the handler's
    /// error otherwise) and a log line.
    ///
    /// # Errors
    /// Never: the `Result` is what the JavaScript glue expects.
    pub async fn fetch(
        &self,
        req: worker::web_sys::Request,
    ) -> Result<worker::wasm_bindgen::JsValue, worker::wasm_bindgen::JsValue> {
        let scope = ();
        let resp = self.serve(&scope, req).await;
        Ok(worker::web_sys::Response::from(resp).into())
    }

    async fn serve<'r>(&'r self, _scope: &'r (), req: worker::web_sys::Request) -> worker::Response {
        let t0 = now_ms();
        let log = Rc::new(LogCx::new(
            crate::log::Ray::of(&req),
            "CALL".to_owned(),
            C::META.class,
            "durable_object",
            crate::__private::quiet_logs(&self.env),
        ));
        let body = match crate::request::Request::read_body(&req, crate::request::DEFAULT_BODY_LIMIT).await {
            Ok(b) => b,
            Err(e) => return crate::__private::error_response(&log, &e),
        };
        let msg: C::Msg = match serde_json::from_slice(&body) {
            Ok(m) => m,
            Err(e) => {
                let e = Error::problem(400, "the message does not decode").with_detail(format!(
                    "{}: {}",
                    C::META.class,
                    crate::events::redact_quoted(&e.to_string())
                ));
                log.request(400, now_ms().saturating_sub(t0), "message_undecodable");
                return crate::__private::error_response(&log, &e);
            }
        };
        let claims: Claims<'r, DurableCaller> =
            Claims::new(DurableCallerClaims::new(C::META.class, self.state.id().to_string()));
        log.identity(<DurableCaller as crate::identity::Verifier>::NAME, Ok(()), 0);
        let storage = match open_declared(&self.env, C::META.storage, &claims, &log) {
            Ok(h) => h,
            Err(e) => {
                log.request(500, now_ms().saturating_sub(t0), "storage_unavailable");
                return crate::__private::error_response(&log, &e);
            }
        };
        let object = ObjectStorage::open(&self.state, C::META.class, &claims, log.clone());
        let cx = ObjectCx { held: HandlerCx::new(claims, storage), object };
        let reply = match self.object.call(msg, cx).await {
            Ok(reply) => serde_json::to_vec(&reply)
                .map_err(|e| Error::internal(format!("{}: the reply does not serialize: {e}", C::META.class))),
            Err(e) => Err(e),
        };
        match reply {
            Ok(bytes) => {
                let headers = worker::Headers::new();
                let _ = headers.set("content-type", "application/json");
                log.request(200, now_ms().saturating_sub(t0), "handled");
                worker::ResponseBuilder::new().with_status(200).with_headers(headers).fixed(bytes)
            }
            Err(e) => {
                log.request(e.status(), now_ms().saturating_sub(t0), "handler_error");
                crate::__private::error_response(&log, &e)
            }
        }
    }
}
