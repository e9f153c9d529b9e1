//! `GET /api/events`: what the weekly cron and the queue consumers wrote (digest runs,
//! reindexed posts, dead letters), for the e2e tests.

use layers_core::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
struct DigestRun {
    cron: String,
    scheduled_at: i64,
}

#[derive(Debug, Serialize, Deserialize)]
struct Reindexed {
    slug: String,
    reason: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct DeadLetter {
    body: String,
}

/// What the cron and the queue consumers wrote.
#[route(GET "/api/events", identity = ApiKey, storage(D1 because(FixedSchema, ComplexSql, "the request log")))]
pub async fn events(_key: Claims<'_, ApiKey>, db: D1<'_>) -> Result<Response> {
    let runs: Vec<DigestRun> = db.prepare("SELECT cron, scheduled_at FROM digest_runs ORDER BY id").all().await?;
    let reindexed: Vec<Reindexed> = db.prepare("SELECT slug, reason FROM reindexed ORDER BY slug").all().await?;
    let dead: Vec<DeadLetter> = db.prepare("SELECT body FROM dead_letters ORDER BY id").all().await?;
    let resp = Response::from_json(&serde_json::json!({
        "digest_runs": runs,
        "reindexed": reindexed,
        "dead_letters": dead.into_iter().map(|d| d.body).collect::<Vec<_>>(),
    }))?;
    let _ = resp.headers().set("cache-control", "no-store");
    Ok(resp)
}
