// Promise 4: a handle cannot be leaked into a `'static` struct.
use std::cell::Cell;

use layers_core::prelude::*;

struct Stash {
    kv: Kv<'static>,
}

thread_local! {
    static STASH: Cell<Option<&'static Stash>> = const { Cell::new(None) };
}

#[route(GET "/api/flags", identity = ApiKey, storage(KV))]
async fn flags(_who: Claims<'_, ApiKey>, kv: Kv<'_>) -> Result<Response> {
    let leaked: &'static Stash = Box::leak(Box::new(Stash { kv }));
    STASH.with(|s| s.set(Some(leaked)));
    Ok(Response::ok("ok")?)
}

fn main() {
    let _ = STASH.with(|s| s.get().map(|s| s.kv.binding()));
}
