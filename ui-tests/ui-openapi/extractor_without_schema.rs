// With the `openapi` feature, an extractor's type must have a JSON Schema.
use layers_core::prelude::*;
use serde::Deserialize;

#[derive(Deserialize)]
struct PostPath {
    slug: String,
}

#[derive(Deserialize)]
struct NewPost {
    title: String,
}

#[route(POST "/posts/:slug", identity = Public)]
async fn create(Path(p): Path<PostPath>, Json(b): Json<NewPost>, _: Claims<'_, Public>) -> Result<Response> {
    Ok(Response::ok(format!("{} {}", p.slug, b.title))?)
}

fn main() {}
