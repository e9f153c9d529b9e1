// `storage(R2)` opens the default `BUCKET`, `storage(R2 = "ARCHIVE")` another declared bucket;
// the handle's methods cover get, put (with metadata), delete and list.
use std::collections::HashMap;

use layers_core::prelude::*;

#[route(PUT "/files/:name", identity = ApiKey, storage(R2))]
async fn put(mut req: Request, _who: Claims<'_, ApiKey>, bucket: R2<'_>) -> Result<Response> {
    let name = req.param("name").unwrap_or_default().to_owned();
    let body = req.bytes().await?;
    bucket.put(&name, body, Some("text/plain"), HashMap::new()).await?;
    let got = bucket.get(&name).await?.map(|o| o.body.len()).unwrap_or(0);
    bucket.delete(&name).await?;
    Ok(Response::ok(format!("{got}"))?)
}

#[route(GET "/archive", identity = ApiKey, storage(R2 = "ARCHIVE"))]
async fn archive(_who: Claims<'_, ApiKey>, bucket: R2<'_>) -> Result<Response> {
    let page = bucket.list("2026/", 100, None).await?;
    Ok(Response::ok(format!("{} {}", bucket.binding(), page.objects.len()))?)
}

app! { wrangler: "wrangler.toml", routes: [put, archive] }

fn main() {}
