// Promise 5: a route's Workers AI binding is cross-checked against wrangler.toml's `[ai]`
// (this wrangler.toml declares none).
use layers_core::prelude::*;

#[route(POST "/summarize", identity = ApiKey, storage(Ai))]
async fn summarize(_who: Claims<'_, ApiKey>, ai: Ai<'_>) -> Result<Response> {
    let out: serde_json::Value = ai.run("@cf/facebook/bart-large-cnn", &serde_json::json!({"input_text": "x"})).await?;
    Ok(Response::ok(out.to_string())?)
}

app! { wrangler: "wrangler.toml", routes: [summarize] }

fn main() {}
