//! Workers Static Assets: the files deployed with the Worker (`[assets] directory`), read
//! through their binding (`env.ASSETS`) by a route that declared `storage(Assets)`.
//!
//! Static files go through identity like everything else: a route serving them declares its
//! identity (`Public` for the site's CSS and images, the admin verifier for `/admin/app.js`),
//! and `app!` requires `run_worker_first = true` in `[assets]` — otherwise the platform would
//! answer a request for a file *before* the Worker, and so before any verifier. The handle has
//! no "read any path": [`Assets::serve`] answers with the file at the request's *own* path, so
//! a file is only ever served by the route the router picks for its path — the most specific
//! one, with that route's verifier (a public `/static/*` cannot serve `/admin/app.js`). Each read logs
//! one storage line (`op: "get"`, the answer's status), never the path's query string.

use std::marker::PhantomData;
use std::rc::Rc;

use super::open::{Opens, Site};
use super::StorageKind;
use crate::error::Error;
use crate::log::{now_ms, LogCx};
use crate::request::Request;

/// The request headers passed on to the assets binding: conditional and range requests, and the
/// encodings the client accepts (the binding answers `304`, `206` and compressed bodies itself).
pub const FORWARDED_HEADERS: [&str; 6] =
    ["if-none-match", "if-modified-since", "if-match", "range", "if-range", "accept-encoding"];

/// The static assets handle, valid for the current request.
#[derive(Clone)]
pub struct Assets<'r> {
    fetcher: Rc<worker::Fetcher>,
    binding: &'static str,
    origin: Rc<str>,
    log: Rc<LogCx>,
    scope: PhantomData<fn(&'r ()) -> &'r ()>,
}

impl std::fmt::Debug for Assets<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Assets").field("binding", &self.binding).finish_non_exhaustive()
    }
}

impl<'r> Opens<'r> for Assets<'r> {
    const KIND: StorageKind = StorageKind::Assets;

    /// Opens the binding — only with the route's claims in hand, and only for a request.
    fn open<V: crate::identity::Verifier>(
        site: &Site<'_>,
        binding: &'static str,
        _proof: &crate::identity::Claims<'r, V>,
        log: Rc<LogCx>,
    ) -> Result<Self, Error> {
        let Some(origin) = site.origin else {
            return Err(Error::internal(
                "static assets are for routes: a platform event or object call has no request",
            ));
        };
        let fetcher =
            site.env.assets(binding).map_err(|e| Error::internal(format!("Assets binding {binding}: {e}")))?;
        Ok(Assets { fetcher: Rc::new(fetcher), binding, origin: Rc::from(origin), log, scope: PhantomData })
    }
}

/// Why `path` cannot name an asset: not absolute, `//` or `\` (another host), control
/// characters, a `?` or `#`, or a `.`/`..` segment.
pub(crate) fn path_problem(path: &str) -> Option<&'static str> {
    let b = path.as_bytes();
    if b.first() != Some(&b'/') {
        return Some("an asset path starts with `/`");
    }
    if b.iter().any(|&c| c < b' ' || c == 0x7f || matches!(c, b'\\' | b'?' | b'#')) {
        return Some("an asset path holds no control characters, `\\`, `?` or `#`");
    }
    if path.split('/').skip(1).any(|s| matches!(s, "." | ".." | "%2e" | "%2E" | "%2e%2e" | "%2E%2E" | ".%2e" | "%2e."))
    {
        return Some("an asset path has no `.` or `..` segments");
    }
    if path.starts_with("//") {
        return Some("an asset path may not start with `//`");
    }
    None
}

impl<'r> Assets<'r> {
    /// The binding name this handle was opened from.
    #[must_use]
    pub fn binding(&self) -> &'static str {
        self.binding
    }

    /// Answers `req` with the asset at its own path (`GET` and `HEAD`; conditional and range
    /// headers are passed on, so the binding's `304`/`206` come back as they are). A path with
    /// no asset is the binding's answer too (a `404`, unless `[assets] not_found_handling` says
    /// otherwise).
    ///
    /// # Errors
    /// 405 for other methods; a 500 (detail logged) when the binding fails.
    pub async fn serve(&self, req: &Request) -> Result<worker::Response, Error> {
        let method = req.method();
        if method != "GET" && method != "HEAD" {
            return Err(Error::new(405, "method not allowed").with_detail("static assets are read with GET or HEAD"));
        }
        let forwarded: Vec<(&str, String)> =
            FORWARDED_HEADERS.iter().filter_map(|h| req.header(h).map(|v| (*h, v))).collect();
        self.fetch(req.path(), method, &forwarded).await
    }

    async fn fetch(&self, path: &str, method: &str, headers: &[(&str, String)]) -> Result<worker::Response, Error> {
        if let Some(why) = path_problem(path) {
            return Err(Error::internal(format!("asset path refused: {why}")));
        }
        let t0 = now_ms();
        let h = worker::Headers::new();
        for (k, v) in headers {
            h.set(k, v).map_err(|e| Error::internal(format!("asset request header {k}: {e}")))?;
        }
        let mut init = worker::RequestInit::new();
        init.with_method(if method == "HEAD" { worker::Method::Head } else { worker::Method::Get }).with_headers(h);
        let url = format!("{}{path}", self.origin);
        let result = self.fetcher.fetch(url, Some(init)).await;
        let ms = now_ms().saturating_sub(t0);
        match result {
            Ok(resp) => {
                let status = serde_json::Value::from(resp.status_code());
                self.log.storage_with("Assets", self.binding, "get", ms, None, &[("status", status)]);
                Ok(resp)
            }
            Err(e) => {
                let err = e.to_string();
                self.log.storage("Assets", self.binding, "get", ms, Some(&err));
                Err(Error::internal(format!("Assets binding {}: {err}", self.binding)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::path_problem;

    #[test]
    fn asset_paths_are_plain_absolute_paths() {
        for ok in ["/", "/static/site.css", "/admin/app.js", "/favicon.svg", "/a/b.c/d"] {
            assert_eq!(path_problem(ok), None, "{ok}");
        }
        for bad in [
            "",
            "static/site.css",
            "//evil.example/x",
            "/a/../admin/app.js",
            "/a/./b",
            "/a/%2e%2e/b",
            "/a\\b",
            "/a?x=1",
            "/a#f",
            "/a\nb",
        ] {
            assert!(path_problem(bad).is_some(), "{bad:?}");
        }
    }
}
