//! [`Outbound`]: the outbound HTTP a handler declared, and nothing else.

use std::marker::PhantomData;
use std::rc::Rc;

use super::guard::{prepare, GuardedError, Refused, UrlPolicy};
use super::{check_https_or_loopback, OutboundRequest, OutboundResponse, RedirectMode, SendError};
use crate::error::Error;

/// The response body limit of a request that does not set [`OutboundRequest::max_body`]: 1 MiB.
pub const DEFAULT_MAX_BODY: usize = 1024 * 1024;

/// One outbound declaration of a handler's attribute (`outbound(…)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboundDecl {
    /// `outbound(VAR)`: the service at the URL the var names (its origin only).
    Configured(&'static str),
    /// `outbound(public)` or `outbound(public(allow = VAR))`: user-supplied URLs through the
    /// URL guard, plus the origins listed in the var `allow`, if any.
    Public {
        /// The var listing extra allowed origins (tests and local development).
        allow: Option<&'static str>,
    },
}

impl OutboundDecl {
    /// The var the declaration reads (`app!` checks it is under `[vars]`).
    #[must_use]
    pub const fn var(&self) -> Option<&'static str> {
        match *self {
            OutboundDecl::Configured(v) => Some(v),
            OutboundDecl::Public { allow } => allow,
        }
    }

    /// How the manifest shows it: `URL in var MAIL_URL`, `public URLs (guarded)`, `public URLs
    /// (guarded; allowlist var WEBMENTION_ALLOW_ORIGINS)`.
    #[must_use]
    pub fn label(&self) -> String {
        match self {
            OutboundDecl::Configured(v) => format!("URL in var {v}"),
            OutboundDecl::Public { allow: None } => "public URLs (guarded)".to_owned(),
            OutboundDecl::Public { allow: Some(v) } => format!("public URLs (guarded; allowlist var {v})"),
        }
    }
}

type Lookup = Rc<dyn Fn(&str) -> Option<String>>;

/// The outbound HTTP of a handler: only what its attribute's `outbound(…)` declares. Made by
/// the framework for a handler that takes one.
///
/// A handler that calls another service says so in its attribute, as it says which storage it
/// opens, and takes an `Outbound<'_>` parameter:
///
/// * `outbound(MAIL_URL)` — the service whose URL the var `MAIL_URL` holds. The URL must be
///   `https://` (or `http://` on loopback, for local stand-ins) without a user name; requests
///   may go to that URL's **origin** only. `app!` checks the var is under `[vars]` in every
///   deployment, like the names of `vars(…)`.
/// * `outbound(public)` — URLs that came from users (a webmention's source, a link preview):
///   each request goes through [`UrlPolicy::strict`] (no IP literals, no local names, https on
///   port 443 only), redirects are never followed, and the body is capped.
/// * `outbound(public(allow = VAR))` — the same, plus the exact origins listed in the var `VAR`
///   (comma-separated; tests and local development point at loopback stubs that way; leave it
///   unset in production).
///
/// Every request is sent with `redirect: "manual"`, the
/// [`DEFAULT_TIMEOUT_MS`](super::DEFAULT_TIMEOUT_MS) timeout, and a body limit
/// ([`OutboundRequest::max_body`], default [`DEFAULT_MAX_BODY`]). A URL no declaration covers is
/// refused before a byte is sent ([`Refused::Undeclared`]).
///
/// A handler has no other way to make a request: the Workers `fetch` is not reachable from an
/// app crate (`cargo xtask audit` checks the app does not depend on `worker`, `web-sys` or
/// `wasm-bindgen`), so an undeclared outbound call does not compile. The manifest lists each
/// entry point's outbound calls and the diagram draws them.
#[derive(Clone)]
pub struct Outbound<'r> {
    decls: &'static [OutboundDecl],
    var: Lookup,
    fetch: GuardedFetch,
    scope: PhantomData<fn(&'r ()) -> &'r ()>,
}

impl std::fmt::Debug for Outbound<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbound").field("declared", &self.decls).finish_non_exhaustive()
    }
}

impl<'r> Outbound<'r> {
    /// The Worker's outbound calls for `decls`, reading the declared vars from `env`.
    pub(crate) fn new(env: worker::Env, decls: &'static [OutboundDecl]) -> Outbound<'r> {
        // Only the declared vars are read; `app!` checks each is under `[vars]`, so none is a
        // secret the app uses.
        let var: Lookup = Rc::new(move |name: &str| {
            if decls.iter().any(|d| d.var() == Some(name)) {
                env.var(name).ok().map(|v| v.to_string())
            } else {
                None
            }
        });
        Outbound { decls, var, fetch: url_free_fetch(), scope: PhantomData }
    }

    /// As [`new`](Outbound::new), with the vars and the fetch given (native tests).
    #[cfg(test)]
    pub(crate) fn with(decls: &'static [OutboundDecl], var: Lookup, fetcher: super::Fetcher) -> Outbound<'r> {
        let fetch: GuardedFetch = Rc::new(move |r: OutboundRequest| -> GuardedFuture {
            let f = fetcher(r);
            Box::pin(async move { f.await.map_err(GuardedError::Network) })
        });
        Outbound { decls, var, fetch, scope: PhantomData }
    }

    /// What the attribute declared.
    #[must_use]
    pub fn declared(&self) -> &'static [OutboundDecl] {
        self.decls
    }

    /// The URL in the declared var `var` (`outbound(VAR)`), checked: `https://` (or `http://`
    /// on loopback), without a user name.
    ///
    /// # Errors
    /// 503 (detail starting with the var's name) when the var is not declared with
    /// `outbound(VAR)`, unset, empty, or not an acceptable URL.
    pub fn url(&self, var: &str) -> Result<String, Error> {
        let unavailable = |why: String| Error::new(503, "an outbound service is not configured").with_detail(why);
        if !self.decls.iter().any(|d| matches!(d, OutboundDecl::Configured(v) if *v == var)) {
            return Err(unavailable(format!("{var} is not declared with `outbound({var})`")));
        }
        let url =
            (self.var)(var).filter(|u| !u.trim().is_empty()).ok_or_else(|| unavailable(format!("{var} is unset")))?;
        configured_origin(&url).map_err(|why| unavailable(format!("{var} {why}")))?;
        Ok(url)
    }

    /// Sends `req` if a declaration covers its URL: the origin of an `outbound(VAR)` URL, or any
    /// URL [`UrlPolicy`] accepts under `outbound(public…)`. Redirects are never followed (a 3xx
    /// comes back as is), the body is capped at `req.max_body` (default [`DEFAULT_MAX_BODY`]).
    ///
    /// # Errors
    /// [`GuardedError::Refused`] when no declaration covers the URL (nothing is sent), and the
    /// fetch's own errors: too large, timeout, network.
    pub async fn send(&self, mut req: OutboundRequest) -> Result<OutboundResponse, GuardedError> {
        let max_body = req.max_body.unwrap_or(DEFAULT_MAX_BODY);
        if self.configured_covers(&req.url) {
            req.redirect = RedirectMode::Manual;
            req.max_body = Some(max_body);
            return self.fetch_capped(req, max_body).await;
        }
        let Some(allow) = self.decls.iter().find_map(|d| match d {
            OutboundDecl::Public { allow } => Some(*allow),
            OutboundDecl::Configured(_) => None,
        }) else {
            return Err(GuardedError::Refused(Refused::Undeclared));
        };
        let policy = UrlPolicy::from_var(allow.and_then(|v| (self.var)(v)).as_deref());
        let req = prepare(&policy, req, max_body)?;
        self.fetch_capped(req, max_body).await
    }

    /// Sends `req`; a body longer than `max_body` is refused here too.
    async fn fetch_capped(&self, req: OutboundRequest, max_body: usize) -> Result<OutboundResponse, GuardedError> {
        let resp = (self.fetch)(req).await?;
        if resp.body.len() > max_body {
            return Err(GuardedError::TooLarge { limit: max_body });
        }
        Ok(resp)
    }

    /// Whether `url` is on the origin of one of the configured (`outbound(VAR)`) URLs.
    fn configured_covers(&self, url: &str) -> bool {
        let Ok(target) = configured_origin(url) else { return false };
        self.decls.iter().any(|d| match d {
            OutboundDecl::Configured(v) => {
                (self.var)(v).and_then(|u| configured_origin(&u).ok()).is_some_and(|o| o == target)
            }
            OutboundDecl::Public { .. } => false,
        })
    }
}

type GuardedFuture = std::pin::Pin<Box<dyn std::future::Future<Output = Result<OutboundResponse, GuardedError>>>>;
/// A fetch whose errors keep their kind (a timeout stays a timeout, a cut-off body `TooLarge`).
type GuardedFetch = Rc<dyn Fn(OutboundRequest) -> GuardedFuture>;

/// The Workers fetch, with errors that never repeat the URL (a configured URL may carry a key in
/// its query; a user's URL is the user's).
fn url_free_fetch() -> GuardedFetch {
    Rc::new(|r: OutboundRequest| -> GuardedFuture {
        Box::pin(async move {
            super::send_inner(r).await.map_err(|e| match e {
                SendError::Request(m) => GuardedError::Network(format!("the request could not be built: {m}")),
                SendError::Network(m) => GuardedError::Network(m),
                SendError::Timeout => GuardedError::Timeout,
                SendError::TooLarge(limit) => GuardedError::TooLarge { limit },
            })
        })
    })
}

/// The origin of a configured URL: `https://` (or `http://` on loopback), no user name.
fn configured_origin(url: &str) -> Result<String, &'static str> {
    check_https_or_loopback(url, "the URL").map_err(|_| "must be an https:// URL (or http:// on loopback)")?;
    let parsed = worker::Url::parse(url).map_err(|_| "is not a URL")?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("must not carry a user name or password");
    }
    Ok(parsed.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;
    use crate::outbound::{FetchFuture, Fetcher};

    type Seen = Rc<RefCell<Vec<OutboundRequest>>>;

    fn outbound(
        decls: &'static [OutboundDecl],
        vars: &'static [(&'static str, &'static str)],
    ) -> (Outbound<'static>, Seen) {
        let seen: Seen = Rc::default();
        let s = Rc::clone(&seen);
        let fetcher: Fetcher = Rc::new(move |r: OutboundRequest| -> FetchFuture {
            s.borrow_mut().push(r);
            Box::pin(async { Ok(OutboundResponse { status: 202, headers: Vec::new(), body: b"ok".to_vec() }) })
        });
        let var: Lookup = Rc::new(move |n: &str| vars.iter().find(|(k, _)| *k == n).map(|(_, v)| (*v).to_owned()));
        (Outbound::with(decls, var, fetcher), seen)
    }

    fn send(o: &Outbound<'_>, url: &str) -> Result<OutboundResponse, GuardedError> {
        futures::executor::block_on(o.send(OutboundRequest::get(url)))
    }

    const MAIL: &[OutboundDecl] = &[OutboundDecl::Configured("MAIL_URL")];

    #[test]
    fn a_configured_service_is_reached_on_its_origin_only() {
        let (o, seen) = outbound(MAIL, &[("MAIL_URL", "https://mail.example.com/v1/send")]);
        assert_eq!(o.url("MAIL_URL").unwrap(), "https://mail.example.com/v1/send");
        assert_eq!(send(&o, "https://mail.example.com/v1/send").unwrap().status, 202);
        assert_eq!(send(&o, "https://mail.example.com/other").unwrap().status, 202);
        for other in [
            "https://evil.example.com/v1/send",
            "http://mail.example.com/v1/send",
            "https://mail.example.com:8443/v1/send",
            "https://user@mail.example.com/v1/send",
            "https://169.254.169.254/latest",
        ] {
            assert_eq!(send(&o, other).unwrap_err(), GuardedError::Refused(Refused::Undeclared), "{other}");
        }
        let sent = seen.borrow();
        assert_eq!(sent.len(), 2, "refused URLs send nothing");
        assert_eq!(sent[0].redirect, RedirectMode::Manual);
        assert_eq!(sent[0].max_body, Some(DEFAULT_MAX_BODY));
    }

    #[test]
    fn a_configured_var_must_be_declared_set_and_https_or_loopback() {
        let (o, _) = outbound(MAIL, &[("MAIL_URL", "http://mail.example.com/"), ("OTHER_URL", "https://x.example/")]);
        let e = o.url("MAIL_URL").unwrap_err();
        assert_eq!(e.status(), 503);
        assert!(e.detail().unwrap().starts_with("MAIL_URL must be an https://"), "{e:?}");
        assert_eq!(send(&o, "http://mail.example.com/").unwrap_err(), GuardedError::Refused(Refused::Undeclared));
        assert!(o.url("OTHER_URL").unwrap_err().detail().unwrap().contains("not declared"));
        let (unset, _) = outbound(MAIL, &[]);
        assert_eq!(unset.url("MAIL_URL").unwrap_err().detail(), Some("MAIL_URL is unset"));
        let (lo, _) = outbound(MAIL, &[("MAIL_URL", "http://127.0.0.1:8790/mail")]);
        assert_eq!(send(&lo, "http://127.0.0.1:8790/mail").unwrap().status, 202);
        assert!(send(&lo, "http://127.0.0.1:8791/mail").is_err(), "another port is another origin");
    }

    #[test]
    fn public_urls_go_through_the_guard_and_its_allowlist_var() {
        const PUBLIC: &[OutboundDecl] = &[OutboundDecl::Public { allow: Some("ALLOW") }];
        let (o, seen) = outbound(PUBLIC, &[("ALLOW", "http://127.0.0.1:8788")]);
        assert_eq!(send(&o, "https://blog.example.org/post").unwrap().status, 202);
        assert_eq!(send(&o, "http://127.0.0.1:8788/page").unwrap().status, 202);
        assert_eq!(send(&o, "http://127.0.0.1:8789/page").unwrap_err().reason(), "scheme");
        assert_eq!(send(&o, "https://10.0.0.1/").unwrap_err().reason(), "ip_literal");
        assert_eq!(seen.borrow().len(), 2);
        assert!(o.url("ALLOW").is_err(), "an allowlist var is not a service URL");
        let (none, _) = outbound(&[], &[]);
        assert_eq!(send(&none, "https://blog.example.org/").unwrap_err().reason(), "undeclared");
    }

    #[test]
    fn a_body_over_the_limit_is_refused() {
        let (o, _) = outbound(MAIL, &[("MAIL_URL", "https://mail.example.com/")]);
        let mut req = OutboundRequest::get("https://mail.example.com/");
        req.max_body = Some(1);
        let e = futures::executor::block_on(o.send(req)).unwrap_err();
        assert_eq!(e, GuardedError::TooLarge { limit: 1 });
    }

    #[test]
    fn labels_name_the_var() {
        assert_eq!(OutboundDecl::Configured("MAIL_URL").label(), "URL in var MAIL_URL");
        assert_eq!(OutboundDecl::Public { allow: None }.label(), "public URLs (guarded)");
        assert_eq!(OutboundDecl::Public { allow: Some("A") }.var(), Some("A"));
    }
}
