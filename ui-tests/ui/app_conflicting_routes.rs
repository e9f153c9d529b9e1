// Promise 7: two routes that can match the same request are rejected by `app!`: one request,
// one identity.
use layers_core::prelude::*;

#[route(GET "/a/:x", identity = Public)]
async fn by_param(_who: Claims<'_, Public>) -> Result<Response> {
    Ok(Response::ok("param")?)
}

#[route(GET "/a/b", identity = ApiKey)]
async fn literal(_who: Claims<'_, ApiKey>) -> Result<Response> {
    Ok(Response::ok("literal")?)
}

app! { wrangler: "wrangler.toml", routes: [by_param, literal] }

fn main() {}
