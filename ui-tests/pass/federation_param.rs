// The outbound federation helper as a handler parameter: the default config, a custom one
// (inferred from the annotated type), a named request lifetime, and use after the response
// together with the route's KV handle.
use layers_core::identity::FederationConfig;
use layers_core::prelude::*;

struct BackupRole;
impl FederationConfig for BackupRole {
    const ROLE_VAR: &'static str = "BACKUP_ROLE_ARN";
    const SESSION_NAME: &'static str = "backup";
    const NAME: &'static str = "BackupRole";
}

#[route(GET "/ops/creds", identity = ApiKey, storage(KV))]
async fn creds(_who: Claims<'_, ApiKey>, kv: Kv<'_>, sts: Federation<'_, BackupRole>) -> Result<Response> {
    let c = sts.credentials(&kv).await?;
    Ok(Response::ok(format!("{} until {}", c.access_key_id, c.expiration))?)
}

#[route(GET "/ops/default", identity = ApiKey, storage(KV))]
async fn default_role(_who: Claims<'_, ApiKey>, kv: Kv, sts: Federation) -> Result<Response> {
    let c = sts.credentials(&kv).await?;
    Ok(Response::ok(if c.from_cache { "cached" } else { "fresh" })?)
}

#[route(POST "/ops/refresh", identity = ApiKey, storage(KV))]
async fn refresh<'req>(
    _who: Claims<'req, ApiKey>,
    kv: Kv<'req>,
    sts: Federation<'req, BackupRole>,
    after: After<'req>,
) -> Result<Response> {
    after.spawn(async move {
        let _ = sts.credentials(&kv).await;
    });
    Ok(Response::ok("refreshing")?)
}

app! { wrangler: "wrangler.toml", routes: [creds, default_role, refresh] }

fn main() {}
