// A binding declared at the top level but not in an environment: `wrangler deploy --env staging`
// would deploy a Worker without it, so `app!` names the environment.
use layers_core::prelude::*;

#[route(GET "/", identity = Public, storage(D1, KV))]
async fn home(_who: Claims<'_, Public>, _db: D1<'_>, _kv: Kv<'_>) -> Result<Response> {
    Ok(Response::ok("home")?)
}

app! { wrangler: "wrangler-formats/env-missing.toml", routes: [home] }

fn main() {}
