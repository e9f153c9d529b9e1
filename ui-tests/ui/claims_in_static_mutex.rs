// Promise 3: claims cannot be cached in a `static` (seed gotcha 4).
use std::sync::Mutex;

use layers_core::prelude::*;

static LAST_CALLER: Mutex<Option<Claims<'static, ApiKey>>> = Mutex::new(None);

#[route(GET "/api/ping", identity = ApiKey)]
async fn ping(who: Claims<'_, ApiKey>) -> Result<Response> {
    *LAST_CALLER.lock().unwrap() = Some(who);
    Ok(Response::ok("pong")?)
}

fn main() {}
