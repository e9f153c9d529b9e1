// Layers' default federation configuration is never granted, even through a verifier of the
// app's own (which orphan rules let the app opt in for).
use layers_core::identity::{DefaultFederation, Deny, Identifies, VerifyCx};
use layers_core::prelude::*;

struct Ci;
impl Verifier for Ci {
    type Claims = ();
    const NAME: &'static str = "Ci";
    async fn verify(cx: &VerifyCx<'_>) -> std::result::Result<(), Deny> {
        cx.header("x-ci").map(|_| ()).ok_or_else(|| Deny::missing("no x-ci"))
    }
}
impl Identifies for Ci {}
impl MayFederate<Ci> for DefaultFederation {}

#[route(GET "/creds", identity = Ci, storage(KV))]
async fn creds(_who: Claims<'_, Ci>, kv: Kv<'_>, sts: Federation<'_>) -> Result<Response> {
    Ok(Response::ok(sts.credentials(&kv).await?.access_key_id)?)
}

fn main() {}
