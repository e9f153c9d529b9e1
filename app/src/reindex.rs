//! The `reindex` queue: `POST /api/reindex` and `POST /api/reindex/raw` send to it, [`reindex()`]
//! consumes it, and [`dead_letters()`] keeps what reaches its dead-letter queue `reindex-dlq`.

use layers_core::prelude::*;
use serde::{Deserialize, Serialize};

use crate::search;

/// A request to reindex one post, sent by `POST /api/reindex` and consumed by [`reindex()`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReindexJob {
    /// The post's slug.
    pub slug: String,
    /// Why (free text, kept in D1).
    pub reason: String,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ReindexBody {
    One(ReindexJob),
    Many(Vec<ReindexJob>),
}

/// Queues one job (`{"slug","reason"}`) or several (`[{…}, …]`, sent as one batch).
#[route(POST "/api/reindex", identity = ApiKey, storage(Queue = "REINDEX" because(BackgroundJobs, Retries, "reindexing a post after the response")))]
pub async fn request_reindex(
    mut req: Request,
    _key: Claims<'_, ApiKey>,
    queue: Queue<'_, ReindexJob>,
) -> Result<Response> {
    let body: ReindexBody = req.json().await?;
    let n = match body {
        ReindexBody::One(job) => {
            queue.send(&job).await?;
            1
        }
        ReindexBody::Many(jobs) => {
            queue.send_batch(&jobs).await?;
            jobs.len()
        }
    };
    Ok(Response::from_json(&serde_json::json!({ "queued": n }))?.with_status(202))
}

/// Sends the request body as a bare string to the same queue: a message the consumer cannot
/// decode as a [`ReindexJob`] (how a poison message is retried, then dead-lettered). `app!`
/// refuses a `Queue<'_, String>` for a queue whose consumer decodes `ReindexJob`;
/// `Unchecked` is the explicit opt-out for this deliberate mismatch.
#[route(POST "/api/reindex/raw", identity = ApiKey, storage(Queue = "REINDEX" because(BackgroundJobs, Retries, "reindexing a post after the response")))]
pub async fn request_reindex_raw(
    mut req: Request,
    _key: Claims<'_, ApiKey>,
    queue: Queue<'_, Unchecked<String>>,
) -> Result<Response> {
    let text = req.text().await?;
    queue.send(&Unchecked(text)).await?;
    Ok(Response::from_json(&serde_json::json!({ "queued": 1 }))?.with_status(202))
}

/// Reindexes posts into the search table ([`search::reindex_batch`]: slug `*` rebuilds it all).
/// A job whose slug starts with `fail-` is retried (and, after `max_retries`, dead-lettered):
/// the explicit-retry path.
#[queue("reindex", storage(D1 because(FixedSchema, FullTextSearch, "posts and their search index")))]
pub async fn reindex(batch: Batch<'_, ReindexJob>, _who: Claims<'_, System>, db: D1<'_>) -> Result<()> {
    search::reindex_batch(&batch, &db).await
}

/// Keeps what reached the dead-letter queue, whatever its shape.
#[queue("reindex-dlq", storage(D1 because(FixedSchema, "dead-lettered reindex jobs")))]
pub async fn dead_letters(batch: Batch<'_, serde_json::Value>, _who: Claims<'_, System>, db: D1<'_>) -> Result<()> {
    #[allow(clippy::cast_possible_wrap)]
    let now = layers_core::log::now_ms() as i64;
    for msg in &batch {
        db.prepare("INSERT INTO dead_letters (body, received_at) VALUES (?1, ?2)")
            .bind(&[&msg.body().to_string(), &now])
            .run()
            .await?;
        msg.ack();
    }
    Ok(())
}
