//! `POST /api/webmention`: the abuse guard, the synchronous checks of `source` (the outbound URL
//! guard) and `target` (a post of this site), then the `pending` row and its queued job.

use layers_core::outbound::UrlPolicy;
use layers_core::prelude::*;
use layers_core::request::extract::FromBody;
use layers_core::Url;
use serde::Deserialize;

use super::links::same_resource;
use super::{log_event, now_s, WebmentionJob, WebmentionTask};

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
#[route(POST "/api/webmention", identity = Public, storage(D1 because(FixedSchema, "received webmentions"), Queue = "WEBMENTIONS" because(BackgroundJobs, Retries, "fetching the source after the response"), DurableObject = "RATE_LIMITER" because(SingleWriter, "the per-address abuse guard")), vars(ABUSE_LIMIT, ABUSE_WINDOW_SECS, WEBMENTION_ALLOW_ORIGINS, SITE_URL))]
pub async fn receive_webmention(
    mut req: Request,
    _who: Claims<'_, Public>,
    db: D1<'_>,
    queue: Queue<'_, WebmentionTask>,
    limiter: DurableObject<'_, crate::rate_limiter::RateLimiter>,
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
        queue.send(&WebmentionTask::Verify(WebmentionJob { id, source: source_s, target })).await?;
    }
    log_event("accepted", if queued { "queued" } else { "already_pending" }, Some(id), Some(&source));
    Ok(Response::from_json(&serde_json::json!({ "id": id, "status": "pending" }))?.with_status(202))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
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
}
