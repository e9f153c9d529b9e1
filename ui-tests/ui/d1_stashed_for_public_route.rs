// Promise 4: a handle opened for an authenticated request cannot be kept and reused by
// another (public) route.
use std::cell::RefCell;

use layers_core::prelude::*;

thread_local! {
    static ADMIN_DB: RefCell<Option<D1<'static>>> = const { RefCell::new(None) };
}

#[route(POST "/api/admin", identity = ApiKey, storage(D1))]
async fn admin(_who: Claims<'_, ApiKey>, db: D1<'_>) -> Result<Response> {
    ADMIN_DB.with(|s| *s.borrow_mut() = Some(db));
    Ok(Response::ok("ok")?)
}

#[route(GET "/leak", identity = Public)]
async fn leak(_who: Claims<'_, Public>) -> Result<Response> {
    let db = ADMIN_DB.with(|s| s.borrow().clone());
    if let Some(db) = db {
        db.prepare("DELETE FROM subscribers").run().await?;
    }
    Ok(Response::ok("done")?)
}

app! { wrangler: "wrangler.toml", routes: [admin, leak] }

fn main() {}
