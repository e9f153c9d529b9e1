// Access + allowlist, AnyOf, Turnstile, Webhook and mTLS routes in one app.
use layers_core::identity::{AccessConfig, OneOf};
use layers_core::prelude::*;

pub struct Staff;
impl AccessConfig for Staff {
    const AUD_VAR: &'static str = "STAFF_AUD";
}

type Admin = Guarded<AccessJwt<Staff>, EmailAllowlist>;
type Machine = AnyOf<ApiKey, Mtls>;

#[route(GET "/admin/*", identity = Admin, storage(D1))]
async fn admin(who: Claims<'_, Admin>, _db: D1<'_>) -> Result<Response> {
    Ok(Response::ok(who.email().unwrap_or_default().to_owned())?)
}

#[route(POST "/ingest", identity = Machine)]
async fn ingest(who: Claims<'_, Machine>) -> Result<Response> {
    let via = match &*who {
        OneOf::First(k) => k.label.clone(),
        OneOf::Second(cert) => cert.subject_dn.clone(),
    };
    Ok(Response::ok(via)?)
}

#[route(POST "/contact", identity = Turnstile, storage(D1))]
async fn contact(mut req: Request, _human: Claims<'_, Turnstile>, _db: D1<'_>) -> Result<Response> {
    let form = req.form().await?;
    Ok(Response::ok(format!("{} fields", form.len()))?)
}

#[route(POST "/hooks/email", identity = Webhook, storage(D1))]
async fn inbound(mut req: Request, hook: Claims<'_, Webhook>, _db: D1<'_>) -> Result<Response> {
    let body = req.bytes().await?;
    Ok(Response::ok(format!("{} {}", hook.id, body.len()))?)
}

app! { wrangler: "wrangler.toml", routes: [admin, ingest, contact, inbound] }

fn main() {}
