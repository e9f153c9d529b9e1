// Extractors: a handler reads the body once, with one body extractor.
use layers_core::prelude::*;
use serde::Deserialize;

#[derive(Deserialize)]
struct NewPost {
    title: String,
}

#[route(POST "/posts", identity = Public)]
async fn create(Json(a): Json<NewPost>, Form(b): Form<NewPost>, _who: Claims<'_, Public>) -> Result<Response> {
    Ok(Response::ok(format!("{}{}", a.title, b.title))?)
}

fn main() {}
