// Promise 5: every binding a route opens is cross-checked against wrangler.toml.
use layers_core::prelude::*;

#[route(GET "/", identity = Public, storage(D1 = "NOPE"))]
async fn home(_who: Claims<'_, Public>, _db: D1<'_>) -> Result<Response> {
    Ok(Response::ok("home")?)
}

app! { wrangler: "wrangler.toml", routes: [home] }

fn main() {}
