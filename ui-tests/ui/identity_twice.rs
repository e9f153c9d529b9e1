// Promise 6: a route has one identity.
use layers_core::prelude::*;

#[route(GET "/api", identity = Public, identity = ApiKey)]
async fn api(_who: Claims<'_, Public>) -> Result<Response> {
    Ok(Response::ok("api")?)
}

fn main() {}
