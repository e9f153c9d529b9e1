// `envs: [..]` names the environments the app is deployed to: the others are not checked.
use layers_core::prelude::*;

#[route(GET "/", identity = Public, storage(D1))]
async fn home(_who: Claims<'_, Public>, _db: D1<'_>) -> Result<Response> {
    Ok(Response::ok("home")?)
}

app! { wrangler: "wrangler-formats/envs.toml", envs: ["production"], routes: [home] }

fn main() {}
