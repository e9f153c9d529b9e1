// Promise 4: a handle cannot be erased into `Box<dyn Any>` (which is `'static`).
use std::any::Any;

use layers_core::prelude::*;

fn keep(_: Box<dyn Any>) {}

#[route(GET "/api/flags", identity = ApiKey, storage(KV))]
async fn flags(_who: Claims<'_, ApiKey>, kv: Kv<'_>) -> Result<Response> {
    keep(Box::new(kv));
    Ok(Response::ok("ok")?)
}

fn main() {}
