// Promise 3: bounding the request's lifetime by `'static` does not make the claims `'static`:
// the framework's request scope is shorter, so the route no longer fits it.
use std::sync::Mutex;

use layers_core::prelude::*;

static LAST_CALLER: Mutex<Option<Claims<'static, ApiKey>>> = Mutex::new(None);

#[route(GET "/api/ping", identity = ApiKey)]
async fn ping<'r>(who: Claims<'r, ApiKey>) -> Result<Response>
where
    'r: 'static,
{
    *LAST_CALLER.lock().unwrap() = Some(who);
    Ok(Response::ok("pong")?)
}

fn main() {}
