// A wrangler.jsonc with comments, trailing commas and an environment: every binding the routes
// and the cron open is declared at the top level and in [env.staging], which inherits the cron.
use layers_core::prelude::*;

#[route(GET "/", identity = Public, storage(D1, KV), vars(SITE_NAME))]
async fn home(_who: Claims<'_, Public>, _db: D1<'_>, _kv: Kv<'_>, vars: Vars<'_>) -> Result<Response> {
    Ok(Response::ok(vars.get("SITE_NAME").unwrap_or_default())?)
}

#[scheduled("0 2 * * SUN", storage(D1))]
async fn weekly(_who: Claims<'_, System>, db: D1<'_>) -> Result<()> {
    db.prepare("SELECT 1").run().await?;
    Ok(())
}

app! { wrangler: "wrangler-formats/wrangler.jsonc", routes: [home], crons: [weekly] }

fn main() {}
