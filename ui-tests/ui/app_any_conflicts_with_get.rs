// Promise 7: `ANY` shares every method, so it conflicts with `GET` on the same path.
use layers_core::prelude::*;

#[route(ANY "/admin", identity = ApiKey)]
async fn admin_any(_who: Claims<'_, ApiKey>) -> Result<Response> {
    Ok(Response::ok("any")?)
}

#[route(GET "/admin", identity = Public)]
async fn admin_get(_who: Claims<'_, Public>) -> Result<Response> {
    Ok(Response::ok("get")?)
}

app! { wrangler: "wrangler.toml", routes: [admin_any, admin_get] }

fn main() {}
