// Promise 6: `shadows(…)` patterns are checked like the route's own, each at its string:
// an invalid pattern, one given twice, the route's own pattern, and an empty list.
use layers_core::prelude::*;

#[route(GET "/admin/health", identity = Public, shadows("/admin/*/x", "admin/*", "/a/*", "/a/*", "/admin/health"))]
async fn health(_who: Claims<'_, Public>) -> Result<Response> {
    Ok(Response::ok("ok")?)
}

#[route(GET "/admin/ping", identity = Public, shadows())]
async fn ping(_who: Claims<'_, Public>) -> Result<Response> {
    Ok(Response::ok("ok")?)
}

#[route(GET "/admin/pong", identity = Public, shadows = "/admin/*")]
async fn pong(_who: Claims<'_, Public>) -> Result<Response> {
    Ok(Response::ok("ok")?)
}

fn main() {}
