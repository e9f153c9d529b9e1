// The smallest app: one public route.
use layers_core::prelude::*;

#[route(GET "/", identity = Public)]
async fn home(_who: Claims<'_, Public>) -> Result<Response> {
    Ok(Response::ok("hello")?)
}

app! { wrangler: "wrangler.toml", routes: [home] }

fn main() {}
