// A binding wrangler.jsonc does not declare is refused like one wrangler.toml does not.
use layers_core::prelude::*;

#[route(GET "/", identity = Public, storage(D1, KV))]
async fn home(_who: Claims<'_, Public>, _db: D1<'_>, _kv: Kv<'_>) -> Result<Response> {
    Ok(Response::ok("home")?)
}

app! { wrangler: "wrangler-formats/wrangler.jsonc", routes: [home] }

fn main() {}
