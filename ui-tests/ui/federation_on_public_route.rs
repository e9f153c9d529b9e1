// Cloud credentials for anonymous callers: a `Federation` parameter needs a route whose identity
// says who calls, and a configuration that opted in for it.
use layers_core::identity::FederationConfig;
use layers_core::prelude::*;

struct BackupRole;
impl FederationConfig for BackupRole {}
impl MayFederate<ApiKey> for BackupRole {}

#[route(GET "/creds", identity = Public, storage(KV))]
async fn creds(_who: Claims<'_, Public>, kv: Kv<'_>, sts: Federation<'_, BackupRole>) -> Result<Response> {
    let c = sts.credentials(&kv).await?;
    Ok(Response::ok(c.access_key_id)?)
}

fn main() {}
