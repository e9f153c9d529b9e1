// Promise 6: the handler's `Claims` must be those of the route's `identity`.
use layers_core::prelude::*;

#[route(GET "/api/keys", identity = ApiKey)]
async fn keys(_who: Claims<'_, Public>) -> Result<Response> {
    Ok(Response::ok("keys")?)
}

fn main() {}
