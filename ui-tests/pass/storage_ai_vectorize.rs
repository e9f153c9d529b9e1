// `storage(Ai)` opens the default `AI` binding (`[ai]`), `storage(Vectorize)` the default
// `VECTORIZE` index and `storage(Vectorize = "NAME")` another `[[vectorize]]` binding; a cron
// may use both too.
use layers_core::prelude::*;
use layers_core::storage::{QueryOptions, ReturnMetadata, VectorRecord};

#[derive(serde::Deserialize)]
struct Summary {
    summary: String,
}

#[route(POST "/summarize", identity = ApiKey, storage(Ai, Vectorize))]
async fn summarize(_who: Claims<'_, ApiKey>, ai: Ai<'_>, index: Vectorize<'_>) -> Result<Response> {
    let s: Summary = ai.run("@cf/facebook/bart-large-cnn", &serde_json::json!({"input_text": "x"})).await?;
    let raw = ai.run_json("@cf/baai/bge-small-en-v1.5", &serde_json::json!({"text": [s.summary]})).await?;
    let index = index.with_dimensions(2);
    let record = VectorRecord { id: "a".into(), values: vec![1.0, 0.0], metadata: None, namespace: None };
    index.upsert(&[record]).await?;
    let opts = QueryOptions { top_k: 3, return_metadata: ReturnMetadata::Indexed, ..QueryOptions::default() };
    let m = index.query(&[1.0, 0.0], &opts).await?;
    Ok(Response::ok(format!("{} {} {}", ai.binding(), m.count, raw))?)
}

#[route(GET "/similar", identity = ApiKey, storage(Vectorize = "EMBEDDINGS"))]
async fn similar(_who: Claims<'_, ApiKey>, index: Vectorize<'_>) -> Result<Response> {
    let found = index.get_by_ids(&["a", "b"]).await?;
    index.delete_by_ids(&["a"]).await?;
    Ok(Response::ok(format!("{} {:?}", found.len(), index.describe().await?.dimensions))?)
}

#[scheduled("0 2 * * SUN", storage(Ai, Vectorize))]
async fn reembed(_who: Claims<'_, System>, ai: Ai<'_>, index: Vectorize<'_>) -> Result<()> {
    let _: serde_json::Value = ai.run("@cf/baai/bge-small-en-v1.5", &serde_json::json!({"text": "x"})).await?;
    index.describe().await?;
    Ok(())
}

app! { wrangler: "storage_ai_wrangler.toml", routes: [summarize, similar], crons: [reembed] }

fn main() {}
