// Promise 6: `identity = …` must name a verifier.
use layers_core::prelude::*;

#[route(GET "/", identity = String)]
async fn home(_who: Claims<'_, Public>) -> Result<Response> {
    Ok(Response::ok("hi")?)
}

fn main() {}
