// Promise 6: handlers are `async fn`.
use layers_core::prelude::*;

#[route(GET "/", identity = Public)]
fn home(_who: Claims<'_, Public>) -> Result<Response> {
    Ok(Response::ok("home")?)
}

fn main() {}
