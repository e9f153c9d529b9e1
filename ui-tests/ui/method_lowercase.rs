// Promise 6: methods are written in capitals.
use layers_core::prelude::*;

#[route(get "/", identity = Public)]
async fn home(_who: Claims<'_, Public>) -> Result<Response> {
    Ok(Response::ok("home")?)
}

fn main() {}
