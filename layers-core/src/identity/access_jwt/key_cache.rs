//! The key sets [`AccessJwt`] fetched, by JWKS URL: trusted for
//! [`AccessConfig::CACHE_TTL_SECS`], refetched for an unknown `kid` at most once per
//! [`AccessConfig::REFETCH_INTERVAL_SECS`], a failed fetch not retried sooner — and one fetch
//! per key set at a time: a request that needs a set another request is fetching waits for that
//! fetch to end (on its own timer) and takes its answer, instead of fetching too.

use std::rc::Rc;

use super::state::AccessState;
use super::{AccessConfig, AccessJwt, Jwks, MAX_JWKS_LEN};
use crate::identity::{Deny, VerifyCx};
use crate::outbound::OutboundRequest;

/// How often a request waiting on another's JWKS fetch looks whether it ended, in ms.
const JWKS_WAIT_STEP_MS: u32 = 20;

/// How a JWKS fetch ended: the fetched set, or why it failed.
pub(super) type Fetched = Result<Rc<Jwks>, String>;

/// One JWKS URL's cache entry.
#[derive(Default)]
pub(super) struct CacheEntry {
    /// Last good key set and when it was fetched.
    pub(super) jwks: Option<(Rc<Jwks>, u64)>,
    /// When a fetch was last started (in flight, done or failed): limits refetches for
    /// unknown kids.
    pub(super) last_attempt: Option<u64>,
    /// When a fetch last failed (cleared by a success): limits retries without usable keys.
    pub(super) last_failure: Option<u64>,
}

impl<C: AccessConfig> AccessJwt<C> {
    /// The key set holding `kid`, from the cache or a (rate-limited) fetch.
    pub(super) async fn jwks_for(
        cx: &VerifyCx<'_>,
        state: &AccessState,
        url: &str,
        kid: &str,
    ) -> Result<Rc<Jwks>, Deny> {
        let now = cx.now();
        let recent = |t: Option<u64>| t.is_some_and(|t| now.saturating_sub(t) < C::REFETCH_INTERVAL_SECS);
        let (fresh, attempted_recently, failed_recently) = {
            let c = state.jwks.borrow();
            match c.get(url) {
                None => (None, false, false),
                Some(e) => {
                    let fresh = e
                        .jwks
                        .as_ref()
                        .filter(|(_, at)| now.saturating_sub(*at) < C::CACHE_TTL_SECS)
                        .map(|(j, _)| Rc::clone(j));
                    (fresh, recent(e.last_attempt), recent(e.last_failure))
                }
            }
        };
        if let Some(j) = fresh.as_ref().filter(|j| j.get(kid).is_some()) {
            return Ok(Rc::clone(j));
        }
        // Another request is fetching this key set right now: wait for it to end rather than
        // fetching again (a cold or expired cache under load makes one fetch, not one each).
        // The wait is this request's own timer (the runtime cancels a request that only waits
        // on another request's I/O), checking every `JWKS_WAIT_STEP_MS`.
        if state.inflight.borrow().contains(url) {
            let mut waited = 0;
            while state.inflight.borrow().contains(url) {
                if waited >= crate::outbound::DEFAULT_TIMEOUT_MS + JWKS_WAIT_STEP_MS {
                    return Err(Deny::unavailable(format!("the fetch of {url} another request started did not end")));
                }
                cx.pause(JWKS_WAIT_STEP_MS).await;
                waited += JWKS_WAIT_STEP_MS;
            }
            let fetched = state
                .last_fetch
                .borrow()
                .get(url)
                .cloned()
                .unwrap_or_else(|| Err("the fetch this request waited on left no answer".to_owned()));
            return Self::decide(fetched, fresh.is_some(), kid);
        }
        match &fresh {
            // Unknown kid while the refetch that could have found it failed: nobody can decide
            // yet, so 503 rather than a 403 that might be wrong.
            Some(_) if attempted_recently && failed_recently => {
                return Err(Deny::unavailable(format!(
                    "token kid is not in the cached JWKS and the refetch of {url} failed less than {} s ago",
                    C::REFETCH_INTERVAL_SECS
                )))
            }
            // Good keys, unknown kid: at most one refetch per interval.
            Some(_) if attempted_recently => {
                return Err(Deny::invalid(format!(
                    "token kid is not in the JWKS (fetched less than {} s ago)",
                    C::REFETCH_INTERVAL_SECS
                )))
            }
            // No usable keys: fetch, unless the last fetch failed within the interval.
            None if failed_recently => {
                return Err(Deny::unavailable(format!(
                    "no usable JWKS: the last fetch of {url} failed less than {} s ago",
                    C::REFETCH_INTERVAL_SECS
                )))
            }
            _ => {}
        }
        // This request fetches; others that need the set meanwhile wait on it (above). The
        // guard ends the fetch's turn even if this future is dropped half way.
        let guard = InFlight::start(state, url);
        state.jwks.borrow_mut().entry(url.to_owned()).or_default().last_attempt = Some(now);
        let fetched = fetch_jwks(cx, url).await;
        {
            let mut c = state.jwks.borrow_mut();
            let e = c.entry(url.to_owned()).or_default();
            match &fetched {
                Ok(jwks) => {
                    e.jwks = Some((Rc::clone(jwks), now));
                    e.last_failure = None;
                }
                // Keys still within their TTL stay cached: a failed refetch replaces nothing.
                Err(_) => e.last_failure = Some(now),
            }
        }
        guard.finish(fetched.clone());
        Self::decide(fetched, fresh.is_some(), kid)
    }

    /// The answer for a token whose `kid` a fetch of its key set was needed for.
    fn decide(fetched: Result<Rc<Jwks>, String>, had_keys: bool, kid: &str) -> Result<Rc<Jwks>, Deny> {
        match fetched {
            Ok(jwks) if jwks.get(kid).is_some() => Ok(jwks),
            Ok(_) => Err(Deny::invalid("token kid is not in the freshly fetched JWKS")),
            Err(e) => Err(Deny::unavailable(if had_keys {
                format!("token kid unknown and refetching the JWKS failed: {e}")
            } else {
                format!("no usable JWKS: {e}")
            })),
        }
    }
}

/// A JWKS fetch's turn: while it lives, other requests for the same URL wait (see
/// `AccessJwt::jwks_for`); it ends with the fetch's answer, or with "abandoned" when dropped
/// without one.
struct InFlight<'s> {
    state: &'s AccessState,
    url: String,
    done: bool,
}

impl<'s> InFlight<'s> {
    fn start(state: &'s AccessState, url: &str) -> Self {
        state.inflight.borrow_mut().insert(url.to_owned());
        InFlight { state, url: url.to_owned(), done: false }
    }

    fn finish(mut self, fetched: Fetched) {
        self.state.last_fetch.borrow_mut().insert(self.url.clone(), fetched);
        self.done = true;
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.state.last_fetch.borrow_mut().insert(self.url.clone(), Err("the fetch was abandoned".to_owned()));
        }
        self.state.inflight.borrow_mut().remove(&self.url);
    }
}

async fn fetch_jwks(cx: &VerifyCx<'_>, url: &str) -> Result<Rc<Jwks>, String> {
    let mut req = OutboundRequest::get(url);
    req.headers.push(("accept".into(), "application/json".into()));
    // A config URL: never follow a redirect (its target was never checked), never read more
    // than a key set can be.
    req.redirect = crate::outbound::RedirectMode::Manual;
    req.max_body = Some(MAX_JWKS_LEN);
    let resp = cx.fetch(req).await.map_err(|e| format!("fetching {url}: {e}"))?;
    if resp.status != 200 {
        return Err(format!("{url} answered {}", resp.status));
    }
    Jwks::parse(&resp.body).map(Rc::new).map_err(|e| format!("{url}: {e}"))
}
