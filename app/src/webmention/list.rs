//! `GET /api/webmentions`: the stored mentions and their status, for operators and the e2e tests.

use layers_core::prelude::*;
use serde::{Deserialize, Serialize};

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
#[route(GET "/api/webmentions", identity = ApiKey, storage(D1 because(FixedSchema, "webmentions")))]
pub async fn list_webmentions(_key: Claims<'_, ApiKey>, db: D1<'_>) -> Result<Response> {
    let rows: Vec<Listed> = db
        .prepare("SELECT id, source, target, status, reason, attempts, rounds FROM webmentions ORDER BY id LIMIT 500")
        .all()
        .await?;
    let resp = Response::from_json(&serde_json::json!({ "webmentions": rows }))?;
    let _ = resp.headers().set("cache-control", "no-store");
    Ok(resp)
}
