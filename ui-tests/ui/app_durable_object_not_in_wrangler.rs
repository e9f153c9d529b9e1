// Promise 5: a Durable Object namespace a route opens is cross-checked against wrangler.toml's
// `[[durable_objects.bindings]]` (this wrangler.toml declares none).
use layers_core::prelude::*;

#[derive(Default)]
struct Counter;

#[durable_object]
impl Counter {
    async fn call(&self, n: u32, _who: Claims<'_, DurableCaller>) -> Result<u32> {
        Ok(n + 1)
    }
}

#[route(POST "/limited/:bucket", identity = ApiKey, storage(DurableObject = "RATE_LIMITER"))]
async fn limited(req: Request, _who: Claims<'_, ApiKey>, limiter: DurableObject<'_, Counter>) -> Result<Response> {
    let n = limiter.stub_by_name(req.param("bucket").unwrap_or_default())?.call(&1).await?;
    Ok(Response::ok(n.to_string())?)
}

app! { wrangler: "wrangler.toml", routes: [limited] }

fn main() {}
