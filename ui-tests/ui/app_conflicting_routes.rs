// Promise 7: the most specific pattern answers a path, so `GET /a/b` takes `/a/b` from
// `GET /a/:x`. With another identity that must be declared (`shadows("/a/:x")`), or `app!`
// refuses the pair, naming both routes and both identities.
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
