// Promise 6: a pattern starts with `/`.
use layers_core::prelude::*;

#[route(GET "posts/:slug", identity = Public)]
async fn post(_who: Claims<'_, Public>) -> Result<Response> {
    Ok(Response::ok("post")?)
}

fn main() {}
