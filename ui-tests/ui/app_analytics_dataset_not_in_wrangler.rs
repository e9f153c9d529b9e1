// Promise 5: an Analytics Engine dataset a route writes to is cross-checked against
// wrangler.toml's `[[analytics_engine_datasets]]` (this wrangler.toml declares none).
use layers_core::prelude::*;

#[route(POST "/track", identity = ApiKey, storage(AnalyticsEngine))]
async fn track(_who: Claims<'_, ApiKey>, ae: AnalyticsEngine<'_>) -> Result<Response> {
    ae.write(&["hit"], &[1.0], &[])?;
    Ok(Response::ok("ok")?)
}

app! { wrangler: "wrangler.toml", routes: [track] }

fn main() {}
