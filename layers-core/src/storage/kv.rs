//! Workers KV: get, put (with TTL), delete, list.

use std::marker::PhantomData;
use std::rc::Rc;

use serde::de::DeserializeOwned;

use super::open::{Opens, Site};
use super::StorageKind;
use crate::error::Error;
use crate::log::{now_ms, LogCx};

/// Shortest TTL KV accepts, in seconds.
pub const MIN_TTL_SECS: u64 = 60;

/// Keys under this prefix belong to layers' own caches (the credentials `Federation` obtains):
/// a handler's [`Kv`] can neither read, write, delete nor list them.
pub const RESERVED_PREFIX: &str = "layers:";

fn reserved(key: &str) -> Result<(), Error> {
    if key.starts_with(RESERVED_PREFIX) {
        Err(Error::internal(format!(
            "KV keys under `{RESERVED_PREFIX}` belong to layers' own caches (Federation credentials): use another prefix"
        )))
    } else {
        Ok(())
    }
}

/// The largest value KV stores (25 MiB): past it the decision tree says R2 ("don't use KV for
/// values > 25 MB").
pub const MAX_KV_VALUE_BYTES: usize = 25 * 1024 * 1024;

/// Refuses a value KV would refuse, before the call, with the tree's advice.
fn within_kv_limit(value: &str) -> Result<(), Error> {
    if value.len() > MAX_KV_VALUE_BYTES {
        return Err(Error::internal(format!(
            "KV put: a value of {} bytes; KV holds at most {MAX_KV_VALUE_BYTES} bytes (25 MiB) per value — \
             the decision tree puts larger objects in R2",
            value.len()
        )));
    }
    Ok(())
}

/// A KV namespace handle, valid for the current request.
#[derive(Clone)]
pub struct Kv<'r> {
    store: worker::KvStore,
    binding: &'static str,
    log: Rc<LogCx>,
    scope: PhantomData<fn(&'r ()) -> &'r ()>,
}

impl std::fmt::Debug for Kv<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kv").field("binding", &self.binding).finish_non_exhaustive()
    }
}

/// One page of [`Kv::list`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KvPage {
    /// Key names, in order.
    pub keys: Vec<String>,
    /// Pass to the next call to continue; `None` when this was the last page.
    pub cursor: Option<String>,
}

impl<'r> Opens<'r> for Kv<'r> {
    const KIND: StorageKind = StorageKind::Kv;

    /// Opens the binding — only with the route's claims in hand.
    fn open<V: crate::identity::Verifier>(
        site: &Site<'_>,
        binding: &'static str,
        _proof: &crate::identity::Claims<'r, V>,
        log: Rc<LogCx>,
    ) -> Result<Self, Error> {
        let store = site.env.kv(binding).map_err(|e| Error::internal(format!("KV binding {binding}: {e}")))?;
        Ok(Kv { store, binding, log, scope: PhantomData })
    }
}

impl<'r> Kv<'r> {
    /// The binding name this handle was opened from.
    #[must_use]
    pub fn binding(&self) -> &'static str {
        self.binding
    }

    fn done<T>(&self, op: &str, t0: u64, res: Result<T, worker::KvError>) -> Result<T, Error> {
        let err = res.as_ref().err().map(ToString::to_string);
        self.log.storage("KV", self.binding, op, now_ms().saturating_sub(t0), err.as_deref());
        res.map_err(|e| Error::internal(format!("KV {op}: {e}")))
    }

    /// The text value of `key`.
    ///
    /// # Errors
    /// When KV fails, or `key` is under [`RESERVED_PREFIX`] (so for every method taking a key).
    pub async fn get(&self, key: &str) -> Result<Option<String>, Error> {
        reserved(key)?;
        self.get_any(key).await
    }

    /// [`get`](Self::get) of any key, reserved ones included (layers' own caches).
    pub(crate) async fn get_any(&self, key: &str) -> Result<Option<String>, Error> {
        let t0 = now_ms();
        let r = self.store.get(key).text().await;
        self.done("get", t0, r)
    }

    /// The value of `key`, parsed as JSON.
    ///
    /// # Errors
    /// When KV fails or the value is not `T` as JSON.
    pub async fn get_json<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, Error> {
        reserved(key)?;
        let t0 = now_ms();
        let r = self.store.get(key).json::<T>().await;
        self.done("get", t0, r)
    }

    /// The feature flag `name` (key `flag:<name>`, as `POST /admin/flags/:name` writes it):
    /// on when the value is `on`, off for any other value, `default` when the key is absent.
    ///
    /// Never fails: when KV cannot answer (an outage, a timeout, a key KV refuses), the flag
    /// takes its declared `default`, and the request's log event records the read with outcome
    /// `fallback` and KV's error. A flag read must not take a page down with it.
    pub async fn flag(&self, name: &str, default: bool) -> bool {
        let t0 = now_ms();
        let r = self.store.get(&format!("flag:{name}")).text().await;
        let ms = now_ms().saturating_sub(t0);
        match r {
            Ok(v) => {
                self.log.storage("KV", self.binding, "get", ms, None);
                v.map_or(default, |v| v == "on")
            }
            Err(e) => {
                let fields = [("default", serde_json::Value::from(default))];
                // KV's message, without the JS stack trace that follows it.
                let e = e.to_string();
                let e = e.lines().next().unwrap_or_default();
                self.log.storage_outcome("KV", self.binding, "get", ms, "fallback", Some(e), &fields);
                default
            }
        }
    }

    /// Stores `value` under `key` without expiry.
    ///
    /// # Errors
    /// When KV fails.
    pub async fn put(&self, key: &str, value: &str) -> Result<(), Error> {
        reserved(key)?;
        within_kv_limit(value)?;
        let t0 = now_ms();
        let r = match self.store.put(key, value) {
            Ok(b) => b.execute().await,
            Err(e) => Err(e),
        };
        self.done("put", t0, r)
    }

    /// Stores `value` under `key`, expiring after `ttl_secs` (at least [`MIN_TTL_SECS`]).
    ///
    /// # Errors
    /// A TTL under 60 seconds (KV's minimum), or when KV fails.
    pub async fn put_with_ttl(&self, key: &str, value: &str, ttl_secs: u64) -> Result<(), Error> {
        reserved(key)?;
        self.put_any_with_ttl(key, value, ttl_secs).await
    }

    /// [`put_with_ttl`](Self::put_with_ttl) of any key, reserved ones included.
    pub(crate) async fn put_any_with_ttl(&self, key: &str, value: &str, ttl_secs: u64) -> Result<(), Error> {
        if ttl_secs < MIN_TTL_SECS {
            return Err(Error::internal(format!("KV TTL {ttl_secs}s is below KV's minimum of {MIN_TTL_SECS}s")));
        }
        within_kv_limit(value)?;
        let t0 = now_ms();
        let r = match self.store.put(key, value) {
            Ok(b) => b.expiration_ttl(ttl_secs).execute().await,
            Err(e) => Err(e),
        };
        self.done("put", t0, r)
    }

    /// Deletes `key` (deleting a missing key is not an error).
    ///
    /// # Errors
    /// When KV fails.
    pub async fn delete(&self, key: &str) -> Result<(), Error> {
        reserved(key)?;
        let t0 = now_ms();
        let r = self.store.delete(key).await;
        self.done("delete", t0, r)
    }

    /// Lists keys starting with `prefix`, at most `limit` (1–1000) per page, from `cursor`.
    /// Keys under [`RESERVED_PREFIX`] are never listed (a page may hold fewer keys for them).
    ///
    /// # Errors
    /// When KV fails, or `prefix` is under [`RESERVED_PREFIX`].
    pub async fn list(&self, prefix: &str, limit: u64, cursor: Option<String>) -> Result<KvPage, Error> {
        reserved(prefix)?;
        let t0 = now_ms();
        let mut b = self.store.list().prefix(prefix.to_owned()).limit(limit.clamp(1, 1000));
        if let Some(c) = cursor {
            b = b.cursor(c);
        }
        let r = b.execute().await;
        let page = self.done("list", t0, r)?;
        Ok(KvPage {
            keys: page.keys.into_iter().map(|k| k.name).filter(|k| !k.starts_with(RESERVED_PREFIX)).collect(),
            cursor: if page.list_complete { None } else { page.cursor },
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn reserved_keys_are_refused() {
        for key in ["layers:federation:BackupRole:arn", "layers:", "layers:x"] {
            assert!(super::reserved(key).is_err(), "{key}");
        }
        for key in ["flag:beta", "unsubscribed:a@b", "Layers:x", "xlayers:", ""] {
            assert!(super::reserved(key).is_ok(), "{key}");
        }
    }

    #[test]
    fn values_over_25_mib_are_refused_before_kv() {
        let limit = super::MAX_KV_VALUE_BYTES;
        assert!(super::within_kv_limit(&"x".repeat(limit)).is_ok());
        let e = super::within_kv_limit(&"x".repeat(limit + 1)).unwrap_err();
        assert!(e.detail().unwrap_or_default().contains("R2"), "{e:?}");
    }
}
