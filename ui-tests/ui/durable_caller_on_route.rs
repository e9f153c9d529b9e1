// `DurableCaller` claims are made only by an object's entry point: no route can ask for them.
use layers_core::prelude::*;

#[route(GET "/", identity = DurableCaller)]
async fn home(_who: Claims<'_, DurableCaller>) -> Result<Response> {
    Ok(Response::ok("hi")?)
}

fn main() {}
