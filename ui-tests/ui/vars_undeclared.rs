// Issue 22: a handler reads the `[vars]` its attribute lists (`vars(…)`) and nothing else, so
// the manifest's list of what it reads is the whole truth: `Vars` without `vars(…)`, `vars(…)`
// without `Vars`, a name listed twice, and a var wrangler's config does not declare are refused.
use layers_core::prelude::*;

#[route(GET "/a", identity = Public)]
async fn a(_who: Claims<'_, Public>, vars: Vars<'_>) -> Result<Response> {
    Ok(Response::ok(vars.get("SITE_NAME").unwrap_or_default())?)
}

#[route(GET "/b", identity = Public, vars(SITE_NAME))]
async fn b(_who: Claims<'_, Public>) -> Result<Response> {
    Ok(Response::ok("b")?)
}

#[route(GET "/c", identity = Public, vars(SITE_NAME, SITE_NAME))]
async fn c(_who: Claims<'_, Public>, vars: Vars<'_>) -> Result<Response> {
    Ok(Response::ok(vars.get("SITE_NAME").unwrap_or_default())?)
}

fn main() {}
