// Promise 4: a future holding the request's claims or handles cannot be given to an API that
// wants `'static` futures (`ctx.waitUntil`, `spawn_local`); use `After::spawn` instead.
use std::future::Future;

use layers_core::prelude::*;

/// Models `wasm_bindgen_futures::spawn_local` / `ctx.wait_until`.
fn needs_static<F: Future<Output = ()> + 'static>(_f: F) {}

#[route(POST "/api/hit", identity = ApiKey, storage(D1))]
async fn hit(who: Claims<'_, ApiKey>, db: D1<'_>) -> Result<Response> {
    needs_static(async move {
        let _ = db.prepare("INSERT INTO hits (who) VALUES (?1)").bind(&[&who.label]).run().await;
    });
    Ok(Response::ok("counted")?)
}

fn main() {}
