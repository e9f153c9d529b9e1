//! Analytics Engine: `POST /api/track/:event` records one data point.

use layers_core::prelude::*;

/// Records one `:event` data point (blob: the event and the key's label; double: 1; index: the
/// event) in Analytics Engine.
#[route(POST "/api/track/:event", identity = ApiKey, storage(AnalyticsEngine because(AnalyticsEvents, "page and feature events")))]
pub async fn track(req: Request, key: Claims<'_, ApiKey>, analytics: AnalyticsEngine<'_>) -> Result<Response> {
    let event = req.param("event").unwrap_or_default();
    analytics.write(&[event, &key.label], &[1.0], &[event])?;
    Ok(Response::empty()?.with_status(204))
}
