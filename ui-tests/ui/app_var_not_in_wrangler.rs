// Issue 22: every var a handler lists in `vars(…)` is under `[vars]` of wrangler's config.
use layers_core::prelude::*;

#[route(GET "/", identity = Public, vars(SITE_NAME, SITE_TAGLINE))]
async fn home(_who: Claims<'_, Public>, vars: Vars<'_>) -> Result<Response> {
    Ok(Response::ok(vars.get("SITE_TAGLINE").unwrap_or_default())?)
}

app! { wrangler: "../pass/wrangler.toml", routes: [home] }

fn main() {}
