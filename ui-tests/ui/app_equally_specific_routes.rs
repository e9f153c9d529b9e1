// Promise 7: two routes of the same shape sharing a method are equally specific, so nothing
// decides between them: a compile error, whatever the parameters are called and even with one
// identity.
use layers_core::prelude::*;

#[route(GET "/posts/:slug", identity = Public)]
async fn by_slug(_who: Claims<'_, Public>) -> Result<Response> {
    Ok(Response::ok("slug")?)
}

#[route(GET "/posts/:id", identity = Public)]
async fn by_id(_who: Claims<'_, Public>) -> Result<Response> {
    Ok(Response::ok("id")?)
}

app! { wrangler: "wrangler.toml", routes: [by_slug, by_id] }

fn main() {}
