// Cloud credentials for anonymous callers: a `Federation` parameter needs a route whose
// identity authenticates someone.
use layers_core::prelude::*;

#[route(GET "/creds", identity = Public, storage(KV))]
async fn creds(_who: Claims<'_, Public>, kv: Kv<'_>, sts: Federation<'_>) -> Result<Response> {
    let c = sts.credentials(&kv).await?;
    Ok(Response::ok(c.access_key_id)?)
}

fn main() {}
