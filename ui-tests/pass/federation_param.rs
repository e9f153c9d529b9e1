// The outbound federation helper as a handler parameter: a configuration of the app opted in
// for the route's identity (`MayFederate<ApiKey>`), inferred from the annotated type, with a
// named request lifetime, and used after the response together with the route's KV handle.
use layers_core::identity::{AccessJwt, EmailAllowlist, FederationConfig, Guarded};
use layers_core::prelude::*;

struct BackupRole;
impl FederationConfig for BackupRole {
    const ROLE_VAR: &'static str = "BACKUP_ROLE_ARN";
    const SESSION_NAME: &'static str = "backup";
    const NAME: &'static str = "BackupRole";
}
impl MayFederate<ApiKey> for BackupRole {}

type Admin = Guarded<AccessJwt, EmailAllowlist>;
impl MayFederate<Admin> for BackupRole {}
impl MayFederate<AnyOf<ApiKey, Admin>> for BackupRole {}

#[route(GET "/ops/creds", identity = ApiKey, storage(KV))]
async fn creds(_who: Claims<'_, ApiKey>, kv: Kv<'_>, sts: Federation<'_, BackupRole>) -> Result<Response> {
    let c = sts.credentials(&kv).await?;
    Ok(Response::ok(format!("{} until {}", c.access_key_id, c.expiration))?)
}

#[route(GET "/ops/admin", identity = Admin, storage(KV))]
async fn admin(_who: Claims<'_, Admin>, kv: Kv, sts: Federation<BackupRole>) -> Result<Response> {
    let c = sts.credentials(&kv).await?;
    Ok(Response::ok(if c.from_cache { "cached" } else { "fresh" })?)
}

#[route(GET "/ops/either", identity = AnyOf<ApiKey, Admin>, storage(KV))]
async fn either(_who: Claims<'_, AnyOf<ApiKey, Admin>>, kv: Kv<'_>, sts: Federation<'_, BackupRole>) -> Result<Response> {
    Ok(Response::ok(sts.credentials(&kv).await?.access_key_id)?)
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

app! { wrangler: "wrangler.toml", routes: [creds, admin, either, refresh] }

fn main() {}
