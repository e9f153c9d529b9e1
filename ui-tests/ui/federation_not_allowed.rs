// An identity that may obtain credentials still needs the configuration's opt-in.
use layers_core::identity::FederationConfig;
use layers_core::prelude::*;

struct BackupRole;
impl FederationConfig for BackupRole {}

#[route(GET "/creds", identity = ApiKey, storage(KV))]
async fn creds(_who: Claims<'_, ApiKey>, kv: Kv<'_>, sts: Federation<'_, BackupRole>) -> Result<Response> {
    Ok(Response::ok(sts.credentials(&kv).await?.access_key_id)?)
}

fn main() {}
