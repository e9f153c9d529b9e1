//! Webmentions (W3C Recommendation, <https://www.w3.org/TR/webmention/>): another site tells us
//! that its page `source` links to one of our posts, `target` — and we tell the pages our posts
//! link to ([sending](self#sending)).
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
//! * The `webmentions` consumer ([`webmention_tasks()`]) fetches the source with
//!   its [`Outbound`], declared `outbound(public(allow = WEBMENTION_ALLOW_ORIGINS))` (the URL guard
//!   again, redirects never followed, at most [`MAX_SOURCE_BYTES`]) and marks the
//!   mention `verified` when the HTML has an `<a|link|area href>` that resolves to the target,
//!   `rejected` otherwise (with a reason), or — on a timeout, a network error, a 5xx or 429 —
//!   queues it again after `WEBMENTION_RETRY_SECS`, until [`MAX_ATTEMPTS`], then `failed`. A
//!   source the URL guard refuses is `rejected` for good (never fetched, never retried).
//! * The weekly cron calls `retry_pending`, which queues again what is still `pending`,
//!   `retry` or `failed` an hour after its last change — at most [`MAX_ROUNDS`] times per
//!   mention in all (column `rounds`); past that the mention becomes `abandoned`.
//! * `GET /api/webmentions` (ApiKey) lists the rows; `GET /admin/webmentions?dir=received` too.
//!
//! # Sending
//!
//! * Publishing a post (`POST /admin/posts`) queues a reindex job with reason `publish`; the
//!   reindex consumer then records a row in `webmention_sends` for each outside `http(s)` URL in
//!   the post's body (at most [`MAX_LINKS_PER_POST`]) and queues a [`WebmentionTask::Send`].
//! * The same consumer fetches the linked page through the URL guard — following at most
//!   [`MAX_REDIRECTS`] redirects by hand, each hop guarded — and discovers its endpoint: the
//!   first `Link: <…>; rel="webmention"` header, else the first `<link>` or `<a>` with `rel`
//!   containing `webmention` (comments and scripts skipped), resolved against the page. It
//!   `POST`s `source` (our post's URL under `SITE_URL`) and `target` to the endpoint, guarded too:
//!   an endpoint on a private or local address is refused, never contacted.
//! * `sent` (2xx), `no_endpoint`, `rejected` (a 4xx, a refused URL: final) or, on a timeout, a
//!   network error, a 429 or a 5xx, `retry` after `WEBMENTION_RETRY_SECS` × 2^(attempt − 1)
//!   (at most 12 h) until [`MAX_SEND_ATTEMPTS`], then `failed`. The weekly cron queues a failed
//!   send again once [`send_round_due`] (`WEBMENTION_SEND_BACKOFF_SECS` × 2^round, default three
//!   days), at most [`MAX_ROUNDS`] rounds; then it is `abandoned`.
//! * `GET /admin/webmentions` (Admin) lists the sends: status, reason, discovered endpoint and its
//!   answer, attempts and rounds. Logged as `{"event":"webmention_send",…}` with the target's
//!   origin only.
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

mod discover;
mod links;
mod list;
mod receive;
mod retry;
mod send;
mod verify;

pub use list::{list_webmentions, sent_webmentions};
pub use receive::{receive_webmention, WebmentionForm};
pub(crate) use retry::{retry_pending, retry_sends};
pub use retry::{send_round_due, DEFAULT_SEND_BACKOFF_SECS};
pub(crate) use send::queue_for_post;
pub use send::{outside_links, retry_delay, SendJob, MAX_LINKS_PER_POST, MAX_REDIRECTS, MAX_SEND_ATTEMPTS};
pub use verify::webmention_tasks;

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

/// A message of the `webmentions` queue: a received mention to verify or a mention to send.
/// Untagged, so that a verification job sent before sends existed still decodes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum WebmentionTask {
    /// Verify a received mention (it has a `source`).
    Verify(WebmentionJob),
    /// Send a mention of one of our posts.
    Send(SendJob),
}

/// What the consumer does with a message once a task ran.
#[derive(Debug, PartialEq, Eq)]
enum Next {
    Ack,
    RetryAfter(u32),
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
