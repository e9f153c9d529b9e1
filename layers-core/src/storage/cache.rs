//! The Cache API: match, put and delete, keyed only under the Worker's own origin.
//!
//! A [`CacheKey`] is made by [`Cache::key`] from a path and query alone; the origin is the
//! one the request arrived on, so a handler cannot write (or read) entries for another host.

use std::marker::PhantomData;
use std::rc::Rc;

use super::open::{Opens, Site};
use super::StorageKind;
use crate::error::Error;
use crate::log::{now_ms, LogCx};

/// The `storage(Cache)` binding name that means the zone's default cache (`caches.default`).
pub const DEFAULT_CACHE: &str = "default";

/// A Cache API handle (the default cache or a named one), valid for the current request.
#[derive(Clone)]
pub struct Cache<'r> {
    name: &'static str,
    origin: Rc<str>,
    log: Rc<LogCx>,
    scope: PhantomData<fn(&'r ()) -> &'r ()>,
}

impl std::fmt::Debug for Cache<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache").field("name", &self.name).finish_non_exhaustive()
    }
}

/// A cache key: an absolute URL on the Worker's own origin. Only [`Cache::key`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheKey {
    url: String,
}

impl CacheKey {
    /// The absolute URL the entry is stored under.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }
}

/// Why a path was refused as a cache key: it must be `/`-rooted, not `//` or `/\` (which a URL
/// parser reads as another host), and hold no whitespace, control characters, `\` or `#`.
pub(crate) fn key_problem(path_and_query: &str) -> Option<&'static str> {
    let b = path_and_query.as_bytes();
    if b.first() != Some(&b'/') {
        return Some("a cache key is a path starting with `/`");
    }
    if matches!(b.get(1), Some(b'/' | b'\\')) {
        return Some("a cache key may not start with `//` or `/\\` (that names another host)");
    }
    if b.iter().any(|&c| c <= b' ' || c == 0x7f || c == b'\\' || c == b'#') {
        return Some("a cache key holds no whitespace, control characters, `\\` or `#`");
    }
    None
}

impl<'r> Opens<'r> for Cache<'r> {
    const KIND: StorageKind = StorageKind::Cache;

    /// Opens the cache — only with the route's claims in hand, under the request's own origin
    /// (`scheme://host[:port]`); outside a route there is none, and it does not open.
    fn open<V: crate::identity::Verifier>(
        site: &Site<'_>,
        binding: &'static str,
        _proof: &crate::identity::Claims<'r, V>,
        log: Rc<LogCx>,
    ) -> Result<Self, Error> {
        let Some(origin) = site.origin else {
            return Err(Error::internal("the Cache API is for routes: a platform event or object call has no origin"));
        };
        Ok(Cache { name: binding, origin: Rc::from(origin), log, scope: PhantomData })
    }
}

impl<'r> Cache<'r> {
    /// The cache's name (`"default"` for the zone's default cache).
    #[must_use]
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// A key for `path_and_query` (e.g. `/posts/hello?lang=en`) under this Worker's origin.
    ///
    /// # Errors
    /// A 500 naming the problem when the path could address another host or is malformed
    /// (see the rules on [`CacheKey`]); keys are built from trusted code, not raw input.
    pub fn key(&self, path_and_query: &str) -> Result<CacheKey, Error> {
        if let Some(p) = key_problem(path_and_query) {
            return Err(Error::internal(format!("cache key {path_and_query:?} refused: {p}")));
        }
        let url = format!("{}{path_and_query}", self.origin);
        // Belt and braces: the parsed URL must still be on our origin.
        match worker::Url::parse(&url) {
            Ok(u) if u.origin().ascii_serialization() == *self.origin => Ok(CacheKey { url: u.to_string() }),
            _ => Err(Error::internal(format!("cache key {path_and_query:?} refused: not on the Worker's origin"))),
        }
    }

    async fn inner(&self) -> worker::Cache {
        if self.name == DEFAULT_CACHE {
            worker::Cache::default()
        } else {
            worker::Cache::open(self.name.to_owned()).await
        }
    }

    fn done<T>(&self, op: &str, t0: u64, res: worker::Result<T>) -> Result<T, Error> {
        let err = res.as_ref().err().map(ToString::to_string);
        self.log.storage("Cache", self.name, op, now_ms().saturating_sub(t0), err.as_deref());
        res.map_err(|e| Error::internal(format!("Cache {op}: {e}")))
    }

    /// The response cached under `key`, if any.
    ///
    /// # Errors
    /// When the Cache API fails.
    pub async fn match_(&self, key: &CacheKey) -> Result<Option<worker::Response>, Error> {
        let t0 = now_ms();
        let r = self.inner().await.get(key.url.clone(), false).await;
        self.done("match", t0, r)
    }

    /// Stores a copy of `response` under `key` (it needs a `cache-control` with `max-age` or
    /// `s-maxage`; responses with `set-cookie` are not stored by the platform). `response`
    /// itself stays usable.
    ///
    /// # Errors
    /// When the response cannot be copied or the Cache API fails.
    pub async fn put(&self, key: &CacheKey, response: &mut worker::Response) -> Result<(), Error> {
        let t0 = now_ms();
        let r = match response.cloned() {
            Ok(copy) => self.inner().await.put(key.url.clone(), copy).await,
            Err(e) => Err(e),
        };
        self.done("put", t0, r)
    }

    /// Deletes the entry under `key`; `true` when there was one.
    ///
    /// # Errors
    /// When the Cache API fails.
    pub async fn delete(&self, key: &CacheKey) -> Result<bool, Error> {
        let t0 = now_ms();
        let r = self.inner().await.delete(key.url.clone(), false).await;
        self.done("delete", t0, r).map(|o| matches!(o, worker::CacheDeletionOutcome::Success))
    }
}

#[cfg(test)]
mod tests {
    use super::key_problem;

    #[test]
    fn keys_stay_on_the_origin() {
        assert_eq!(key_problem("/posts/hello?lang=en"), None);
        assert_eq!(key_problem("/"), None);
        for bad in
            ["", "posts", "//evil.example/x", "/\\evil.example", "/a b", "/a#frag", "/a\\b", "/a\nb", "http://x/"]
        {
            assert!(key_problem(bad).is_some(), "{bad:?} accepted");
        }
    }
}
