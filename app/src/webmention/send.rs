//! Sending webmentions: when a post is published ([`queue_for_post`], called by
//! `POST /admin/posts`), every outside page its body links to gets a row in `webmention_sends`
//! and a [`SendJob`] on the `webmention-sends` queue. The consumer ([`send_webmentions()`])
//! fetches the page through its declared `Outbound` (the URL guard; redirects followed by hand,
//! each hop guarded, at most [`MAX_REDIRECTS`]), discovers its endpoint ([`super::discover`]) and
//! `POST`s `source` (our post) and `target` (their page) to it, guarded again: an endpoint on a
//! private or local address is refused and never contacted.
//!
//! Outcomes, in column `status`: `sent` (2xx; `endpoint_status` keeps the code), `no_endpoint`,
//! `rejected` (a 4xx, a refused URL, too many redirects: final), or — on a timeout, a network
//! error, a 429 or a 5xx — `retry`, queued again after `WEBMENTION_RETRY_SECS` × 2^(attempt − 1)
//! (at most 12 h), until [`MAX_SEND_ATTEMPTS`]; then `failed`. The weekly cron
//! ([`super::retry_sends`]) queues `failed` sends again with a wait that doubles per round, and
//! after [`super::MAX_ROUNDS`] rounds marks them `abandoned`.

use layers_core::outbound::{form_encode, GuardedError, OutboundRequest, OutboundResponse};
use layers_core::prelude::*;
use layers_core::Url;
use serde::{Deserialize, Serialize};

use super::discover::endpoint;
use super::{log, now_s, Next, WebmentionTask, MAX_SOURCE_BYTES};

/// Attempts per queued send before it is `failed` (transient failures only).
pub const MAX_SEND_ATTEMPTS: i64 = 3;

/// Redirects followed while fetching a linked page (each hop through the URL guard).
pub const MAX_REDIRECTS: usize = 3;

/// Outside links of one post that get a webmention (the first ones, in order).
pub const MAX_LINKS_PER_POST: usize = 20;

/// The longest delay a queue message can be retried with (Cloudflare Queues: 12 hours).
const MAX_DELAY_SECS: u32 = 43_200;

/// One webmention to send: the row's id and the page it goes to, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendJob {
    /// `webmention_sends.id`.
    pub id: i64,
    /// The linked page (the mention's `target`).
    pub target: String,
}

/// The outside pages `body` links to: its `http(s)://` URLs ([`crate::text_urls`], the ones
/// the post page links), without fragments, not on `site`'s origin, each once, at most
/// [`MAX_LINKS_PER_POST`].
#[must_use]
pub fn outside_links(body: &str, site: &Url) -> Vec<Url> {
    let mut out: Vec<Url> = Vec::new();
    for (_, mut url) in crate::text_urls::urls(body) {
        url.set_fragment(None);
        if url.origin() == site.origin() || out.contains(&url) {
            continue;
        }
        out.push(url);
        if out.len() == MAX_LINKS_PER_POST {
            break;
        }
    }
    out
}

#[derive(Debug, Deserialize)]
struct Id {
    id: i64,
}

/// Records a send for each outside link of the post `slug` (a link already sent is sent again:
/// the post changed) and queues it. Returns how many were queued.
///
/// # Errors
/// D1 or the queue failing.
pub(crate) async fn queue_for_post(
    db: &D1<'_>,
    queue: &Queue<'_, WebmentionTask>,
    slug: &str,
    body: &str,
    site: &Url,
) -> Result<usize> {
    let links = outside_links(body, site);
    let now = now_s();
    for target in &links {
        let row: Option<Id> = db
            .prepare(
                "INSERT INTO webmention_sends (slug, target, status, created_at, updated_at) VALUES (?1, ?2, 'pending', ?3, ?3) \
                 ON CONFLICT (slug, target) DO UPDATE SET status = 'pending', reason = NULL, attempts = 0, updated_at = ?3 \
                 RETURNING id",
            )
            .bind(&[&slug, &target.as_str(), &now])
            .first()
            .await?;
        if let Some(Id { id }) = row {
            queue.send(&WebmentionTask::Send(SendJob { id, target: target.to_string() })).await?;
        }
    }
    Ok(links.len())
}

/// What one attempt decided.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Sent { endpoint: Url, status: u16 },
    NoEndpoint,
    Rejected(String),
    Transient(String),
}

/// The verdict on an answer that is neither a success nor a redirect we follow.
fn failure(status: u16) -> Outcome {
    match status {
        429 | 500..=599 => Outcome::Transient(format!("status_{status}")),
        s => Outcome::Rejected(format!("status_{s}")),
    }
}

fn guarded(e: &GuardedError) -> Outcome {
    match e {
        GuardedError::Refused(r) => Outcome::Rejected(format!("refused:{}", r.reason())),
        e if e.is_transient() => Outcome::Transient(e.reason().to_owned()),
        e => Outcome::Rejected(e.reason().to_owned()),
    }
}

fn location(resp: &OutboundResponse) -> Option<&str> {
    resp.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("location")).map(|(_, v)| v.as_str())
}

/// Fetches `target` (following at most [`MAX_REDIRECTS`] redirects, each guarded) and finds its
/// endpoint.
async fn discover(out: &Outbound<'_>, target: &Url) -> std::result::Result<Option<Url>, Outcome> {
    let mut page = target.clone();
    for _ in 0..=MAX_REDIRECTS {
        let req = OutboundRequest {
            headers: vec![
                ("accept".into(), "text/html, application/xhtml+xml;q=0.9, */*;q=0.1".into()),
                ("user-agent".into(), "layers-webmention/0.1 (+sender)".into()),
            ],
            max_body: Some(MAX_SOURCE_BYTES),
            ..OutboundRequest::get(page.as_str())
        };
        let resp = out.send(req).await.map_err(|e| guarded(&e))?;
        match resp.status {
            200..=299 => return Ok(endpoint(&resp.headers, &resp.body, &page)),
            301..=303 | 307 | 308 => {
                let next = location(&resp).and_then(|l| page.join(l).ok());
                page = next.ok_or_else(|| Outcome::Rejected("bad_redirect".into()))?;
            }
            s => return Err(failure(s)),
        }
    }
    Err(Outcome::Rejected("too_many_redirects".into()))
}

/// One attempt: discovery, then the `POST` to the endpoint.
async fn attempt(out: &Outbound<'_>, source: &Url, target: &Url) -> Outcome {
    let endpoint = match discover(out, target).await {
        Ok(Some(e)) => e,
        Ok(None) => return Outcome::NoEndpoint,
        Err(o) => return o,
    };
    let form = form_encode(&[("source", source.as_str()), ("target", target.as_str())]);
    let req = OutboundRequest {
        max_body: Some(64 * 1024),
        ..OutboundRequest::post(endpoint.as_str(), "application/x-www-form-urlencoded", form.into_bytes())
    };
    match out.send(req).await {
        Ok(r) if (200..300).contains(&r.status) => Outcome::Sent { endpoint, status: r.status },
        Ok(r) if (300..400).contains(&r.status) => Outcome::Rejected(format!("redirect_{}", r.status)),
        Ok(r) => failure(r.status),
        Err(e) => guarded(&e),
    }
}

/// The delay before in-queue attempt `attempts + 1`: `base` × 2^(`attempts` − 1), at most 12 h.
#[must_use]
pub fn retry_delay(base: u32, attempts: i64) -> u32 {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 16)).unwrap_or(16);
    base.saturating_mul(1u32 << doublings).min(MAX_DELAY_SECS)
}

#[derive(Debug, Deserialize)]
struct Row {
    slug: String,
    target: String,
    status: String,
    attempts: i64,
}

/// Sends one queued webmention (see the module documentation); `base` is the first retry delay.
pub(super) async fn send_one(
    job: &SendJob,
    db: &D1<'_>,
    vars: &Vars<'_>,
    out: &Outbound<'_>,
    base: u32,
) -> Result<Next> {
    let site = crate::blog::site_url(vars)?;
    {
        let row: Option<Row> = db
            .prepare("SELECT slug, target, status, attempts FROM webmention_sends WHERE id = ?1")
            .bind(&[&job.id])
            .first()
            .await?;
        let Some(row) = row.filter(|r| (r.status == "pending" || r.status == "retry") && r.target == job.target) else {
            log(
                &serde_json::json!({ "layer": "app", "event": "webmention_send", "outcome": "skipped", "reason": "stale_job", "id": job.id }),
            );
            return Ok(Next::Ack);
        };
        let source = Url::parse(&format!("{site}/blog/{}", row.slug));
        let (Ok(source), Ok(target)) = (source, Url::parse(&row.target)) else {
            db.prepare(
                "UPDATE webmention_sends SET status = 'rejected', reason = 'not_a_url', updated_at = ?2 WHERE id = ?1",
            )
            .bind(&[&job.id, &now_s()])
            .run()
            .await?;
            return Ok(Next::Ack);
        };
        let outcome = attempt(out, &source, &target).await;
        let attempts = row.attempts + 1;
        let (status, reason, endpoint, code) = match &outcome {
            Outcome::Sent { endpoint, status } => {
                ("sent", "accepted".to_owned(), Some(endpoint.to_string()), Some(u32::from(*status)))
            }
            Outcome::NoEndpoint => ("no_endpoint", "no_endpoint".to_owned(), None, None),
            Outcome::Rejected(r) => ("rejected", r.clone(), None, None),
            Outcome::Transient(r) if attempts < MAX_SEND_ATTEMPTS => ("retry", r.clone(), None, None),
            Outcome::Transient(r) => ("failed", r.clone(), None, None),
        };
        db.prepare(
            "UPDATE webmention_sends SET status = ?2, reason = ?3, attempts = ?4, endpoint = COALESCE(?5, endpoint), \
             endpoint_status = COALESCE(?6, endpoint_status), updated_at = ?7 WHERE id = ?1",
        )
        .bind(&[&job.id, &status, &reason, &attempts, &endpoint, &code, &now_s()])
        .run()
        .await?;
        log(&serde_json::json!({
            "layer": "app", "event": "webmention_send", "outcome": status, "reason": reason, "id": job.id,
            "attempts": attempts, "target_origin": target.origin().ascii_serialization(),
        }));
        Ok(if status == "retry" { Next::RetryAfter(retry_delay(base, attempts)) } else { Next::Ack })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_links_are_absolute_foreign_unique_and_trimmed() {
        let site = Url::parse("https://layers.test").unwrap();
        let body = "See https://a.example/post. And (https://b.example/x?y=1#frag), again https://a.example/post!\n\
                    Ours: https://layers.test/blog/other and http://c.example/ too; not ftp://d.example/ nor a.example/x.";
        let links: Vec<String> = outside_links(body, &site).iter().map(ToString::to_string).collect();
        assert_eq!(links, ["https://a.example/post", "https://b.example/x?y=1", "http://c.example/"]);
        let many: String = (0..50).map(|i| format!("https://e{i}.example/ ")).collect();
        assert_eq!(outside_links(&many, &site).len(), MAX_LINKS_PER_POST);
        assert!(outside_links("https:// nothing http://", &site).is_empty());
    }

    #[test]
    fn retry_delays_double_and_are_capped() {
        assert_eq!(retry_delay(300, 1), 300);
        assert_eq!(retry_delay(300, 2), 600);
        assert_eq!(retry_delay(300, 3), 1200);
        assert_eq!(retry_delay(300, 0), 300);
        assert_eq!(retry_delay(300, 40), MAX_DELAY_SECS);
        assert_eq!(retry_delay(u32::MAX, 2), MAX_DELAY_SECS);
        assert_eq!(retry_delay(1, 3), 4);
    }

    #[test]
    fn verdicts_by_status_and_error() {
        assert_eq!(failure(404), Outcome::Rejected("status_404".into()));
        assert_eq!(failure(410), Outcome::Rejected("status_410".into()));
        assert_eq!(failure(429), Outcome::Transient("status_429".into()));
        assert_eq!(failure(503), Outcome::Transient("status_503".into()));
        assert_eq!(guarded(&GuardedError::Timeout), Outcome::Transient("timeout".into()));
        assert_eq!(
            guarded(&GuardedError::Refused(layers_core::outbound::Refused::IpLiteral)),
            Outcome::Rejected("refused:ip_literal".into())
        );
        assert_eq!(guarded(&GuardedError::TooLarge { limit: 1 }), Outcome::Rejected("too_large".into()));
    }
}
