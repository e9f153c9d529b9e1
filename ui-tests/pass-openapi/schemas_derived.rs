// With the `openapi` feature, types deriving `schemars::JsonSchema` describe the route.
use layers_core::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, schemars::JsonSchema)]
struct PostPath {
    slug: String,
}

#[derive(Deserialize, Serialize, schemars::JsonSchema)]
struct Post {
    title: String,
}

#[route(POST "/posts/:slug", identity = ApiKey, responds(201 Json<Post>, 204))]
async fn create(Path(p): Path<PostPath>, Json(b): Json<Post>, _: Claims<'_, ApiKey>) -> Result<Response> {
    Ok(Response::ok(format!("{} {}", p.slug, b.title))?)
}

// Types the schema crate already knows need nothing.
#[route(GET "/hello/:name", identity = Public, responds(200 Text))]
async fn hello(Path(name): Path<String>, _: Claims<'_, Public>) -> Result<Response> {
    Ok(Response::ok(name)?)
}

fn main() {}
