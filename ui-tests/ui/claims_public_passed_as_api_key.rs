// Promise 2: a `Claims<Public>` is not accepted where `Claims<ApiKey>` is required.
use layers_core::prelude::*;

fn admin_only(key: &Claims<'_, ApiKey>) -> String {
    key.label.clone()
}

#[route(GET "/whoami", identity = Public)]
async fn whoami(who: Claims<'_, Public>) -> Result<Response> {
    Ok(Response::ok(admin_only(&who))?)
}

fn main() {}
