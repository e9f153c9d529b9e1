// Promise 1: deny by default. A route that does not say who may call it does not compile.
use layers_core::prelude::*;

#[route(GET "/admin")]
async fn admin(_req: Request, _who: Claims<'_, Public>) -> Result<Response> {
    Ok(Response::ok("secret")?)
}

fn main() {}
