// Promise 6: parameter names are identifiers.
use layers_core::prelude::*;

#[route(GET "/users/:1d", identity = Public)]
async fn user(_who: Claims<'_, Public>) -> Result<Response> {
    Ok(Response::ok("user")?)
}

fn main() {}
