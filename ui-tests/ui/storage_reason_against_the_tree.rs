// Issue 22: a storage declaration's reasons come from the seed's decision tree, and a reason the
// tree gives to another primitive is refused with the tree's advice.
use layers_core::prelude::*;

// KV for sessions that change on every request: KV allows ~1 write/key/second.
#[route(POST "/cart", identity = ApiKey, storage(KV because(FrequentWrites, "the cart, on every click")))]
async fn cart(_who: Claims<'_, ApiKey>, _kv: Kv<'_>) -> Result<Response> {
    Ok(Response::ok("ok")?)
}

// D1 for uploaded images.
#[route(PUT "/avatar", identity = ApiKey, storage(D1 because(FixedSchema, BinaryObjects)))]
async fn avatar(_who: Claims<'_, ApiKey>, _db: D1<'_>) -> Result<Response> {
    Ok(Response::ok("ok")?)
}

// A Durable Object for reads from everywhere.
#[route(GET "/count", identity = Public, storage(DurableObject = "COUNTER" because(GlobalReads)))]
async fn count(_who: Claims<'_, Public>) -> Result<Response> {
    Ok(Response::ok("ok")?)
}

fn main() {}
