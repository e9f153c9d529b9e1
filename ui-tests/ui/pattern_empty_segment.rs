// Promise 6: `//` in a pattern could never match (such requests are refused).
use layers_core::prelude::*;

#[route(GET "/admin//users", identity = Public)]
async fn users(_who: Claims<'_, Public>) -> Result<Response> {
    Ok(Response::ok("users")?)
}

fn main() {}
