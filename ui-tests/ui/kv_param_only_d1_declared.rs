// Promise 5: declaring D1 does not grant KV.
use layers_core::prelude::*;

#[route(GET "/posts", identity = Public, storage(D1))]
async fn posts(_who: Claims<'_, Public>, _db: D1<'_>, kv: Kv<'_>) -> Result<Response> {
    kv.delete("everything").await?;
    Ok(Response::ok("ok")?)
}

fn main() {}
