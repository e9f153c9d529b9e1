//! The `webmentions` queue consumer ([`webmention_tasks()`]): a verification fetches the source
//! once through the outbound URL guard, judges the answer (a link to the target, a refusal, a
//! transient failure) and records the verdict, retrying transient failures up to
//! [`MAX_ATTEMPTS`]; a send is [`super::send`]'s.

use layers_core::outbound::{GuardedError, OutboundRequest};
use layers_core::prelude::*;
use layers_core::Url;
use serde::Deserialize;

use super::links::links_to;
use super::{log_event, now_s, send, Next, WebmentionJob, WebmentionTask, MAX_ATTEMPTS, MAX_SOURCE_BYTES};

/// Default delay before a transient failure is tried again (`WEBMENTION_RETRY_SECS` overrides).
const DEFAULT_RETRY_SECS: u32 = 300;

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

/// Runs the queued webmention tasks: verifies received mentions (fetches each source once,
/// guarded, and records the verdict) and sends ours (see [the module](super#sending)).
#[queue("webmentions", storage(D1 because(FixedSchema, "webmentions received and sent")), vars(WEBMENTION_RETRY_SECS, SITE_URL), outbound(public(allow = WEBMENTION_ALLOW_ORIGINS)))]
pub async fn webmention_tasks(
    batch: Batch<'_, WebmentionTask>,
    _who: Claims<'_, System>,
    db: D1<'_>,
    vars: Vars<'_>,
    out: Outbound<'_>,
) -> Result<()> {
    let delay = retry_secs(&vars);
    for msg in &batch {
        let next = match msg.body() {
            WebmentionTask::Verify(job) => verify(job, &db, &out, delay).await?,
            WebmentionTask::Send(job) => send::send_one(job, &db, &vars, &out, delay).await?,
        };
        match next {
            Next::Ack => msg.ack(),
            Next::RetryAfter(secs) => msg.retry_after(secs),
        }
    }
    Ok(())
}

/// Verifies one received mention.
async fn verify(job: &WebmentionJob, db: &D1<'_>, out: &Outbound<'_>, delay: u32) -> Result<Next> {
    {
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
            return Ok(Next::Ack);
        };
        let (Ok(source), Ok(target)) = (Url::parse(&row.source), Url::parse(&row.target)) else {
            db.prepare(
                "UPDATE webmentions SET status = 'rejected', reason = 'not_a_url', updated_at = ?2 WHERE id = ?1",
            )
            .bind(&[&job.id, &now_s()])
            .run()
            .await?;
            return Ok(Next::Ack);
        };
        let req = OutboundRequest {
            headers: vec![
                ("accept".into(), "text/html, application/xhtml+xml;q=0.9".into()),
                ("user-agent".into(), "layers-webmention/0.1 (+verification)".into()),
            ],
            max_body: Some(MAX_SOURCE_BYTES),
            ..OutboundRequest::get(source.as_str())
        };
        let verdict = judge(out.send(req).await, &source, &target);
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
        Ok(if status == "retry" { Next::RetryAfter(delay) } else { Next::Ack })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    const T: &str = "https://layers.test/blog/hello-layers";

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
