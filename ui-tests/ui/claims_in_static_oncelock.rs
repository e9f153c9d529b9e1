// Promise 3: claims cannot be cached in a `OnceLock` static either.
use std::sync::OnceLock;

use layers_core::prelude::*;

static FIRST_CALLER: OnceLock<Claims<'static, ApiKey>> = OnceLock::new();

#[route(GET "/api/ping", identity = ApiKey)]
async fn ping(who: Claims<'_, ApiKey>) -> Result<Response> {
    let _ = FIRST_CALLER.set(who);
    Ok(Response::ok("pong")?)
}

fn main() {}
