//! The weekly retries, called by the cron: received mentions still unsettled an hour after
//! their last change ([`retry_pending`]) and sends that failed ([`retry_sends`], with a wait
//! that doubles per round) are queued again, for at most [`MAX_ROUNDS`] rounds, then `abandoned`.

use layers_core::prelude::*;
use serde::Deserialize;

use super::{log, now_s, SendJob, WebmentionJob, WebmentionTask, MAX_ROUNDS};

/// Default base wait of the weekly send retries (`WEBMENTION_SEND_BACKOFF_SECS` overrides): three
/// days, so a send that failed gets the next weekly run, then every other one.
pub const DEFAULT_SEND_BACKOFF_SECS: i64 = 3 * 24 * 3600;

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
pub(crate) async fn retry_pending(db: &D1<'_>, queue: &Queue<'_, WebmentionTask>) -> Result<u32> {
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
        queue.send(&WebmentionTask::Verify(WebmentionJob { id: s.id, source: s.source, target: s.target })).await?;
        n += 1;
    }
    log(&serde_json::json!({
        "layer": "app", "event": "webmention", "outcome": "requeued", "reason": "weekly_retry", "count": n,
        "abandoned": abandoned,
    }));
    Ok(n)
}

/// Whether a send that failed in weekly round `rounds` (0 for the first) is due again: `base` ×
/// 2^`rounds` seconds after its last attempt. With the default three days and a weekly cron,
/// rounds 0 and 1 are retried by the next run, round 2 (12 days) by the second one after.
#[must_use]
pub fn send_round_due(rounds: i64, updated_at: i64, now: i64, base: i64) -> bool {
    let wait = base.max(0).saturating_mul(1i64 << rounds.clamp(0, 30));
    now.saturating_sub(updated_at) >= wait
}

#[derive(Debug, Deserialize)]
struct FailedSend {
    id: i64,
    target: String,
    rounds: i64,
    updated_at: i64,
}

/// Queues again the sends that `failed` (or were lost: `pending`/`retry` untouched for a day)
/// once [`send_round_due`] says so, with attempts reset and `rounds` counted up; those that
/// already had [`MAX_ROUNDS`] rounds become `abandoned`. At most 100 per call. Returns how many
/// were queued.
///
/// # Errors
/// D1 or the queue failing.
pub(crate) async fn retry_sends(db: &D1<'_>, queue: &Queue<'_, WebmentionTask>, base: i64) -> Result<u32> {
    let now = now_s();
    let lost = now - 24 * 3600;
    let candidates: Vec<FailedSend> = db
        .prepare(
            "SELECT id, target, rounds, updated_at FROM webmention_sends \
             WHERE status = 'failed' OR (status IN ('pending', 'retry') AND updated_at < ?1) ORDER BY id LIMIT 100",
        )
        .bind(&[&lost])
        .all()
        .await?;
    let (mut queued, mut abandoned) = (0u32, 0u32);
    for c in candidates {
        if !send_round_due(c.rounds, c.updated_at, now, base) {
            continue;
        }
        if c.rounds >= MAX_ROUNDS {
            db.prepare("UPDATE webmention_sends SET status = 'abandoned', updated_at = ?2 WHERE id = ?1")
                .bind(&[&c.id, &now])
                .run()
                .await?;
            abandoned += 1;
            continue;
        }
        db.prepare(
            "UPDATE webmention_sends SET status = 'pending', attempts = 0, rounds = rounds + 1, updated_at = ?2 WHERE id = ?1",
        )
        .bind(&[&c.id, &now])
        .run()
        .await?;
        queue.send(&WebmentionTask::Send(SendJob { id: c.id, target: c.target })).await?;
        queued += 1;
    }
    log(&serde_json::json!({
        "layer": "app", "event": "webmention_send", "outcome": "requeued", "reason": "weekly_retry", "count": queued,
        "abandoned": abandoned,
    }));
    Ok(queued)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_rounds_wait_longer_each_time() {
        let day = 24 * 3600;
        let base = DEFAULT_SEND_BACKOFF_SECS;
        let failed = 1_000_000;
        // Round 0: due after three days, so the next weekly run (at least a day later) may be early.
        assert!(!send_round_due(0, failed, failed + 2 * day, base));
        assert!(send_round_due(0, failed, failed + 3 * day, base));
        assert!(send_round_due(1, failed, failed + 7 * day, base));
        assert!(!send_round_due(2, failed, failed + 7 * day, base));
        assert!(send_round_due(2, failed, failed + 14 * day, base));
        assert!(!send_round_due(3, failed, failed + 14 * day, base));
        // A zero base (tests) makes every failed send due at once; hostile values do not overflow.
        assert!(send_round_due(5, failed, failed, 0));
        assert!(!send_round_due(i64::MAX, 0, i64::MAX - 1, i64::MAX));
        assert!(send_round_due(-3, failed, failed + base, base));
    }
}
