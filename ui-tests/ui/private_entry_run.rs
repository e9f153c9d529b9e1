// Promise 2: `__private::entry` describes a route; its runner (which verifies, then opens
// storage) is not reachable, so no caller can feed it an `Env` of its choosing.
use layers_core::__private;
use layers_core::prelude::*;

#[route(GET "/admin", identity = ApiKey, storage(D1))]
async fn admin(_who: Claims<'_, ApiKey>, _db: D1<'_>) -> Result<Response> {
    Ok(Response::ok("admin")?)
}

fn main() {
    let entry = __private::entry::<admin>();
    let _run = entry.run;
}
