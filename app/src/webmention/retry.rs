//! The weekly retry ([`retry_pending`], called by the cron): mentions still unsettled an hour
//! after their last change are queued again, for at most [`MAX_ROUNDS`] rounds, then `abandoned`.

use layers_core::prelude::*;
use serde::Deserialize;

use super::{log, now_s, WebmentionJob, MAX_ROUNDS};

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
