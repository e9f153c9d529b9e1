// Promise 6: `*` matches the rest of the path, so it comes last.
use layers_core::prelude::*;

#[route(GET "/files/*/meta", identity = Public)]
async fn meta(_who: Claims<'_, Public>) -> Result<Response> {
    Ok(Response::ok("meta")?)
}

fn main() {}
