// wrangler.toml binds `AuditLog` for this Worker, but `app!` does not list it: a Durable Object
// class of the Worker must be written with layers and listed, so its storage is gated.
use layers_core::prelude::*;

#[derive(Default)]
struct RateLimiter;

#[durable_object]
impl RateLimiter {
    async fn call(&self, limit: u32, _who: Claims<'_, DurableCaller>) -> Result<bool> {
        Ok(limit > 0)
    }
}

#[route(POST "/hit", identity = ApiKey, storage(DurableObject = "LIMITER"))]
async fn hit(_who: Claims<'_, ApiKey>, l: DurableObject<'_, RateLimiter>) -> Result<Response> {
    Ok(Response::ok(l.stub_by_name("x")?.call(&1).await?.to_string())?)
}

app! { wrangler: "durable-wrangler.toml", routes: [hit], durable_objects: [RateLimiter] }

fn main() {}
