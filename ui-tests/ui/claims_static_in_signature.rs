// Promise 3: a handler cannot ask for claims that outlive the request.
use layers_core::prelude::*;

#[route(GET "/api/me", identity = ApiKey)]
async fn me(who: Claims<'static, ApiKey>) -> Result<Response> {
    Ok(Response::ok(who.label.clone())?)
}

fn main() {}
