// Where wrangler.jsonc and wrangler.toml both exist, wrangler reads wrangler.jsonc, and so does
// `app!`: the D1 binding only wrangler.toml declares is refused.
use layers_core::prelude::*;

#[route(GET "/", identity = Public, storage(D1))]
async fn home(_who: Claims<'_, Public>, _db: D1<'_>) -> Result<Response> {
    Ok(Response::ok("home")?)
}

app! { wrangler: "wrangler-formats/precedence", routes: [home] }

fn main() {}
