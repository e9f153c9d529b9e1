// `storage(D1 = "OTHER", KV = "FLAGS")` opens bindings other than the defaults, as long as
// wrangler.toml declares them.
use layers_core::prelude::*;

#[route(GET "/other", identity = Public, storage(D1 = "OTHER", KV = "FLAGS"))]
async fn other(_who: Claims<'_, Public>, db: D1<'_>, flags: Kv<'_>) -> Result<Response> {
    Ok(Response::ok(format!("{} {}", db.binding(), flags.binding()))?)
}

app! { wrangler: "wrangler.toml", routes: [other] }

fn main() {}
