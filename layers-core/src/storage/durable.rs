//! Durable Object stubs: address an object of a class written with layers by name or by hex id,
//! and call it with the class's typed message.

use std::marker::PhantomData;
use std::rc::Rc;

use super::open::{Opens, Site};
use super::StorageKind;
use crate::durable_object::DurableClass;
use crate::error::Error;
use crate::log::{now_ms, LogCx};

/// A Durable Object namespace as opened, before the handler's parameter names its class.
#[derive(Clone)]
pub(crate) struct DurableBinding<'r> {
    ns: Rc<worker::ObjectNamespace>,
    binding: &'static str,
    log: Rc<LogCx>,
    scope: PhantomData<fn(&'r ()) -> &'r ()>,
}

impl<'r> Opens<'r> for DurableBinding<'r> {
    const KIND: StorageKind = StorageKind::DurableObject;

    /// Opens the binding — only with the handler's claims in hand.
    fn open<V: crate::identity::Verifier>(
        site: &Site<'_>,
        binding: &'static str,
        _proof: &crate::identity::Claims<'r, V>,
        log: Rc<LogCx>,
    ) -> Result<Self, Error> {
        let ns = site
            .env
            .durable_object(binding)
            .map_err(|e| Error::internal(format!("Durable Object binding {binding}: {e}")))?;
        Ok(DurableBinding { ns: Rc::new(ns), binding, log, scope: PhantomData })
    }
}

impl<'r> DurableBinding<'r> {
    /// The handle, typed by the class the handler's parameter names (`app!` checks that it is
    /// the class wrangler.toml binds).
    pub(crate) fn typed<C: DurableClass>(self) -> DurableObject<'r, C> {
        DurableObject { inner: self, class: PhantomData }
    }
}

/// A Durable Object namespace handle of class `C` (a `#[durable_object]` class), valid for the
/// current request: `limiter: DurableObject<'_, RateLimiter>`. Calls are typed: send `C::Msg`,
/// receive `C::Reply`.
pub struct DurableObject<'r, C: DurableClass> {
    inner: DurableBinding<'r>,
    class: PhantomData<fn() -> C>,
}

impl<C: DurableClass> Clone for DurableObject<'_, C> {
    fn clone(&self) -> Self {
        DurableObject { inner: self.inner.clone(), class: PhantomData }
    }
}

impl<C: DurableClass> std::fmt::Debug for DurableObject<'_, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DurableObject")
            .field("binding", &self.inner.binding)
            .field("class", &C::META.class)
            .finish_non_exhaustive()
    }
}

/// A stub for one object of class `C`, valid for the current request.
pub struct DoStub<'r, C: DurableClass> {
    stub: worker::Stub,
    binding: &'static str,
    log: Rc<LogCx>,
    class: PhantomData<fn() -> C>,
    scope: PhantomData<fn(&'r ()) -> &'r ()>,
}

impl<C: DurableClass> std::fmt::Debug for DoStub<'_, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DoStub").field("binding", &self.binding).field("class", &C::META.class).finish_non_exhaustive()
    }
}

impl<'r, C: DurableClass> DurableObject<'r, C> {
    /// The binding name this handle was opened from.
    #[must_use]
    pub fn binding(&self) -> &'static str {
        self.inner.binding
    }

    fn stub(&self, op: &str, r: worker::Result<worker::Stub>) -> Result<DoStub<'r, C>, Error> {
        let err = r.as_ref().err().map(ToString::to_string);
        self.inner.log.storage("DurableObject", self.inner.binding, op, 0, err.as_deref());
        let stub = r.map_err(|e| Error::internal(format!("Durable Object {op}: {e}")))?;
        Ok(DoStub {
            stub,
            binding: self.inner.binding,
            log: self.inner.log.clone(),
            class: PhantomData,
            scope: PhantomData,
        })
    }

    /// The stub of the object named `name` (the same name always reaches the same object).
    ///
    /// # Errors
    /// When the platform refuses the name.
    pub fn stub_by_name(&self, name: &str) -> Result<DoStub<'r, C>, Error> {
        self.stub("stub_by_name", self.inner.ns.id_from_name(name).and_then(|id| id.get_stub()))
    }

    /// The stub of the object with hex id `hex` (as made by this namespace).
    ///
    /// # Errors
    /// When `hex` is not an id of this namespace.
    pub fn stub_by_id(&self, hex: &str) -> Result<DoStub<'r, C>, Error> {
        self.stub("stub_by_id", self.inner.ns.id_from_string(hex).and_then(|id| id.get_stub()))
    }
}

impl<C: DurableClass> DoStub<'_, C> {
    /// Sends `msg` to the object and returns its reply.
    ///
    /// # Errors
    /// When the object cannot be reached (500), when it refuses the call (its status, with the
    /// public message it gave), or when its reply does not decode (500).
    pub async fn call(&self, msg: &C::Msg) -> Result<C::Reply, Error> {
        let t0 = now_ms();
        let body = serde_json::to_vec(msg).map_err(|e| {
            Error::internal(format!("Durable Object {}: the message does not serialize: {e}", self.binding))
        })?;
        let r = async {
            let mut init = worker::RequestInit::new();
            init.with_method(worker::Method::Post);
            init.with_body(Some(worker::js_sys::Uint8Array::from(body.as_slice()).into()));
            let headers = worker::Headers::new();
            headers.set("content-type", "application/json")?;
            init.with_headers(headers);
            let req = worker::Request::new_with_init("https://durable-object/call", &init)?;
            let mut resp = self.stub.fetch_with_request(req).await?;
            Ok((resp.status_code(), resp.bytes().await?))
        }
        .await;
        let err = r.as_ref().err().map(ToString::to_string);
        self.log.storage("DurableObject", self.binding, "call", now_ms().saturating_sub(t0), err.as_deref());
        let (status, bytes) = r.map_err(|e: worker::Error| Error::internal(format!("Durable Object call: {e}")))?;
        match status {
            200 => serde_json::from_slice(&bytes).map_err(|e| {
                Error::internal(format!(
                    "Durable Object {} ({}): the reply does not decode: {e}",
                    self.binding,
                    C::META.class
                ))
            }),
            400..=499 => Err(Error::new(status, public_message(&bytes)).with_detail(format!(
                "Durable Object {} ({}) answered {status}",
                self.binding,
                C::META.class
            ))),
            _ => Err(Error::internal(format!("Durable Object {} ({}) answered {status}", self.binding, C::META.class))),
        }
    }
}

/// The public message of an error answer from a layers object: the `detail` of its
/// problem+json, else its plain text (at most 200 characters).
fn public_message(body: &[u8]) -> String {
    let from_problem = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("detail").and_then(serde_json::Value::as_str).map(str::to_owned));
    from_problem.unwrap_or_else(|| String::from_utf8_lossy(body).trim().to_owned()).chars().take(200).collect()
}

/// The compile-time check that a typed [`DurableObject<'_, C>`](DurableObject) handle's binding
/// is bound to class `C` in wrangler.toml. `app!` implements [`BindingOf`](typecheck::BindingOf) for its table of
/// `[[durable_objects.bindings]]`; every handler taking a typed handle has an inherent
/// `__layers_durable_check` that `app!` names with that table.
pub mod typecheck {
    /// Implemented by an app's table for each `[[durable_objects.bindings]] name`, keyed by
    /// `name_hash` of the binding.
    #[diagnostic::on_unimplemented(
        message = "this handler's `storage(DurableObject = …)` binding is not a `[[durable_objects.bindings]] name` of wrangler's config",
        note = "declare the binding in wrangler's config (`[[durable_objects.bindings]] name = \"…\"`, `class_name = \"…\"`) or name a declared one"
    )]
    pub trait BindingOf<const BINDING: u64> {
        /// The `#[durable_object]` class listed in `app!{{ durable_objects: [..] }}` whose name is
        /// the binding's `class_name`, or [`UnlistedClass`].
        type Class;
        /// A type named after the binding and its class, for the error message.
        type Marker;
    }

    /// The binding's class is another script's, or not listed in `app!{ durable_objects: [..] }`.
    #[derive(Debug)]
    pub struct UnlistedClass;

    /// The handle's class is the binding's.
    #[diagnostic::on_unimplemented(
        message = "Durable Object class mismatch: this handler takes `DurableObject<'_, {C}>` through `{W}`, whose class in wrangler's config is `{Self}`",
        label = "calls `{C}`, the binding reaches `{Self}`",
        note = "the binding → class mapping is the `[[durable_objects.bindings]]` of wrangler's config; list the class in `app!{{ durable_objects: [..] }}` and type the handle with it (`UnlistedClass` means the class is another script's or not listed)"
    )]
    pub trait SameClass<C, W> {}
    impl<T, W> SameClass<T, W> for T {}

    /// The check of a handler without a typed Durable Object handle: nothing. A handler with one
    /// has an inherent `__layers_durable_check`, which takes precedence over this one.
    pub trait NoDurableCheck {
        /// Always satisfied.
        fn __layers_durable_check<A>() {}
    }
    impl<T: ?Sized> NoDurableCheck for T {}
}
