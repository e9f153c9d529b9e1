// Durable Object classes written with layers: typed messages and replies, the object's own
// storage, declared bindings opened with the call's claims, and routes calling them through
// typed handles whose binding wrangler.toml binds to that class.
use layers_core::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Hit {
    limit: u32,
}

#[derive(Serialize, Deserialize)]
enum Counted {
    Allowed(u32),
    Limited,
}

#[derive(Default)]
struct RateLimiter;

#[durable_object]
impl RateLimiter {
    async fn call(&self, hit: Hit, _who: Claims<'_, DurableCaller>, store: ObjectStorage<'_>) -> Result<Counted> {
        let n = store.get::<u32>("n").await?.unwrap_or(0) + 1;
        store.put("n", &n).await?;
        Ok(if n > hit.limit { Counted::Limited } else { Counted::Allowed(n) })
    }
}

/// In-memory state next to the object's storage, and a D1 binding of its own.
#[derive(Default)]
struct AuditLog {
    seen: std::cell::Cell<u64>,
}

#[durable_object(storage(D1))]
impl AuditLog {
    async fn record<'a>(&self, line: String, who: Claims<'a, DurableCaller>, db: D1<'a>) -> Result<u64> {
        self.seen.set(self.seen.get() + 1);
        db.prepare("INSERT INTO audit (object, line) VALUES (?1, ?2)").bind(&[&who.object, &line]).run().await?;
        Ok(self.seen.get())
    }
}

#[route(POST "/hit/:bucket", identity = ApiKey, storage(DurableObject = "LIMITER"))]
async fn hit(req: Request, _who: Claims<'_, ApiKey>, limiter: DurableObject<'_, RateLimiter>) -> Result<Response> {
    match limiter.stub_by_name(req.param("bucket").unwrap_or_default())?.call(&Hit { limit: 3 }).await? {
        Counted::Allowed(n) => Ok(Response::ok(n.to_string())?),
        Counted::Limited => Ok(Response::error("slow down", 429)?),
    }
}

#[route(POST "/audit", identity = ApiKey, storage(DurableObject = "AUDIT"))]
async fn audit(_who: Claims<'_, ApiKey>, log: DurableObject<'_, AuditLog>) -> Result<Response> {
    let n = log.stub_by_name("main")?.call(&"hello".to_owned()).await?;
    Ok(Response::ok(n.to_string())?)
}

app! { wrangler: "durable-wrangler.toml", routes: [hit, audit], durable_objects: [RateLimiter, AuditLog] }

fn main() {}
