// `envs: [..]` may only name environments the config has.
use layers_core::prelude::*;

#[route(GET "/", identity = Public, storage(D1))]
async fn home(_who: Claims<'_, Public>, _db: D1<'_>) -> Result<Response> {
    Ok(Response::ok("home")?)
}

app! { wrangler: "wrangler-formats/env-missing.toml", envs: ["production", "prod"], routes: [home] }

fn main() {}
