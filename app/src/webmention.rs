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
//! * The `webmentions` consumer ([`verify_webmentions`]) fetches the source with
//!   [`fetch_guarded`] (redirects never followed, at most [`MAX_SOURCE_BYTES`]) and marks the
//!   mention `verified` when the HTML has an `<a|link|area href>` that resolves to the target,
//!   `rejected` otherwise (with a reason), or — on a timeout, a network error, a 5xx or 429 —
//!   queues it again after `WEBMENTION_RETRY_SECS`, until [`MAX_ATTEMPTS`], then `failed`. A
//!   source the URL guard refuses is `rejected` for good (never fetched, never retried).
//! * The weekly cron calls [`retry_pending`], which queues again what is still `pending`,
//!   `retry` or `failed` an hour after its last change — at most [`MAX_ROUNDS`] times per
//!   mention in all (column `rounds`); past that the mention becomes `abandoned`.
//! * `GET /api/webmentions` (ApiKey) lists the rows.
//!
//! **What is logged**: one JSON line per decision, `{"layer":"app","event":"webmention",…}`
//! with the outcome, a machine reason, the row id and the source's *origin*
//! (`https://host[:port]`) — never the source's path or query string (they can carry tokens),
//! and nothing of a refused source but the guard's reason.

use layers_core::outbound::{fetch_guarded, GuardedError, OutboundRequest, UrlPolicy};
use layers_core::prelude::*;
use layers_core::request::extract::FromBody;
use layers_core::Url;
use serde::{Deserialize, Serialize};

/// The most bytes of a source page the consumer reads (W3C: receivers should limit it).
pub const MAX_SOURCE_BYTES: usize = 1024 * 1024;

/// Fetch attempts per queued mention before it is marked `failed` (transient failures only).
pub const MAX_ATTEMPTS: i64 = 3;

/// Weekly retry rounds ([`retry_pending`]) a mention gets in all; then it is `abandoned`. With
/// [`MAX_ATTEMPTS`] fetches per round, a mention costs at most `MAX_ATTEMPTS * (1 + MAX_ROUNDS)`
/// fetches per `POST`.
pub const MAX_ROUNDS: i64 = 3;

/// Default delay before a transient failure is tried again (`WEBMENTION_RETRY_SECS` overrides).
const DEFAULT_RETRY_SECS: u32 = 300;

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

/// The W3C Webmention request body (`application/x-www-form-urlencoded`).
#[derive(Debug, Deserialize)]
pub struct WebmentionForm {
    /// The page that mentions us.
    pub source: String,
    /// Our page it mentions.
    pub target: String,
}

#[derive(Debug, Deserialize)]
struct Existing {
    id: i64,
    status: String,
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

fn bad(reason: &str, public: String) -> Error {
    log_event("refused", reason, None, None);
    Error::problem(400, public)
}

/// `source` checked by the guard, without its fragment.
fn check_source(policy: &UrlPolicy, source: &str) -> Result<Url> {
    let mut url = policy.check(source.trim()).map_err(|r| {
        bad(&format!("source:{}", r.reason()), format!("field `source` is refused: {r} ({})", r.reason()))
    })?;
    url.set_fragment(None);
    Ok(url)
}

/// The slug `target` names if it is `site` + `/blog/<slug>` (one trailing `/` allowed; query
/// and fragment ignored).
fn target_slug(site: &Url, target: &str) -> Result<String> {
    let t = Url::parse(target.trim())
        .map_err(|_| bad("target:not_a_url", "field `target` is not an absolute URL".into()))?;
    if t.origin() != site.origin() || !t.username().is_empty() || t.password().is_some() {
        return Err(bad("target:off_site", "field `target` is not on this site".into()));
    }
    let slug = t.path().strip_prefix("/blog/").map(|s| s.strip_suffix('/').unwrap_or(s)).unwrap_or_default();
    if slug.is_empty() || slug.len() > 200 || !slug.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(bad("target:not_a_post", "field `target` is not a blog post of this site".into()));
    }
    Ok(slug.to_owned())
}

fn site_url(vars: &Vars<'_>) -> Result<Url> {
    let raw = vars.get("SITE_URL").unwrap_or_default();
    let site = Url::parse(&raw).map_err(|_| Error::new(503, "unavailable").with_detail("var SITE_URL is not a URL"))?;
    if !site.origin().is_tuple() {
        return Err(Error::new(503, "unavailable").with_detail("var SITE_URL has no origin"));
    }
    Ok(site)
}

/// Receives a webmention (`application/x-www-form-urlencoded` `source=…&target=…`).
#[route(POST "/api/webmention", identity = Public, storage(D1, Queue = "WEBMENTIONS", DurableObject = "RATE_LIMITER"))]
pub async fn receive_webmention(
    mut req: Request,
    _who: Claims<'_, Public>,
    db: D1<'_>,
    queue: Queue<'_, WebmentionJob>,
    limiter: DurableObject<'_, crate::RateLimiter>,
    vars: Vars<'_>,
) -> Result<Response> {
    // Before anything else (even the body): every call counts against the client's window.
    if let Some(limited) = crate::blog::abuse_guard(&req, &vars, &limiter, "webmention").await? {
        log_event("refused", "rate_limited", None, None);
        return Ok(limited);
    }
    let Form(form) = <Form<WebmentionForm> as FromBody>::from_body(&mut req).await?;
    let policy = UrlPolicy::from_var(vars.get("WEBMENTION_ALLOW_ORIGINS").as_deref());
    let site = site_url(&vars)?;
    let source = check_source(&policy, &form.source)?;
    let slug = target_slug(&site, &form.target)?;
    let target = format!("{}/blog/{slug}", site.origin().ascii_serialization());
    if Url::parse(&target).is_ok_and(|t| same_resource(&source, &t)) {
        return Err(bad("same_url", "fields `source` and `target` must be different pages".into()));
    }
    let known: Option<serde_json::Value> =
        db.prepare("SELECT slug FROM posts WHERE slug = ?1").bind(&[&slug]).first().await?;
    if known.is_none() {
        return Err(bad("target:unknown_post", "field `target` is not a blog post of this site".into()));
    }
    let source_s = source.as_str().to_owned();
    let now = now_s();
    let existing: Option<Existing> = db
        .prepare("SELECT id, status FROM webmentions WHERE source = ?1 AND target = ?2")
        .bind(&[&source_s, &target])
        .first()
        .await?;
    let (id, queued) = match existing {
        // Already waiting for the consumer: nothing new to do.
        Some(e) if e.status == "pending" || e.status == "retry" => (e.id, false),
        // Sent again: the source may have changed (W3C §3.2.4), so verify it again.
        Some(e) => {
            db.prepare(
                "UPDATE webmentions SET status = 'pending', reason = NULL, attempts = 0, updated_at = ?2 WHERE id = ?1",
            )
            .bind(&[&e.id, &now])
            .run()
            .await?;
            (e.id, true)
        }
        None => {
            db.prepare("INSERT INTO webmentions (source, target, slug, status, created_at, updated_at) VALUES (?1, ?2, ?3, 'pending', ?4, ?4) ON CONFLICT(source, target) DO NOTHING")
                .bind(&[&source_s, &target, &slug, &now])
                .run()
                .await?;
            let row: Option<Existing> = db
                .prepare("SELECT id, status FROM webmentions WHERE source = ?1 AND target = ?2")
                .bind(&[&source_s, &target])
                .first()
                .await?;
            let row = row.ok_or_else(|| Error::internal("webmention row missing after insert"))?;
            (row.id, true)
        }
    };
    if queued {
        queue.send(&WebmentionJob { id, source: source_s, target }).await?;
    }
    log_event("accepted", if queued { "queued" } else { "already_pending" }, Some(id), Some(&source));
    Ok(Response::from_json(&serde_json::json!({ "id": id, "status": "pending" }))?.with_status(202))
}

#[derive(Debug, Deserialize)]
struct Row {
    status: String,
    attempts: i64,
    source: String,
    target: String,
}

/// What one fetch of a source decided.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    Verified,
    Rejected(String),
    Transient(String),
}

fn is_html(headers: &[(String, String)]) -> bool {
    let ct = headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("content-type")).map(|(_, v)| v.to_ascii_lowercase());
    match ct {
        None => true,
        Some(ct) => {
            let essence = ct.split(';').next().unwrap_or_default().trim().to_owned();
            essence == "text/html" || essence == "application/xhtml+xml"
        }
    }
}

fn judge(result: Result<layers_core::outbound::OutboundResponse, GuardedError>, source: &Url, target: &Url) -> Verdict {
    let resp = match result {
        Ok(r) => r,
        Err(GuardedError::Refused(r)) => return Verdict::Rejected(format!("refused:{}", r.reason())),
        Err(e) if e.is_transient() => return Verdict::Transient(e.reason().to_owned()),
        Err(e) => return Verdict::Rejected(e.reason().to_owned()),
    };
    match resp.status {
        200..=299 => {}
        300..=399 => return Verdict::Rejected(format!("redirect_{}", resp.status)),
        429 | 500..=599 => return Verdict::Transient(format!("status_{}", resp.status)),
        s => return Verdict::Rejected(format!("status_{s}")),
    }
    if !is_html(&resp.headers) {
        return Verdict::Rejected("not_html".into());
    }
    let html = String::from_utf8_lossy(&resp.body);
    if links_to(&html, source, target) {
        Verdict::Verified
    } else {
        Verdict::Rejected("no_link".into())
    }
}

fn retry_secs(vars: &Vars<'_>) -> u32 {
    vars.get("WEBMENTION_RETRY_SECS").and_then(|v| v.trim().parse().ok()).unwrap_or(DEFAULT_RETRY_SECS)
}

/// Verifies queued mentions: fetches each source once (guarded) and records the verdict.
#[queue("webmentions", storage(D1))]
pub async fn verify_webmentions(
    batch: Batch<'_, WebmentionJob>,
    _who: Claims<'_, System>,
    db: D1<'_>,
    vars: Vars<'_>,
) -> Result<()> {
    let policy = UrlPolicy::from_var(vars.get("WEBMENTION_ALLOW_ORIGINS").as_deref());
    let delay = retry_secs(&vars);
    for msg in &batch {
        let job = msg.body();
        let row: Option<Row> = db
            .prepare("SELECT status, attempts, source, target FROM webmentions WHERE id = ?1")
            .bind(&[&job.id])
            .first()
            .await?;
        // Gone, already decided, or not the mention this job was made for: nothing to do.
        let Some(row) = row.filter(|r| {
            (r.status == "pending" || r.status == "retry") && r.source == job.source && r.target == job.target
        }) else {
            log_event("skipped", "stale_job", Some(job.id), None);
            msg.ack();
            continue;
        };
        let (Ok(source), Ok(target)) = (Url::parse(&row.source), Url::parse(&row.target)) else {
            db.prepare(
                "UPDATE webmentions SET status = 'rejected', reason = 'not_a_url', updated_at = ?2 WHERE id = ?1",
            )
            .bind(&[&job.id, &now_s()])
            .run()
            .await?;
            msg.ack();
            continue;
        };
        let req = OutboundRequest {
            headers: vec![
                ("accept".into(), "text/html, application/xhtml+xml;q=0.9".into()),
                ("user-agent".into(), "layers-webmention/0.1 (+verification)".into()),
            ],
            ..OutboundRequest::get(source.as_str())
        };
        let verdict = judge(fetch_guarded(&policy, req, MAX_SOURCE_BYTES).await, &source, &target);
        let attempts = row.attempts + 1;
        let (status, reason) = match &verdict {
            Verdict::Verified => ("verified", "link_found".to_owned()),
            Verdict::Rejected(r) => ("rejected", r.clone()),
            Verdict::Transient(r) if attempts < MAX_ATTEMPTS => ("retry", r.clone()),
            Verdict::Transient(r) => ("failed", r.clone()),
        };
        db.prepare("UPDATE webmentions SET status = ?2, reason = ?3, attempts = ?4, updated_at = ?5 WHERE id = ?1")
            .bind(&[&job.id, &status, &reason, &attempts, &now_s()])
            .run()
            .await?;
        log_event(status, &reason, Some(job.id), Some(&source));
        if status == "retry" {
            msg.retry_after(delay);
        } else {
            msg.ack();
        }
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
struct Stuck {
    id: i64,
    source: String,
    target: String,
}

/// The statuses [`retry_pending`] looks at: not decided yet, or given up on for this round.
const UNSETTLED: &str = "'pending', 'retry', 'failed'";

/// Queues again the mentions still `pending`, `retry` or `failed` an hour after their last
/// change (a lost message, a source that was down all week), with their attempts reset and
/// `rounds` counted up; those that already had [`MAX_ROUNDS`] rounds become `abandoned` instead
/// and are never queued by the cron again. At most 100 per call. Returns how many were queued.
///
/// # Errors
/// D1 or the queue failing.
pub(crate) async fn retry_pending(db: &D1<'_>, queue: &Queue<'_, WebmentionJob>) -> Result<u32> {
    let cutoff = now_s() - 3600;
    let abandoned = db
        .prepare(&format!(
            "UPDATE webmentions SET status = 'abandoned', updated_at = ?2 \
             WHERE status IN ({UNSETTLED}) AND updated_at < ?1 AND rounds >= ?3"
        ))
        .bind(&[&cutoff, &now_s(), &MAX_ROUNDS])
        .run()
        .await?
        .changes;
    let stuck: Vec<Stuck> = db
        .prepare(&format!(
            "SELECT id, source, target FROM webmentions \
             WHERE status IN ({UNSETTLED}) AND updated_at < ?1 AND rounds < ?2 ORDER BY id LIMIT 100"
        ))
        .bind(&[&cutoff, &MAX_ROUNDS])
        .all()
        .await?;
    let mut n = 0u32;
    for s in stuck {
        db.prepare(
            "UPDATE webmentions SET status = 'pending', attempts = 0, rounds = rounds + 1, updated_at = ?2 WHERE id = ?1",
        )
        .bind(&[&s.id, &now_s()])
        .run()
        .await?;
        queue.send(&WebmentionJob { id: s.id, source: s.source, target: s.target }).await?;
        n += 1;
    }
    log(&serde_json::json!({
        "layer": "app", "event": "webmention", "outcome": "requeued", "reason": "weekly_retry", "count": n,
        "abandoned": abandoned,
    }));
    Ok(n)
}

#[derive(Debug, Serialize, Deserialize)]
struct Listed {
    id: i64,
    source: String,
    target: String,
    status: String,
    reason: Option<String>,
    attempts: i64,
    rounds: i64,
}

/// Lists the webmentions (newest last; at most 500), for operators and the e2e tests.
#[route(GET "/api/webmentions", identity = ApiKey, storage(D1))]
pub async fn list_webmentions(_key: Claims<'_, ApiKey>, db: D1<'_>) -> Result<Response> {
    let rows: Vec<Listed> = db
        .prepare("SELECT id, source, target, status, reason, attempts, rounds FROM webmentions ORDER BY id LIMIT 500")
        .all()
        .await?;
    let resp = Response::from_json(&serde_json::json!({ "webmentions": rows }))?;
    let _ = resp.headers().set("cache-control", "no-store");
    Ok(resp)
}

/// Whether `a` and `b` name the same page: same scheme, host and port, same path up to one
/// trailing `/`, same query; fragments ignored.
fn same_resource(a: &Url, b: &Url) -> bool {
    let path = |u: &Url| -> String {
        let p = u.path();
        p.strip_suffix('/').filter(|s| !s.is_empty()).unwrap_or(p).to_owned()
    };
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
        && path(a) == path(b)
        && a.query() == b.query()
}

/// Whether the HTML page at `base` has a link (`href` of `<a>`, `<link>` or `<area>`) that
/// resolves to `target`. Text that merely contains the URL (prose, comments, scripts, other
/// attributes) does not count.
pub(crate) fn links_to(html: &str, base: &Url, target: &Url) -> bool {
    hrefs(html)
        .iter()
        .filter_map(|h| base.join(h.trim_matches(|c: char| c.is_ascii_whitespace())).ok())
        .any(|u| same_resource(&u, target))
}

/// The `href` values of `<a>`, `<link>` and `<area>` start tags, entity-decoded, in order.
/// Comments and the contents of `<script>`, `<style>`, `<textarea>`, `<title>` are skipped.
fn hrefs(html: &str) -> Vec<String> {
    let b = html.as_bytes();
    let lower = html.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(off) = b[i..].iter().position(|&c| c == b'<') {
        i += off;
        if lower[i..].starts_with("<!--") {
            i = lower[i + 4..].find("-->").map_or(b.len(), |e| i + 4 + e + 3);
            continue;
        }
        i += 1;
        let name_start = i;
        while i < b.len() && b[i].is_ascii_alphanumeric() {
            i += 1;
        }
        if i == name_start || !b[name_start].is_ascii_alphabetic() {
            continue;
        }
        let tag = lower[name_start..i].to_owned();
        // Attributes up to the end of the tag; a tag cut off by the end of the document is
        // dropped, as HTML parsers do.
        let mut found = None;
        loop {
            while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
                i += 1;
            }
            if i >= b.len() {
                found = None;
                break;
            }
            if b[i] == b'>' {
                break;
            }
            let an = i;
            while i < b.len() && !b[i].is_ascii_whitespace() && !matches!(b[i], b'=' | b'>' | b'/') {
                i += 1;
            }
            let attr = &lower[an..i];
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            let mut value = None;
            if i < b.len() && b[i] == b'=' {
                i += 1;
                while i < b.len() && b[i].is_ascii_whitespace() {
                    i += 1;
                }
                if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
                    let q = b[i];
                    let vs = i + 1;
                    let ve = b[vs..].iter().position(|&c| c == q).map_or(b.len(), |e| vs + e);
                    value = Some(&html[vs..ve]);
                    i = (ve + 1).min(b.len());
                } else {
                    let vs = i;
                    while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'>' {
                        i += 1;
                    }
                    value = Some(&html[vs..i]);
                }
            }
            // The first of duplicate attributes wins.
            if attr == "href" && found.is_none() && matches!(tag.as_str(), "a" | "link" | "area") {
                found = value.map(decode_entities);
            }
        }
        out.extend(found);
        if matches!(tag.as_str(), "script" | "style" | "textarea" | "title") {
            let close = format!("</{tag}");
            i = lower[i.min(b.len())..].find(&close).map_or(b.len(), |e| i + e);
        }
    }
    out
}

/// Decodes the character references an attribute value may hold (`&amp;`, `&#47;`, `&#x2F;`…).
fn decode_entities(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut rest = v;
    while let Some(p) = rest.find('&') {
        out.push_str(&rest[..p]);
        rest = &rest[p..];
        let end = rest.find(';').filter(|&e| e <= 10);
        let decoded = end.and_then(|e| {
            let name = &rest[1..e];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "sol" => Some('/'),
                "colon" => Some(':'),
                "period" => Some('.'),
                _ => {
                    let num = name.strip_prefix('#')?;
                    let code = match num.strip_prefix(['x', 'X']) {
                        Some(h) => u32::from_str_radix(h, 16).ok()?,
                        None => num.parse().ok()?,
                    };
                    char::from_u32(code)
                }
            };
            c.map(|c| (c, e))
        });
        match decoded {
            Some((c, e)) => {
                out.push(c);
                rest = &rest[e + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    const T: &str = "https://layers.test/blog/hello-layers";

    fn links(html: &str) -> bool {
        links_to(html, &u("https://source.example/posts/1"), &u(T))
    }

    #[test]
    fn finds_real_links() {
        assert!(links(r#"<p>See <a href="https://layers.test/blog/hello-layers">this</a></p>"#));
        assert!(links(r"<A HREF='https://LAYERS.test:443/blog/hello-layers/#comments'>x</A>"));
        assert!(links(r"<a class=u-in-reply-to href=https://layers.test/blog/hello-layers>x</a>"));
        assert!(links(r#"<link rel="in-reply-to" href="https://layers.test/blog/hello-layers">"#));
        assert!(links(r#"<a href = "https:&#x2F;&#x2F;layers.test/blog/hello-layers">x</a>"#));
        assert!(links(r#"<a title="x > y" href="https://layers.test/blog/hello-layers">x</a>"#));
        // Relative to a source on the same site.
        assert!(links_to(r#"<a href="../blog/hello-layers">x</a>"#, &u("https://layers.test/notes/1"), &u(T)));
    }

    #[test]
    fn a_mention_is_not_a_link() {
        for html in [
            "I read https://layers.test/blog/hello-layers yesterday",
            r#"<a href="https://layers.test/blog/hello-layers-2">x</a>"#,
            r#"<a href="https://layers.test/blog/hello-layers?x=1">x</a>"#,
            r#"<a href="http://layers.test/blog/hello-layers">x</a>"#,
            r#"<a href="https://layers.test.evil.example/blog/hello-layers">x</a>"#,
            r#"<a data-href="https://layers.test/blog/hello-layers">x</a>"#,
            r#"<img src="https://layers.test/blog/hello-layers">"#,
            r#"<div href="https://layers.test/blog/hello-layers">x</div>"#,
            r#"<!-- <a href="https://layers.test/blog/hello-layers">x</a> -->"#,
            r#"<script>var s = '<a href="https://layers.test/blog/hello-layers">';</script>"#,
            r#"<textarea><a href="https://layers.test/blog/hello-layers">x</a></textarea>"#,
            r#"<a href="/blog/hello-layers">relative to the source's own site</a>"#,
            "",
            "<a href",
            "<a href='https://layers.test/blog/hello-layers",
            "<a href='https://layers.test/blog/hello-layers'",
            "<a href=https://layers.test/blog/hello-layers",
            r#"<a href="https://elsewhere.example/" href="https://layers.test/blog/hello-layers">x</a>"#,
        ] {
            assert!(!links(html), "{html}");
        }
    }

    #[test]
    fn entities() {
        assert_eq!(decode_entities("a&amp;b&#47;c&#x2f;&bogus;&"), "a&b/c/&bogus;&");
        assert_eq!(decode_entities("&#xFFFFFFFF;"), "&#xFFFFFFFF;");
    }

    #[test]
    fn targets() {
        let site = u("https://layers.test");
        assert_eq!(target_slug(&site, "https://layers.test/blog/hello-layers").unwrap(), "hello-layers");
        assert_eq!(target_slug(&site, "https://LAYERS.test/blog/hello-layers/?a#b").unwrap(), "hello-layers");
        for bad in [
            "https://other.test/blog/hello-layers",
            "http://layers.test/blog/hello-layers",
            "https://layers.test:8443/blog/hello-layers",
            "https://layers.test/posts/hello-layers",
            "https://layers.test/blog/",
            "https://layers.test/blog/a/b",
            "https://layers.test/blog/%2e%2e",
            "https://u@layers.test/blog/hello-layers",
            "/blog/hello-layers",
        ] {
            assert!(target_slug(&site, bad).is_err(), "{bad}");
        }
    }

    fn ok(status: u16, ct: &str, body: &str) -> Result<layers_core::outbound::OutboundResponse, GuardedError> {
        Ok(layers_core::outbound::OutboundResponse {
            status,
            headers: vec![("content-type".into(), ct.into())],
            body: body.as_bytes().to_vec(),
        })
    }

    #[test]
    fn verdicts() {
        let (s, t) = (u("https://source.example/p"), u(T));
        let link = format!("<a href=\"{T}\">x</a>");
        assert_eq!(judge(ok(200, "text/html; charset=utf-8", &link), &s, &t), Verdict::Verified);
        assert_eq!(judge(ok(200, "text/html", "no link"), &s, &t), Verdict::Rejected("no_link".into()));
        assert_eq!(judge(ok(200, "application/json", &link), &s, &t), Verdict::Rejected("not_html".into()));
        assert_eq!(judge(ok(302, "text/html", &link), &s, &t), Verdict::Rejected("redirect_302".into()));
        assert_eq!(judge(ok(404, "text/html", &link), &s, &t), Verdict::Rejected("status_404".into()));
        assert_eq!(judge(ok(503, "text/html", ""), &s, &t), Verdict::Transient("status_503".into()));
        assert_eq!(judge(ok(429, "text/html", ""), &s, &t), Verdict::Transient("status_429".into()));
        assert_eq!(judge(Err(GuardedError::Timeout), &s, &t), Verdict::Transient("timeout".into()));
        assert_eq!(judge(Err(GuardedError::Network("x".into())), &s, &t), Verdict::Transient("network".into()));
        assert_eq!(judge(Err(GuardedError::TooLarge { limit: 1 }), &s, &t), Verdict::Rejected("too_large".into()));
        assert_eq!(
            judge(Err(GuardedError::Refused(layers_core::outbound::Refused::IpLiteral)), &s, &t),
            Verdict::Rejected("refused:ip_literal".into())
        );
    }
}
