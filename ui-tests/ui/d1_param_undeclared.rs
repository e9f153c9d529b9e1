// Promise 5: only declared storage reaches a handler.
use layers_core::prelude::*;

#[route(GET "/posts", identity = Public)]
async fn posts(_who: Claims<'_, Public>, db: D1<'_>) -> Result<Response> {
    db.prepare("SELECT 1").run().await?;
    Ok(Response::ok("ok")?)
}

fn main() {}
