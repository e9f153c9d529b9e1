// Promise 3: an inline `'r: 'static` bound does not make the request's claims `'static`.
use layers_core::prelude::*;

#[route(GET "/api/ping", identity = ApiKey)]
async fn ping<'r: 'static>(who: Claims<'r, ApiKey>) -> Result<Response> {
    let _keep: Claims<'static, ApiKey> = who;
    Ok(Response::ok("pong")?)
}

fn main() {}
