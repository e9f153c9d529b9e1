//! Webmentions (W3C Recommendation, <https://www.w3.org/TR/webmention/>): another site tells us
//! that its page `source` links to one of our posts, `target`.
//!
//! * `POST /api/webmention` (Public) first counts the call against the client address's abuse
//!   window (the blog's guard, `RATE_LIMITER`, bucket `webmention`, vars `ABUSE_LIMIT` /
//!   `ABUSE_WINDOW_SECS`: 429 problem+json with `retry-after` past it — each accepted mention
//!   costs a D1 row and an outbound fetch of up to [`MAX_SOURCE_BYTES`]), then checks the form
//!   synchronously — `source` must pass the
//!   outbound URL guard ([`UrlPolicy`], from var `WEBMENTION_ALLOW_ORIGINS`: unset in production
//!   means strict), `target` must be `SITE_URL`'s origin + `/blog/<slug>` of an existing post, and
//!   the two must differ — stores the mention as `pending` (one row per (source, target)) and
//!   queues a [`WebmentionJob`]. Answer: 202, or 400 problem+json naming the rule broken.
//! * The `webmentions` consumer ([`verify_webmentions()`]) fetches the source with
//!   its [`Outbound`], declared `outbound(public(allow = WEBMENTION_ALLOW_ORIGINS))` (the URL guard
//!   again, redirects never followed, at most [`MAX_SOURCE_BYTES`]) and marks the
//!   mention `verified` when the HTML has an `<a|link|area href>` that resolves to the target,
//!   `rejected` otherwise (with a reason), or — on a timeout, a network error, a 5xx or 429 —
//!   queues it again after `WEBMENTION_RETRY_SECS`, until [`MAX_ATTEMPTS`], then `failed`. A
//!   source the URL guard refuses is `rejected` for good (never fetched, never retried).
//! * The weekly cron calls `retry_pending`, which queues again what is still `pending`,
//!   `retry` or `failed` an hour after its last change — at most [`MAX_ROUNDS`] times per
//!   mention in all (column `rounds`); past that the mention becomes `abandoned`.
//! * `GET /api/webmentions` (ApiKey) lists the rows.
//!
//! **What is logged**: one JSON line per decision, `{"layer":"app","event":"webmention",…}`
//! with the outcome, a machine reason, the row id and the source's *origin*
//! (`https://host[:port]`) — never the source's path or query string (they can carry tokens),
//! and nothing of a refused source but the guard's reason.
//!
//! [`UrlPolicy`]: layers_core::outbound::UrlPolicy
//! [`Outbound`]: layers_core::Outbound

use layers_core::Url;
use serde::{Deserialize, Serialize};

mod links;
mod list;
mod receive;
mod retry;
mod verify;

pub use list::list_webmentions;
pub use receive::{receive_webmention, WebmentionForm};
pub(crate) use retry::retry_pending;
pub use verify::verify_webmentions;

/// The most bytes of a source page the consumer reads (W3C: receivers should limit it).
pub const MAX_SOURCE_BYTES: usize = 1024 * 1024;

/// Fetch attempts per queued mention before it is marked `failed` (transient failures only).
pub const MAX_ATTEMPTS: i64 = 3;

/// Weekly retry rounds (`retry_pending`) a mention gets in all; then it is `abandoned`. With
/// [`MAX_ATTEMPTS`] fetches per round, a mention costs at most `MAX_ATTEMPTS * (1 + MAX_ROUNDS)`
/// fetches per `POST`.
pub const MAX_ROUNDS: i64 = 3;

/// A mention to verify: the row's id and the URLs as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebmentionJob {
    /// `webmentions.id`.
    pub id: i64,
    /// The normalized source URL.
    pub source: String,
    /// The canonical target URL (`SITE_URL` origin + `/blog/<slug>`).
    pub target: String,
}

fn log(v: &serde_json::Value) {
    layers_core::log::app_line(v);
}

fn log_event(outcome: &str, reason: &str, id: Option<i64>, source: Option<&Url>) {
    let mut v = serde_json::json!({ "layer": "app", "event": "webmention", "outcome": outcome, "reason": reason });
    if let Some(id) = id {
        v["id"] = id.into();
    }
    if let Some(s) = source {
        v["source_origin"] = s.origin().ascii_serialization().into();
    }
    log(&v);
}

fn now_s() -> i64 {
    i64::try_from(layers_core::log::now_ms() / 1000).unwrap_or(i64::MAX)
}
