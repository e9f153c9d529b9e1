// Promise 5: only declared storage reaches a handler — Workers AI included.
use layers_core::prelude::*;

#[route(POST "/summarize", identity = ApiKey)]
async fn summarize(_who: Claims<'_, ApiKey>, ai: Ai<'_>) -> Result<Response> {
    let out: serde_json::Value = ai.run("@cf/facebook/bart-large-cnn", &serde_json::json!({"input_text": "x"})).await?;
    Ok(Response::ok(out.to_string())?)
}

fn main() {}
