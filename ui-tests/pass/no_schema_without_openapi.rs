// Without layers' `openapi` feature, extractor and `responds(…)` types need no JSON Schema.
use layers_core::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
struct PostPath {
    slug: String,
}

#[derive(Serialize)]
struct Post {
    title: String,
}

#[route(GET "/posts/:slug", identity = Public, responds(200 Json<Post>, 404))]
async fn show(Path(p): Path<PostPath>, _: Claims<'_, Public>) -> Result<Response> {
    Ok(Response::from_json(&Post { title: p.slug })?)
}

fn main() {}
