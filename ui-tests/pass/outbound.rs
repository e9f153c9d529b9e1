// Issue 22: outbound HTTP is declared like storage. A handler that declares `outbound(…)` takes
// an `Outbound` and sends through it: to the service whose URL a var names, or to user-supplied
// URLs through the URL guard.
use layers_core::outbound::OutboundRequest;
use layers_core::prelude::*;

#[route(POST "/notify", identity = ApiKey, outbound(MAIL_URL))]
async fn notify(_who: Claims<'_, ApiKey>, out: Outbound<'_>) -> Result<Response> {
    let url = out.url("MAIL_URL")?;
    let sent = out.send(OutboundRequest::post(&url, "application/json", b"{}".to_vec())).await;
    let sent = sent.map_err(|e| Error::new(502, "the mail service failed").with_detail(e.to_string()))?;
    Ok(Response::ok(sent.status.to_string())?)
}

#[route(GET "/preview", identity = Public, vars(SITE_NAME), outbound(public(allow = FETCH_ALLOW), MAIL_URL))]
async fn preview(_who: Claims<'_, Public>, vars: Vars<'_>, out: Outbound<'_>) -> Result<Response> {
    let mut req = OutboundRequest::get("https://example.org/");
    req.max_body = Some(64 * 1024);
    let status = out.send(req).await.map(|r| r.status).unwrap_or(0);
    Ok(Response::ok(format!("{} {status}", vars.get("SITE_NAME").unwrap_or_default()))?)
}

app! { wrangler: "wrangler.toml", routes: [notify, preview] }

fn main() {}
