// `storage(Cache)` is the default cache, `storage(Cache = "pages")` a named one; neither needs a
// wrangler.toml binding. Keys are built from a path and query under the Worker's own origin.
use layers_core::prelude::*;

#[route(GET "/cached/:slug", identity = Public, storage(Cache))]
async fn cached(req: Request, _who: Claims<'_, Public>, cache: Cache<'_>) -> Result<Response> {
    let key = cache.key(&format!("/cached/{}", req.param("slug").unwrap_or_default()))?;
    if let Some(hit) = cache.match_(&key).await? {
        return Ok(hit);
    }
    let mut resp = Response::ok("fresh")?;
    cache.put(&key, &mut resp).await?;
    Ok(resp)
}

#[route(DELETE "/pages/:slug", identity = ApiKey, storage(Cache = "pages"))]
async fn purge(req: Request, _who: Claims<'_, ApiKey>, pages: Cache<'_>) -> Result<Response> {
    let key = pages.key(&format!("/pages/{}", req.param("slug").unwrap_or_default()))?;
    Ok(Response::ok(format!("{} {}", pages.name(), pages.delete(&key).await?))?)
}

app! { wrangler: "wrangler.toml", routes: [cached, purge] }

fn main() {}
