//! The guarded fetch: a user-supplied URL checked by the [`UrlPolicy`], then fetched with
//! redirects never followed, the outbound timeout and a body limit; and why it may give no
//! response ([`GuardedError`]).

use std::fmt;

use super::{Refused, UrlPolicy};
#[cfg(test)]
use crate::outbound::{FetchFuture, Fetcher, OutboundResponse};
use crate::outbound::{OutboundRequest, RedirectMode};

/// Why a guarded fetch gave no response. The variants never carry the URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuardedError {
    /// The policy refused the URL; nothing was sent.
    Refused(Refused),
    /// The response body was longer than the limit.
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// No answer within [`DEFAULT_TIMEOUT_MS`](crate::outbound::DEFAULT_TIMEOUT_MS).
    Timeout,
    /// The fetch itself failed (connection, TLS, a destination the platform refuses).
    Network(String),
}

impl GuardedError {
    /// A stable machine code: `refused:<reason>`-style callers use [`Refused::reason`]; the others
    /// are `too_large`, `timeout` and `network`.
    #[must_use]
    pub fn reason(&self) -> &'static str {
        match self {
            GuardedError::Refused(r) => r.reason(),
            GuardedError::TooLarge { .. } => "too_large",
            GuardedError::Timeout => "timeout",
            GuardedError::Network(_) => "network",
        }
    }

    /// Whether trying again later may succeed (a timeout or a network failure).
    #[must_use]
    pub fn is_transient(&self) -> bool {
        matches!(self, GuardedError::Timeout | GuardedError::Network(_))
    }
}

impl fmt::Display for GuardedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GuardedError::Refused(r) => write!(f, "refused: {r}"),
            GuardedError::TooLarge { limit } => write!(f, "the response body is larger than {limit} bytes"),
            GuardedError::Timeout => write!(f, "no answer within {} ms", crate::outbound::DEFAULT_TIMEOUT_MS),
            GuardedError::Network(m) => write!(f, "fetch failed: {m}"),
        }
    }
}

impl std::error::Error for GuardedError {}

impl From<Refused> for GuardedError {
    fn from(r: Refused) -> Self {
        GuardedError::Refused(r)
    }
}

/// Checks `req.url` and prepares the request: the normalized URL, redirects never followed, the
/// body limit.
pub(crate) fn prepare(
    policy: &UrlPolicy,
    mut req: OutboundRequest,
    max_body_bytes: usize,
) -> Result<OutboundRequest, Refused> {
    let url = policy.check(&req.url)?;
    req.url = url.into();
    req.redirect = RedirectMode::Manual;
    req.max_body = Some(max_body_bytes);
    Ok(req)
}

/// Fetches a user-supplied URL through `fetcher` (the Workers fetch in [`Outbound`], anything in
/// tests): [`UrlPolicy::check`] first (nothing is sent when it refuses), then `redirect:
/// "manual"` — a 3xx is returned as is, never followed — and at most `max_body_bytes` of body
/// (the fetcher receives `max_body` set; a longer body is refused here too).
///
/// [`Outbound`]: crate::outbound::Outbound
///
/// # Errors
/// [`GuardedError`]: refused by the policy, body too large, or the fetcher's error as
/// [`GuardedError::Network`].
#[cfg(test)]
pub(crate) async fn fetch_guarded_with(
    fetcher: &Fetcher,
    policy: &UrlPolicy,
    req: OutboundRequest,
    max_body_bytes: usize,
) -> Result<OutboundResponse, GuardedError> {
    let req = prepare(policy, req, max_body_bytes)?;
    let fut: FetchFuture = fetcher(req);
    let resp = fut.await.map_err(GuardedError::Network)?;
    if resp.body.len() > max_body_bytes {
        return Err(GuardedError::TooLarge { limit: max_body_bytes });
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;

    use super::*;

    type Seen = Rc<RefCell<Vec<OutboundRequest>>>;

    fn fake(status: u16, body: &'static [u8]) -> (Fetcher, Seen) {
        let seen: Seen = Rc::default();
        let s = Rc::clone(&seen);
        let f: Fetcher = Rc::new(move |r: OutboundRequest| -> FetchFuture {
            s.borrow_mut().push(r);
            Box::pin(async move { Ok(OutboundResponse { status, headers: Vec::new(), body: body.to_vec() }) })
        });
        (f, seen)
    }

    #[test]
    fn guarded_fetch_never_sends_a_refused_url() {
        let (f, seen) = fake(200, b"ok");
        for u in ["http://example.com/", "https://[::1]/", "https://169.254.169.254/", "https://localhost/"] {
            let err =
                futures::executor::block_on(fetch_guarded_with(&f, &UrlPolicy::strict(), OutboundRequest::get(u), 100))
                    .unwrap_err();
            assert!(matches!(err, GuardedError::Refused(_)), "{u}: {err:?}");
            assert!(!err.is_transient());
        }
        assert!(seen.borrow().is_empty());
    }

    #[test]
    fn guarded_fetch_is_manual_redirect_with_a_body_limit() {
        let (f, seen) = fake(302, b"");
        let resp = futures::executor::block_on(fetch_guarded_with(
            &f,
            &UrlPolicy::strict(),
            OutboundRequest::get("HTTPS://Example.COM/a"),
            1000,
        ))
        .unwrap();
        assert_eq!(resp.status, 302);
        let sent = seen.borrow();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].url, "https://example.com/a");
        assert_eq!(sent[0].redirect, RedirectMode::Manual);
        assert_eq!(sent[0].max_body, Some(1000));

        let (big, _) = fake(200, &[b'x'; 11]);
        let err = futures::executor::block_on(fetch_guarded_with(
            &big,
            &UrlPolicy::strict(),
            OutboundRequest::get("https://example.com/"),
            10,
        ))
        .unwrap_err();
        assert_eq!(err, GuardedError::TooLarge { limit: 10 });
        assert_eq!(err.reason(), "too_large");
    }
}
