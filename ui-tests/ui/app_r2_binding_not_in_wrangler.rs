// Promise 5: an R2 bucket a route opens is cross-checked against wrangler.toml's
// `[[r2_buckets]]` (this wrangler.toml declares none, so the default `BUCKET` is refused).
use layers_core::prelude::*;

#[route(GET "/files", identity = ApiKey, storage(R2))]
async fn files(_who: Claims<'_, ApiKey>, bucket: R2<'_>) -> Result<Response> {
    let page = bucket.list("", 10, None).await?;
    Ok(Response::ok(format!("{}", page.objects.len()))?)
}

app! { wrangler: "wrangler.toml", routes: [files] }

fn main() {}
