// Promise 5: a Durable Object namespace a route opens is cross-checked against wrangler.toml's
// `[[durable_objects.bindings]]` (this wrangler.toml declares none).
use layers_core::prelude::*;

#[route(POST "/limited/:bucket", identity = ApiKey, storage(DurableObject = "RATE_LIMITER"))]
async fn limited(req: Request, _who: Claims<'_, ApiKey>, limiter: DurableObject<'_>) -> Result<Response> {
    let stub = limiter.stub_by_name(req.param("bucket").unwrap_or_default())?;
    let answer = stub.fetch("POST", "/hit", None).await?;
    Ok(Response::ok(format!("{}", answer.status))?)
}

app! { wrangler: "wrangler.toml", routes: [limited] }

fn main() {}
