//! Durable Object stubs: address an object by name or by hex id and send it a request.

use std::marker::PhantomData;
use std::rc::Rc;

use crate::error::Error;
use crate::log::{now_ms, LogCx};

/// A Durable Object namespace handle, valid for the current request.
#[derive(Clone)]
pub struct DurableObject<'r> {
    ns: Rc<worker::ObjectNamespace>,
    binding: &'static str,
    log: Rc<LogCx>,
    scope: PhantomData<fn(&'r ()) -> &'r ()>,
}

impl std::fmt::Debug for DurableObject<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DurableObject").field("binding", &self.binding).finish_non_exhaustive()
    }
}

/// A stub for one object of a [`DurableObject`] namespace, valid for the current request.
pub struct DoStub<'r> {
    stub: worker::Stub,
    binding: &'static str,
    log: Rc<LogCx>,
    scope: PhantomData<fn(&'r ()) -> &'r ()>,
}

impl std::fmt::Debug for DoStub<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DoStub").field("binding", &self.binding).finish_non_exhaustive()
    }
}

/// What a Durable Object answered to [`DoStub::fetch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoResponse {
    /// The status code.
    pub status: u16,
    /// The body.
    pub body: Vec<u8>,
}

impl<'r> DurableObject<'r> {
    /// Opens the binding — only with the route's claims in hand.
    pub(crate) fn open<V: crate::identity::Verifier>(
        env: &worker::Env,
        binding: &'static str,
        _proof: &crate::identity::Claims<'r, V>,
        log: Rc<LogCx>,
    ) -> Result<DurableObject<'r>, Error> {
        let ns = env
            .durable_object(binding)
            .map_err(|e| Error::internal(format!("Durable Object binding {binding}: {e}")))?;
        Ok(DurableObject { ns: Rc::new(ns), binding, log, scope: PhantomData })
    }

    /// The binding name this handle was opened from.
    #[must_use]
    pub fn binding(&self) -> &'static str {
        self.binding
    }

    fn stub(&self, op: &str, r: worker::Result<worker::Stub>) -> Result<DoStub<'r>, Error> {
        let err = r.as_ref().err().map(ToString::to_string);
        self.log.storage("DurableObject", self.binding, op, 0, err.as_deref());
        let stub = r.map_err(|e| Error::internal(format!("Durable Object {op}: {e}")))?;
        Ok(DoStub { stub, binding: self.binding, log: self.log.clone(), scope: PhantomData })
    }

    /// The stub of the object named `name` (the same name always reaches the same object).
    ///
    /// # Errors
    /// When the platform refuses the name.
    pub fn stub_by_name(&self, name: &str) -> Result<DoStub<'r>, Error> {
        self.stub("stub_by_name", self.ns.id_from_name(name).and_then(|id| id.get_stub()))
    }

    /// The stub of the object with hex id `hex` (as made by this namespace).
    ///
    /// # Errors
    /// When `hex` is not an id of this namespace.
    pub fn stub_by_id(&self, hex: &str) -> Result<DoStub<'r>, Error> {
        self.stub("stub_by_id", self.ns.id_from_string(hex).and_then(|id| id.get_stub()))
    }
}

impl DoStub<'_> {
    /// Sends `method path` (a `/`-rooted path and query) with `body` to the object and reads
    /// its answer.
    ///
    /// # Errors
    /// A path not starting with `/`, or when the object cannot be reached.
    pub async fn fetch(&self, method: &str, path: &str, body: Option<Vec<u8>>) -> Result<DoResponse, Error> {
        if !path.starts_with('/') || path.starts_with("//") {
            return Err(Error::internal(format!("Durable Object fetch path {path:?} must start with one `/`")));
        }
        let t0 = now_ms();
        let r = async {
            let mut init = worker::RequestInit::new();
            init.with_method(worker::Method::from(method.to_ascii_uppercase()));
            if let Some(b) = body {
                init.with_body(Some(worker::js_sys::Uint8Array::from(b.as_slice()).into()));
            }
            let req = worker::Request::new_with_init(&format!("https://durable-object{path}"), &init)?;
            let mut resp = self.stub.fetch_with_request(req).await?;
            Ok(DoResponse { status: resp.status_code(), body: resp.bytes().await? })
        }
        .await;
        let err = r.as_ref().err().map(ToString::to_string);
        self.log.storage("DurableObject", self.binding, "fetch", now_ms().saturating_sub(t0), err.as_deref());
        r.map_err(|e: worker::Error| Error::internal(format!("Durable Object fetch: {e}")))
    }
}
