// A fetch route receives its own verifier's claims, never `Claims<System>`.
use layers_core::prelude::*;

#[route(POST "/api/run-digest", identity = Public, storage(D1))]
async fn run_digest(_who: Claims<'_, System>, _db: D1<'_>) -> Result<Response> {
    Ok(Response::ok("ran")?)
}

fn main() {}
