// Promise 6: a handler must take its route's claims.
use layers_core::prelude::*;

#[route(GET "/posts", identity = Public, storage(D1))]
async fn posts(db: D1<'_>) -> Result<Response> {
    db.prepare("SELECT 1").run().await?;
    Ok(Response::ok("ok")?)
}

fn main() {}
