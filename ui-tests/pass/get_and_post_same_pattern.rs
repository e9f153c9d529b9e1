// Same pattern, different methods (and different identities): no conflict. Disjoint
// patterns under the same method: no conflict either.
use layers_core::prelude::*;

#[route(GET "/api/unsubscribe/:token", identity = SignedToken, storage(KV))]
async fn confirm(_who: Claims<'_, SignedToken>, _kv: Kv<'_>) -> Result<Response> {
    Ok(Response::ok("confirm?")?)
}

#[route(POST "/api/unsubscribe/:token", identity = SignedToken, storage(D1, KV))]
async fn unsubscribe(who: Claims<'_, SignedToken>, db: D1<'_>, _kv: Kv<'_>) -> Result<Response> {
    db.prepare("UPDATE subscribers SET status = 'gone' WHERE email = ?1").bind(&[&who.payload]).run().await?;
    Ok(Response::ok("done")?)
}

#[route(GET "/api/status/:id", identity = Public)]
async fn status(_who: Claims<'_, Public>) -> Result<Response> {
    Ok(Response::ok("status")?)
}

#[route(GET "/api/health/*", identity = Public)]
async fn health(_who: Claims<'_, Public>) -> Result<Response> {
    Ok(Response::ok("health")?)
}

app! { wrangler: "wrangler.toml", routes: [confirm, unsubscribe, status, health] }

fn main() {}
