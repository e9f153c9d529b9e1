// Promise 6: each parameter has its own name.
use layers_core::prelude::*;

#[route(GET "/users/:id/posts/:id", identity = Public)]
async fn user_post(_who: Claims<'_, Public>) -> Result<Response> {
    Ok(Response::ok("post")?)
}

fn main() {}
