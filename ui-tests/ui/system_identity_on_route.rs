// `System` is the platform's identity: no fetch route can claim it.
use layers_core::prelude::*;

#[route(POST "/api/run-digest", identity = System)]
async fn run_digest(_who: Claims<'_, System>) -> Result<Response> {
    Ok(Response::ok("ran")?)
}

fn main() {}
