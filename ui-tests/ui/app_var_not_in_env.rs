// Issue 22: environments do not inherit `[vars]`: a var a handler lists must be in each.
use layers_core::prelude::*;

#[route(GET "/", identity = Public, vars(SITE_NAME))]
async fn home(_who: Claims<'_, Public>, vars: Vars<'_>) -> Result<Response> {
    Ok(Response::ok(vars.get("SITE_NAME").unwrap_or_default())?)
}

app! { wrangler: "wrangler-formats/env-vars.toml", routes: [home] }

fn main() {}
