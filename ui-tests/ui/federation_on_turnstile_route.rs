// Turnstile proves a human is there, not who: no cloud credentials from a Turnstile route, nor
// from a composition containing Turnstile — the opt-in cannot even be written.
use layers_core::identity::FederationConfig;
use layers_core::prelude::*;

struct BackupRole;
impl FederationConfig for BackupRole {}
impl MayFederate<Turnstile> for BackupRole {}
impl MayFederate<AnyOf<ApiKey, Turnstile>> for BackupRole {}

#[route(POST "/creds", identity = Turnstile, storage(KV))]
async fn creds(req: Request, _who: Claims<'_, Turnstile>, kv: Kv<'_>, sts: Federation<'_, BackupRole>) -> Result<Response> {
    let _ = req;
    Ok(Response::ok(sts.credentials(&kv).await?.access_key_id)?)
}

fn main() {}
