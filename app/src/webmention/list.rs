//! `GET /api/webmentions`: the stored mentions and their status, for operators and the e2e tests;
//! `GET /admin/webmentions`: the same, and the mentions this blog sends, as admin pages.

use layers_core::prelude::*;
use serde::{Deserialize, Serialize};

use crate::Admin;

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

/// The admin page of webmentions, newest first: `?dir=sent` (default) the mentions this blog
/// sends (status, discovered endpoint and its answer, attempts, weekly rounds), `?dir=received`
/// those it received.
#[route(GET "/admin/webmentions", identity = Admin, storage(D1 because(FixedSchema, "webmentions sent and received")))]
pub async fn sent_webmentions(req: Request, _who: Claims<'_, Admin>, db: D1<'_>) -> Result<Response> {
    let (title, sql) = match req.query("dir").as_deref().map(str::trim) {
        None | Some("" | "sent") => (
            "webmentions sent",
            "SELECT id, slug, target, status, reason, endpoint, endpoint_status, attempts, rounds, updated_at \
             FROM webmention_sends WHERE id < ?1 ORDER BY id DESC LIMIT ?2",
        ),
        Some("received") => (
            "webmentions received",
            "SELECT id, source, target, status, reason, attempts, rounds, updated_at \
             FROM webmentions WHERE id < ?1 ORDER BY id DESC LIMIT ?2",
        ),
        Some(_) => return Err(Error::problem(400, "`dir` must be sent or received")),
    };
    crate::admin::by_id_desc(&req, &db, title, sql).await
}
