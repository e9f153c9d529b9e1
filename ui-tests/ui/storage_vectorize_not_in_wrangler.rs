// Promise 5: a route's Vectorize index is cross-checked against wrangler.toml's `[[vectorize]]`
// (this wrangler.toml declares none).
use layers_core::prelude::*;
use layers_core::storage::QueryOptions;

#[route(POST "/search", identity = ApiKey, storage(Vectorize = "EMBEDDINGS"))]
async fn search(_who: Claims<'_, ApiKey>, index: Vectorize<'_>) -> Result<Response> {
    let m = index.query(&[1.0, 0.0], &QueryOptions::default()).await?;
    Ok(Response::ok(format!("{}", m.count))?)
}

app! { wrangler: "wrangler.toml", routes: [search] }

fn main() {}
