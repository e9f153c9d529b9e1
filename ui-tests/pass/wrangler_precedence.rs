// `wrangler:` naming a directory picks the file wrangler would pick there: wrangler.json before
// wrangler.jsonc before wrangler.toml (this directory's wrangler.toml does not even parse).
use layers_core::prelude::*;

#[route(GET "/", identity = Public, storage(D1))]
async fn home(_who: Claims<'_, Public>, _db: D1<'_>) -> Result<Response> {
    Ok(Response::ok("home")?)
}

app! { wrangler: "wrangler-formats/precedence", routes: [home] }

fn main() {}
