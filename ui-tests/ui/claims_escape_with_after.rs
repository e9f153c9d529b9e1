// A handler that takes `After` shares one request lifetime between its parameters (so handles
// can move into `after.spawn`); what escapes that scope is still refused, and the message names
// the request's lifetime: work after the response goes through `after.spawn`, never a `static`.
use std::sync::Mutex;

use layers_core::prelude::*;

static LAST: Mutex<Option<Claims<'static, ApiKey>>> = Mutex::new(None);

#[route(POST "/api/hit", identity = ApiKey, storage(D1))]
async fn hit(who: Claims<'_, ApiKey>, db: D1<'_>, after: After<'_>) -> Result<Response> {
    after.spawn(async move {
        let _ = db.prepare("SELECT 1").run().await;
    });
    *LAST.lock().unwrap() = Some(who);
    Ok(Response::ok("ok")?)
}

fn main() {}
