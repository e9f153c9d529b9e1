//! A Durable Object's own transactional storage, for classes written with layers
//! (`#[durable_object]`): typed get/put/delete/list, each logged like every other storage op.

use std::marker::PhantomData;
use std::rc::Rc;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::Error;
use crate::log::{now_ms, LogCx};

/// The storage of the object a call reached, valid for that call. Only the object's entry point
/// opens it, with the call's `Claims<'_, DurableCaller>` in hand; like every handle it cannot
/// outlive the call. Each operation is atomic on its own (the platform's storage API).
pub struct ObjectStorage<'r> {
    storage: Rc<worker::durable::Storage>,
    class: &'static str,
    log: Rc<LogCx>,
    scope: PhantomData<fn(&'r ()) -> &'r ()>,
}

impl Clone for ObjectStorage<'_> {
    fn clone(&self) -> Self {
        ObjectStorage {
            storage: Rc::clone(&self.storage),
            class: self.class,
            log: self.log.clone(),
            scope: PhantomData,
        }
    }
}

impl std::fmt::Debug for ObjectStorage<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectStorage").field("class", &self.class).finish_non_exhaustive()
    }
}

/// Most keys one [`ObjectStorage::list`] returns.
pub const MAX_LIST: usize = 1000;

impl<'r> ObjectStorage<'r> {
    /// Opens the object's storage — only with the call's claims in hand.
    pub(crate) fn open<V: crate::identity::Verifier>(
        state: &worker::durable::State,
        class: &'static str,
        _proof: &crate::identity::Claims<'r, V>,
        log: Rc<LogCx>,
    ) -> ObjectStorage<'r> {
        ObjectStorage { storage: Rc::new(state.storage()), class, log, scope: PhantomData }
    }

    fn done<T>(&self, op: &str, t0: u64, res: worker::Result<T>) -> Result<T, Error> {
        let err = res.as_ref().err().map(ToString::to_string);
        self.log.storage("ObjectStorage", self.class, op, now_ms().saturating_sub(t0), err.as_deref());
        res.map_err(|e| Error::internal(format!("Durable Object storage {op}: {e}")))
    }

    /// The value stored under `key`, or `None`.
    ///
    /// # Errors
    /// When the storage fails or the value is not a `T`.
    pub async fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, Error> {
        let t0 = now_ms();
        let r = self.storage.get::<T>(key).await;
        self.done("get", t0, r)
    }

    /// Stores `value` under `key`.
    ///
    /// # Errors
    /// When the storage fails or `value` does not serialize.
    pub async fn put<T: Serialize>(&self, key: &str, value: &T) -> Result<(), Error> {
        let t0 = now_ms();
        let r = self.storage.put(key, value).await;
        self.done("put", t0, r)
    }

    /// Deletes `key`; whether it existed.
    ///
    /// # Errors
    /// When the storage fails.
    pub async fn delete(&self, key: &str) -> Result<bool, Error> {
        let t0 = now_ms();
        let r = self.storage.delete(key).await;
        self.done("delete", t0, r)
    }

    /// The keys starting with `prefix`, in order, at most `limit` (capped at [`MAX_LIST`]).
    ///
    /// # Errors
    /// When the storage fails.
    pub async fn list(&self, prefix: &str, limit: usize) -> Result<Vec<String>, Error> {
        let t0 = now_ms();
        let opts = worker::durable::ListOptions::new().prefix(prefix).limit(limit.clamp(1, MAX_LIST));
        let r = self.storage.list_with_options(opts).await.map(|map| {
            map.keys().into_iter().filter_map(|k| k.ok().and_then(|k| k.as_string())).collect::<Vec<String>>()
        });
        self.done("list", t0, r)
    }
}
