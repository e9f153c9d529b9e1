//! The weekly digest (cron `0 2 * * SUN`): the posts published in the 7 days before the run (or,
//! in a quiet week, the latest [`LATEST_FALLBACK`]), mailed to every `active` subscriber
//! through the mail sender at `MAIL_URL` ([`crate::mail`]), each mail with its own unsubscribe
//! link (a [`SignedToken`] for purpose `unsubscribe`,
//! valid [`UNSUBSCRIBE_LINK_DAYS`] days).
//!
//! **Editions.** A digest edition is the week a run belongs to: the Sunday 02:00 UTC at or
//! before the scheduled time ([`edition`]). `digest_sends` keeps one row per (edition,
//! subscriber) mailed, so a re-run in the same week (a platform retry, a manual trigger)
//! mails only whoever has not had this edition yet — nobody twice. A send that failed is not
//! recorded and is tried again by the next run of the edition. Every run is a row in
//! `digest_runs` with its counts (`recipients`, `sent`, `skipped` = already had it,
//! `failed`).
//!
//! **Batches.** Recipients are read [`BATCH`] at a time (keyset on the email), mailed
//! [`PARALLEL`] at a time (the Workers limit on simultaneous outbound connections), and each
//! batch's successful sends are recorded in one D1 batch before the next is read.

use futures::future::join_all;
use layers_core::prelude::*;
use serde::Deserialize;

use crate::mail::{self, Mail};
use crate::webmention;
use crate::Unsubscribe;

/// Seconds in a week.
pub const WEEK_SECS: i64 = 7 * 24 * 3600;
/// 1970-01-04 (a Sunday) 02:00 UTC, in Unix seconds: where the editions are counted from.
const FIRST_SUNDAY_0200: i64 = 3 * 24 * 3600 + 2 * 3600;
/// Recipients read from D1 per batch.
pub const BATCH: u32 = 50;
/// Mails in flight at once.
pub const PARALLEL: usize = 6;
/// Posts listed at most.
pub const MAX_POSTS: u32 = 10;
/// When the week had no new post, how many of the latest posts the digest shows instead.
pub const LATEST_FALLBACK: u32 = 3;
/// How long a digest's unsubscribe link works.
pub const UNSUBSCRIBE_LINK_DAYS: u64 = 60;

/// The edition (Unix seconds of the Sunday 02:00 UTC at or before `scheduled_secs`).
#[must_use]
pub fn edition(scheduled_secs: i64) -> i64 {
    scheduled_secs - (scheduled_secs - FIRST_SUNDAY_0200).rem_euclid(WEEK_SECS)
}

/// `YYYY-MM-DD` (UTC) of Unix seconds: the name of a digest's edition.
pub use layers_core::time::ymd;

/// A post as the digest shows it.
#[derive(Debug, Clone, Deserialize)]
pub struct DigestPost {
    /// The post's slug.
    pub slug: String,
    /// Its title.
    pub title: String,
    /// Its text (the digest quotes the start).
    pub body: String,
}

/// The subject of an edition's mail.
#[must_use]
pub fn subject(site: &str, edition: i64) -> String {
    format!("{site}: weekly digest, week of {}", ymd(edition))
}

/// The plain-text digest for one subscriber.
#[must_use]
pub fn render(site: &str, site_url: &str, posts: &[DigestPost], unsubscribe_url: &str) -> String {
    let mut text = format!("This week on {site}:\n\n");
    for p in posts {
        let mut teaser: String = p.body.chars().take(200).collect();
        if teaser.len() < p.body.len() {
            teaser.push('…');
        }
        text.push_str(&format!("* {}\n  {site_url}/blog/{}\n  {teaser}\n\n", p.title, p.slug));
    }
    text.push_str(&format!("You get this because you subscribed to {site}.\nUnsubscribe: {unsubscribe_url}\n"));
    text
}

/// What one run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Posts in the digest.
    pub posts: u32,
    /// Active subscribers that still needed this edition.
    pub recipients: u32,
    /// Mails the sender accepted.
    pub sent: u32,
    /// Active subscribers that already had this edition.
    pub skipped: u32,
    /// Mails that could not be handed over (retried by the next run of the edition).
    pub failed: u32,
}

#[derive(Deserialize)]
struct Email {
    email: String,
}

#[derive(Deserialize)]
struct Count {
    n: u32,
}

/// The weekly jobs: the digest mail to every active subscriber ([`run`]: one edition
/// per week, nobody mailed twice, a `digest_runs` row with the counts of every run), the retry of
/// received webmentions still unverified and of webmention sends that failed
/// (`WEBMENTION_SEND_BACKOFF_SECS`: the base of their doubling wait, default three days).
#[scheduled("0 2 * * SUN", storage(D1 because(FixedSchema, ComplexSql, "subscribers and the digests sent"), Queue = "WEBMENTIONS" because(Retries, BackgroundJobs, "webmention fetches and sends to retry")), vars(SITE_NAME, SITE_URL, MAIL_FROM, WEBMENTION_SEND_BACKOFF_SECS), outbound(MAIL_URL))]
pub async fn weekly_digest(
    who: Claims<'_, System>,
    db: D1<'_>,
    vars: Vars<'_>,
    out: Outbound<'_>,
    webmentions: Queue<'_, webmention::WebmentionTask>,
    unsubscribe_links: Mint<'_, Unsubscribe>,
) -> Result<()> {
    // The digest's outcome is returned once the other weekly work has run too.
    let digest = run(&who, &db, &vars, &out, &unsubscribe_links).await;
    webmention::retry_pending(&db, &webmentions).await?; // mentions still unverified after an hour
    let base = vars
        .get("WEBMENTION_SEND_BACKOFF_SECS")
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(webmention::DEFAULT_SEND_BACKOFF_SECS);
    webmention::retry_sends(&db, &webmentions, base).await?;
    digest.map(|_counts| ())
}

/// Runs the digest for the cron run `who` (see the module docs).
///
/// # Errors
/// D1 failures, or no way to mail at all (`MAIL_URL` unset/refused, `SIGNING_KEY` unset): the
/// run row then stays with what was done so far and the error is logged by the framework.
pub async fn run(
    who: &Claims<'_, System>,
    db: &D1<'_>,
    vars: &Vars<'_>,
    out: &Outbound<'_>,
    unsubscribe_links: &Mint<'_, Unsubscribe>,
) -> Result<Counts> {
    #[allow(clippy::cast_possible_wrap)] // ms since the epoch
    let scheduled_ms = who.time_ms as i64;
    let scheduled = scheduled_ms / 1000;
    let ed = edition(scheduled);
    #[allow(clippy::cast_possible_wrap)]
    let now_ms = layers_core::log::now_ms() as i64;
    let run = db
        .prepare("INSERT INTO digest_runs (cron, scheduled_at, ran_at, edition) VALUES (?1, ?2, ?3, ?4)")
        .bind(&[&who.source, &scheduled_ms, &now_ms, &ed])
        .run()
        .await?;
    let run_id = run.last_row_id.ok_or_else(|| Error::internal("digest_runs insert returned no row id"))?;

    let mut posts: Vec<DigestPost> = db
        .prepare("SELECT slug, title, body FROM posts WHERE published_at > ?1 AND published_at <= ?2 ORDER BY published_at DESC LIMIT ?3")
        .bind(&[&(scheduled - WEEK_SECS), &scheduled, &MAX_POSTS])
        .all()
        .await?;
    if posts.is_empty() {
        posts = db
            .prepare("SELECT slug, title, body FROM posts WHERE published_at IS NOT NULL AND published_at <= ?1 ORDER BY published_at DESC LIMIT ?2")
            .bind(&[&scheduled, &LATEST_FALLBACK])
            .all()
            .await?;
    }
    let mut counts = Counts { posts: u32::try_from(posts.len()).unwrap_or(u32::MAX), ..Counts::default() };
    let skipped: Option<Count> = db
        .prepare("SELECT COUNT(*) AS n FROM subscribers s WHERE s.status = 'active' AND EXISTS (SELECT 1 FROM digest_sends d WHERE d.edition = ?1 AND d.email = s.email)")
        .bind(&[&ed])
        .first()
        .await?;
    counts.skipped = skipped.map_or(0, |c| c.n);

    if !posts.is_empty() {
        let result = send_all(unsubscribe_links, db, vars, out, ed, &posts, &mut counts).await;
        record(db, run_id, counts).await?;
        result?;
    } else {
        record(db, run_id, counts).await?;
    }
    Ok(counts)
}

async fn record(db: &D1<'_>, run_id: i64, c: Counts) -> Result<()> {
    db.prepare(
        "UPDATE digest_runs SET posts = ?2, recipients = ?3, sent = ?4, skipped = ?5, failed = ?6 WHERE id = ?1",
    )
    .bind(&[&run_id, &c.posts, &c.recipients, &c.sent, &c.skipped, &c.failed])
    .run()
    .await?;
    Ok(())
}

async fn send_all(
    unsubscribe_links: &Mint<'_, Unsubscribe>,
    db: &D1<'_>,
    vars: &Vars<'_>,
    out: &Outbound<'_>,
    ed: i64,
    posts: &[DigestPost],
    counts: &mut Counts,
) -> Result<()> {
    let site = vars.get("SITE_NAME").unwrap_or_else(|| "layers".into());
    let site_url = vars.get("SITE_URL").unwrap_or_default().trim_end_matches('/').to_owned();
    let subject = subject(&site, ed);
    #[allow(clippy::cast_sign_loss)] // after 1970
    let expires = (ed.max(0) as u64) + WEEK_SECS as u64 + UNSUBSCRIBE_LINK_DAYS * 24 * 3600;
    let mut after = String::new();
    loop {
        let batch: Vec<Email> = db
            .prepare("SELECT email FROM subscribers s WHERE s.status = 'active' AND s.email > ?1 AND NOT EXISTS (SELECT 1 FROM digest_sends d WHERE d.edition = ?2 AND d.email = s.email) ORDER BY s.email LIMIT ?3")
            .bind(&[&after, &ed, &BATCH])
            .all()
            .await?;
        let Some(last) = batch.last() else { break };
        after.clone_from(&last.email);
        counts.recipients += u32::try_from(batch.len()).unwrap_or(u32::MAX);
        let mut delivered: Vec<&str> = Vec::new();
        for group in batch.chunks(PARALLEL) {
            let mut texts = Vec::with_capacity(group.len());
            for r in group {
                let token = unsubscribe_links.mint(&r.email, expires)?;
                texts.push(render(&site, &site_url, posts, &format!("{site_url}/api/unsubscribe/{token}")));
            }
            let subject = subject.as_str();
            let sends = group.iter().zip(&texts).map(|(r, text)| async move {
                let mail = Mail { to: &r.email, subject, text };
                (r.email.as_str(), mail::send(out, vars, &mail).await)
            });
            for (email, outcome) in join_all(sends).await {
                match outcome {
                    Ok(()) => delivered.push(email),
                    // A misconfigured sender fails every mail: stop instead of trying them all.
                    Err(e) if e.status() == 503 && e.detail().is_some_and(|d| d.starts_with("MAIL_URL")) => {
                        return Err(e)
                    }
                    Err(_) => counts.failed += 1,
                }
            }
        }
        #[allow(clippy::cast_possible_wrap)]
        let now = (layers_core::log::now_ms() / 1000) as i64;
        let statements = delivered
            .iter()
            .map(|email| {
                db.prepare("INSERT OR IGNORE INTO digest_sends (edition, email, sent_at) VALUES (?1, ?2, ?3)")
                    .bind(&[&ed, email, &now])
            })
            .collect::<Vec<_>>();
        counts.sent += u32::try_from(statements.len()).unwrap_or(u32::MAX);
        if !statements.is_empty() {
            db.batch(statements).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn editions_are_the_sunday_0200_utc_at_or_before() {
        // 2026-11-29 is a Sunday: 02:00 UTC is 1_795_917_600.
        let sunday = 1_795_917_600;
        assert_eq!(ymd(sunday), "2026-11-29");
        assert_eq!(edition(sunday), sunday);
        assert_eq!(edition(sunday + 1), sunday);
        assert_eq!(edition(sunday + WEEK_SECS - 1), sunday);
        assert_eq!(edition(sunday + WEEK_SECS), sunday + WEEK_SECS);
        assert_eq!(edition(sunday - 1), sunday - WEEK_SECS);
        // Saturday evening belongs to the previous Sunday's edition.
        assert_eq!(ymd(edition(sunday - 5 * 3600)), "2026-11-22");
        assert_eq!(edition(FIRST_SUNDAY_0200), FIRST_SUNDAY_0200);
        assert_eq!(ymd(FIRST_SUNDAY_0200), "1970-01-04");
    }

    #[test]
    fn dates() {
        assert_eq!(ymd(0), "1970-01-01");
        assert_eq!(ymd(951_782_400), "2000-02-29");
        assert_eq!(ymd(1_709_164_800), "2024-02-29");
        assert_eq!(ymd(-86_400), "1969-12-31");
    }

    #[test]
    fn the_text_holds_each_post_and_the_link() {
        let posts = vec![
            DigestPost { slug: "a".into(), title: "First".into(), body: "x".repeat(300) },
            DigestPost { slug: "b".into(), title: "Second".into(), body: "short".into() },
        ];
        let t = render("blog", "https://blog.example", &posts, "https://blog.example/api/unsubscribe/T");
        assert!(t.contains("* First\n  https://blog.example/blog/a\n"));
        assert!(t.contains(&format!("{}…", "x".repeat(200))));
        assert!(t.contains("short\n"));
        assert!(t.ends_with("Unsubscribe: https://blog.example/api/unsubscribe/T\n"));
        assert_eq!(subject("blog", 1_795_917_600), "blog: weekly digest, week of 2026-11-29");
    }
}
