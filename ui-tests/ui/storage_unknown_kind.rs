// Promise 5: storage kinds are the ones layers knows, spelled as documented.
use layers_core::prelude::*;

#[route(GET "/files", identity = Public, storage(Hyperdrive, d1))]
async fn files(_who: Claims<'_, Public>) -> Result<Response> {
    Ok(Response::ok("files")?)
}

fn main() {}
