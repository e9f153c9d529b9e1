// A typed handle must name the class wrangler.toml binds: `LIMITER` is `RateLimiter`, so
// calling it as an `AuditLog` (whose messages it would not decode) does not compile; neither
// does typing a binding of another script with a class of this one.
use layers_core::prelude::*;

#[derive(Default)]
struct RateLimiter;

#[durable_object]
impl RateLimiter {
    async fn call(&self, limit: u32, _who: Claims<'_, DurableCaller>) -> Result<bool> {
        Ok(limit > 0)
    }
}

#[derive(Default)]
struct AuditLog;

#[durable_object]
impl AuditLog {
    async fn call(&self, line: String, _who: Claims<'_, DurableCaller>) -> Result<usize> {
        Ok(line.len())
    }
}

#[route(POST "/wrong", identity = ApiKey, storage(DurableObject = "LIMITER"))]
async fn wrong(_who: Claims<'_, ApiKey>, log: DurableObject<'_, AuditLog>) -> Result<Response> {
    Ok(Response::ok(log.stub_by_name("x")?.call(&"hi".to_owned()).await?.to_string())?)
}

#[route(POST "/remote", identity = ApiKey, storage(DurableObject = "ELSEWHERE"))]
async fn remote(_who: Claims<'_, ApiKey>, r: DurableObject<'_, RateLimiter>) -> Result<Response> {
    Ok(Response::ok(r.stub_by_name("x")?.call(&1).await?.to_string())?)
}

app! { wrangler: "durable-wrangler.toml", routes: [wrong, remote], durable_objects: [RateLimiter, AuditLog] }

fn main() {}
