// Promise 7: a `shadows(…)` declaration must name a route the declaring route really takes
// requests from; one that names nothing (a moved or renamed route) is an error, not a
// silent permission.
use layers_core::identity::{AccessJwt, EmailAllowlist, Guarded};
use layers_core::prelude::*;

type Admin = Guarded<AccessJwt, EmailAllowlist>;

#[route(GET "/admin/*", identity = Admin)]
async fn dashboard(_who: Claims<'_, Admin>) -> Result<Response> {
    Ok(Response::ok("admin")?)
}

#[route(GET "/admin/health", identity = Public, shadows("/admin/*", "/ops/*"))]
async fn health(_who: Claims<'_, Public>) -> Result<Response> {
    Ok(Response::ok("ok")?)
}

app! { wrangler: "wrangler.toml", routes: [dashboard, health] }

fn main() {}
