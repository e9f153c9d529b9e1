// `storage(AnalyticsEngine)` opens the default `ANALYTICS` dataset (declared in wrangler.toml's
// `[[analytics_engine_datasets]]`); a cron may write data points too.
use layers_core::prelude::*;

#[route(POST "/track/:event", identity = ApiKey, storage(AnalyticsEngine))]
async fn track(req: Request, who: Claims<'_, ApiKey>, ae: AnalyticsEngine<'_>) -> Result<Response> {
    let event = req.param("event").unwrap_or_default();
    ae.write(&[event, &who.label], &[1.0], &[event])?;
    Ok(Response::ok(ae.binding())?)
}

fn main() {}
