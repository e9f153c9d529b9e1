//! The Cache API: `GET /api/cached/:slug` (rendered once, then served from the default cache)
//! and `DELETE /api/cached/:slug` (purge).

use layers_core::prelude::*;

/// A page rendered once and then served from the Cache API for 60 s; `x-cache` says which.
#[route(GET "/api/cached/:slug", identity = ApiKey, storage(Cache because(HttpCaching, "rendered posts")))]
pub async fn cached(req: Request, _key: Claims<'_, ApiKey>, cache: Cache<'_>) -> Result<Response> {
    let slug = req.param("slug").unwrap_or_default();
    let key = cache.key(&format!("/api/cached/{slug}"))?;
    if let Some(mut hit) = cache.match_(&key).await? {
        let body = hit.bytes().await?;
        let resp = Response::from_bytes(body)?;
        resp.headers().set("content-type", "application/json")?;
        resp.headers().set("x-cache", "hit")?;
        return Ok(resp);
    }
    let body = serde_json::json!({ "slug": slug, "rendered_at": layers_core::log::now_ms() });
    let mut resp = Response::from_json(&body)?;
    resp.headers().set("cache-control", "max-age=60")?;
    cache.put(&key, &mut resp).await?;
    resp.headers().set("x-cache", "miss")?;
    Ok(resp)
}

/// Purges `/api/cached/:slug` from the cache.
#[route(DELETE "/api/cached/:slug", identity = ApiKey, storage(Cache because(HttpCaching, "rendered posts")))]
pub async fn purge_cached(req: Request, _key: Claims<'_, ApiKey>, cache: Cache<'_>) -> Result<Response> {
    let slug = req.param("slug").unwrap_or_default();
    let existed = cache.delete(&cache.key(&format!("/api/cached/{slug}"))?).await?;
    Ok(Response::from_json(&serde_json::json!({ "purged": existed }))?)
}
