//! The `reindex` queue: `POST /api/reindex` and `POST /api/reindex/raw` send to it, [`reindex()`]
//! consumes it, and [`dead_letters()`] keeps what reaches its dead-letter queue `reindex-dlq`.

use layers_core::prelude::*;
use serde::{Deserialize, Serialize};

use crate::webmention::{self, WebmentionTask};
use crate::{embeddings, search};

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

/// The reason `POST /admin/posts` gives its jobs: after the reindex (search and embedding), the
/// consumer queues the post's webmentions.
pub const PUBLISH: &str = "publish";

#[derive(Deserialize)]
struct Body {
    body: String,
}

/// Reindexes posts: first the search table ([`search::reindex_batch`]: slug `*` rebuilds it
/// all), then each post's embedding in `POSTS_INDEX` ([`embeddings`]: an embedding that fails
/// retries the message once, then is given up, and never undoes the search entry). A job whose slug starts with `fail-` is retried (and, after
/// `max_retries`, dead-lettered): the explicit-retry path. For a job with reason [`PUBLISH`], a
/// webmention to every outside page the post links to is then queued ([`webmention::SendJob`]).
#[queue("reindex", storage(D1 because(FixedSchema, FullTextSearch, "posts and their search index"), Ai because(CatalogModel, "post embeddings"), Vectorize = "POSTS_INDEX" because(SemanticSearch, SimilaritySearch, "post embeddings for related posts and semantic search"), Queue = "WEBMENTIONS" because(BackgroundJobs, Retries, "webmentions of published posts")), vars(SITE_URL))]
pub async fn reindex(
    batch: Batch<'_, ReindexJob>,
    _who: Claims<'_, System>,
    db: D1<'_>,
    ai: Ai<'_>,
    posts_index: Vectorize<'_>,
    webmentions: Queue<'_, WebmentionTask>,
    vars: Vars<'_>,
) -> Result<()> {
    let indexed = search::reindex_batch(&batch, &db).await?;
    let site = if indexed.iter().any(|m| m.body().reason == PUBLISH) { Some(site_url(&vars)?) } else { None };
    for msg in indexed {
        let job = msg.body();
        if let Err(e) = embeddings::index_post(&db, &ai, &posts_index, &job.slug).await {
            let retry = embeddings::retry_embedding(msg.attempts());
            embeddings::log_failure(&job.slug, msg.attempts(), retry, &e);
            if retry {
                msg.retry_after(embeddings::RETRY_DELAY_SECS);
                continue;
            }
        }
        if let Some(site) = site.as_ref().filter(|_| job.reason == PUBLISH) {
            let post: Option<Body> =
                db.prepare("SELECT body FROM posts WHERE slug = ?1").bind(&[&job.slug]).first().await?;
            if let Some(post) = post {
                webmention::queue_for_post(&db, &webmentions, &job.slug, &post.body, site).await?;
            }
        }
        msg.ack();
    }
    Ok(())
}

fn site_url(vars: &Vars<'_>) -> Result<layers_core::Url> {
    let site = crate::blog::site_url(vars)?;
    layers_core::Url::parse(&site)
        .map_err(|_| Error::new(503, "service unavailable").with_detail("var SITE_URL is not a URL"))
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
