// Promise 6: a bad method is a compile error.
use layers_core::prelude::*;

#[route(GETT "/", identity = Public)]
async fn home(_who: Claims<'_, Public>) -> Result<Response> {
    Ok(Response::ok("home")?)
}

fn main() {}
