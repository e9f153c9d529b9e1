// Promise 2: `Claims<Public>` never becomes the claims of another verifier.
use layers_core::prelude::*;

#[route(GET "/promote", identity = Public)]
async fn promote(who: Claims<'_, Public>) -> Response {
    let _admin: Claims<'_, ApiKey> = who.into();
    Response::empty().unwrap()
}

fn main() {}
