// The scoped alternative to `waitUntil`: work after the response may hold the request's claims
// and handles (compare ui/claims_future_needs_static.rs, which must not compile). Written as
// documented, with `'_` everywhere: all of them belong to the same request.
use layers_core::prelude::*;

#[route(POST "/api/hit", identity = ApiKey, storage(D1))]
async fn hit(who: Claims<'_, ApiKey>, db: D1<'_>, after: After<'_>) -> Result<Response> {
    let later = after.clone();
    after.spawn(async move {
        let _ = db.prepare("INSERT INTO hits (who) VALUES (?1)").bind(&[&who.label]).run().await;
        // Tasks may schedule further tasks.
        later.spawn(async move {
            let _ = db.prepare("DELETE FROM hits WHERE rowid < 0").run().await;
        });
    });
    Ok(Response::ok("counted after the response")?)
}

app! { wrangler: "wrangler.toml", routes: [hit] }

fn main() {}
