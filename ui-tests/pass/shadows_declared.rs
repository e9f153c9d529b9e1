// Promise 7: routing by specificity. `/admin/health` (Public) takes that path from the
// `/admin/*` wildcard (Admin) and says so; `/admin/:page/edit` has the wildcard's identity and
// needs no declaration; `GET /admin` and `GET /admin/*` are different paths.
use layers_core::identity::{AccessJwt, EmailAllowlist, Guarded};
use layers_core::prelude::*;

type Admin = Guarded<AccessJwt, EmailAllowlist>;

#[route(GET "/admin", identity = Admin)]
async fn home(_who: Claims<'_, Admin>) -> Result<Response> {
    Ok(Response::ok("admin")?)
}

#[route(GET "/admin/*", identity = Admin)]
async fn dashboard(_who: Claims<'_, Admin>) -> Result<Response> {
    Ok(Response::ok("admin")?)
}

#[route(GET "/admin/:page/edit", identity = Admin)]
async fn edit(_who: Claims<'_, Admin>) -> Result<Response> {
    Ok(Response::ok("edit")?)
}

#[route(GET "/admin/health", identity = Public, shadows("/admin/*"))]
async fn health(_who: Claims<'_, Public>) -> Result<Response> {
    Ok(Response::ok("ok")?)
}

app! { wrangler: "wrangler.toml", routes: [home, dashboard, edit, health] }

fn main() {}
