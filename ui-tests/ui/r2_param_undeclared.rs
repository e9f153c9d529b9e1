// Promise 5: only declared storage reaches a handler — an R2 bucket too.
use layers_core::prelude::*;

#[route(GET "/files/:name", identity = ApiKey)]
async fn file(req: Request, _who: Claims<'_, ApiKey>, bucket: R2<'_>) -> Result<Response> {
    let obj = bucket.get(req.param("name").unwrap_or_default()).await?;
    Ok(Response::ok(format!("{}", obj.is_some()))?)
}

fn main() {}
