// With the `openapi` feature, a `responds(… Json<T>)` type must have a JSON Schema.
use layers_core::prelude::*;
use serde::Serialize;

#[derive(Serialize)]
struct Post {
    title: String,
}

#[route(GET "/post", identity = Public, responds(200 Json<Post>))]
async fn post(_: Claims<'_, Public>) -> Result<Response> {
    Ok(Response::from_json(&Post { title: "t".into() })?)
}

fn main() {}
