//! Workers AI and Vectorize routes (all `ApiKey`):
//!
//! | route | storage |
//! |---|---|
//! | `POST /api/ai/summarize` (`{"text": …}`) | Ai (`AI`, model [`SUMMARY_MODEL`]) |
//! | `POST /api/vectors` (`{"vectors": [{id, values, metadata?, namespace?}]}`, upsert) | Vectorize (`VECTORIZE`) |
//! | `POST /api/vectors/query` (`{"vector": […], "top_k"?, "namespace"?, "metadata"?}`) | Vectorize |
//! | `GET /api/vectors` (describe) | Vectorize |
//! | `GET\|DELETE /api/vectors/:id` | Vectorize |
//!
//! In production these reach the real `[ai]` binding and the `[[vectorize]]` index (created
//! with `wrangler vectorize create layers-app --dimensions=4 --metric=cosine`). Locally
//! (`cargo xtask dev` / `e2e`) the same binding names are served by the loopback stand-in in
//! `tests/standin/`, which checks our JS interop and gating — not any model.

use layers_core::prelude::*;
use layers_core::storage::{QueryOptions, ReturnMetadata, VectorRecord};
use serde::{Deserialize, Serialize};

/// The summarization model (`{input_text, max_length}` → `{summary}`).
pub const SUMMARY_MODEL: &str = "@cf/facebook/bart-large-cnn";
/// The dimensions of the app's Vectorize index.
pub const DIMENSIONS: usize = 4;
/// Longest text `POST /api/ai/summarize` accepts, in bytes.
const MAX_TEXT: usize = 16 * 1024;

/// The body of `POST /api/ai/summarize`.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct SummarizeIn {
    text: String,
}

#[derive(Serialize)]
struct SummaryInput<'a> {
    input_text: &'a str,
    max_length: u32,
}

#[derive(Deserialize)]
struct SummaryOutput {
    summary: String,
}

/// Summarizes `text` with [`SUMMARY_MODEL`].
#[route(POST "/api/ai/summarize", identity = ApiKey, storage(Ai because(CatalogModel, "summaries by a catalog LLM")))]
pub async fn summarize(Json(body): Json<SummarizeIn>, _key: Claims<'_, ApiKey>, ai: Ai<'_>) -> Result<Response> {
    let text = body.text.trim();
    if text.is_empty() || text.len() > MAX_TEXT {
        return Err(Error::problem(400, format!("`text` must be 1 to {MAX_TEXT} bytes")));
    }
    let out: SummaryOutput = ai.run(SUMMARY_MODEL, &SummaryInput { input_text: text, max_length: 256 }).await?;
    Ok(Response::from_json(&serde_json::json!({ "model": SUMMARY_MODEL, "summary": out.summary }))?)
}

/// The body of `POST /api/vectors`.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct UpsertIn {
    vectors: Vec<VectorRecord>,
}

/// Upserts vectors of [`DIMENSIONS`] values.
#[route(POST "/api/vectors", identity = ApiKey, storage(Vectorize because(SemanticSearch, "post embeddings")))]
pub async fn upsert_vectors(
    Json(body): Json<UpsertIn>,
    _key: Claims<'_, ApiKey>,
    index: Vectorize<'_>,
) -> Result<Response> {
    let m = index.with_dimensions(DIMENSIONS).upsert(&body.vectors).await?;
    Ok(Response::from_json(&serde_json::json!({ "mutation_id": m.mutation_id, "count": body.vectors.len() }))?)
}

/// The body of `POST /api/vectors/query`.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct QueryIn {
    vector: Vec<f32>,
    top_k: Option<u32>,
    namespace: Option<String>,
    /// Return every match's metadata.
    #[serde(default)]
    metadata: bool,
}

/// The vectors nearest to `vector`, best first.
#[route(POST "/api/vectors/query", identity = ApiKey, storage(Vectorize because(SemanticSearch, SimilaritySearch, "related posts")))]
pub async fn query_vectors(
    Json(body): Json<QueryIn>,
    _key: Claims<'_, ApiKey>,
    index: Vectorize<'_>,
) -> Result<Response> {
    let opts = QueryOptions {
        top_k: body.top_k.unwrap_or(5),
        return_values: false,
        return_metadata: if body.metadata { ReturnMetadata::All } else { ReturnMetadata::None },
        filter: None,
        namespace: body.namespace,
    };
    let matches = index.with_dimensions(DIMENSIONS).query(&body.vector, &opts).await?;
    Ok(Response::from_json(&matches)?)
}

/// The index's dimensions and vector count.
#[route(GET "/api/vectors", identity = ApiKey, storage(Vectorize because(SemanticSearch, "post embeddings")))]
pub async fn describe_vectors(_key: Claims<'_, ApiKey>, index: Vectorize<'_>) -> Result<Response> {
    Ok(Response::from_json(&index.describe().await?)?)
}

/// One vector by id (404 when there is none).
#[route(GET "/api/vectors/:id", identity = ApiKey, storage(Vectorize because(SemanticSearch, "post embeddings")))]
pub async fn get_vector(req: Request, _key: Claims<'_, ApiKey>, index: Vectorize<'_>) -> Result<Response> {
    let id = req.param("id").unwrap_or_default();
    match index.get_by_ids(&[id]).await?.into_iter().find(|v| v.id == id) {
        Some(v) => Ok(Response::from_json(&v)?),
        None => Err(Error::not_found()),
    }
}

/// Deletes one vector by id.
#[route(DELETE "/api/vectors/:id", identity = ApiKey, storage(Vectorize because(SemanticSearch, "post embeddings")))]
pub async fn delete_vector(req: Request, _key: Claims<'_, ApiKey>, index: Vectorize<'_>) -> Result<Response> {
    let m = index.delete_by_ids(&[req.param("id").unwrap_or_default()]).await?;
    Ok(Response::from_json(&serde_json::json!({ "mutation_id": m.mutation_id }))?)
}
