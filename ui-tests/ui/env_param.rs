// Promise 4: the raw `worker::Env` never reaches a handler (it would be a side door to storage).
use layers_core::prelude::*;

#[route(GET "/posts", identity = Public)]
async fn posts(_who: Claims<'_, Public>, env: layers_core::__private::worker::Env) -> Result<Response> {
    let _db = env.d1("DB")?;
    Ok(Response::ok("ok")?)
}

fn main() {}
