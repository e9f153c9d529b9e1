//! The [`RateLimiter`] Durable Object (a counter per object, in its own storage; the blog's abuse
//! guard uses it too) and `POST /api/limited/:bucket`, which counts calls per bucket.

use layers_core::prelude::*;
use serde::{Deserialize, Serialize};

/// Calls `POST /api/limited/:bucket` allows per bucket.
pub const RATE_LIMIT: u32 = 3;

/// One call counted against a [`RateLimiter`] object: its limit.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Hit {
    /// How many calls the object allows in all.
    pub limit: u32,
}

/// What a [`RateLimiter`] answers to a [`Hit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Counted {
    /// Within the limit: the calls counted so far, this one included.
    Allowed(u32),
    /// Past the limit.
    Limited,
}

/// The rate-limiter Durable Object class: one counter per object (per bucket name, or per
/// client, form and window for the abuse guard), kept in the object's own storage. Written with
/// layers: it never sees the `Env`, and its storage opens with the call's
/// `Claims<'_, DurableCaller>`.
#[derive(Debug, Default)]
pub struct RateLimiter;

#[durable_object]
impl RateLimiter {
    /// Counts `hit` and says whether it is within its limit.
    async fn call(&self, hit: Hit, _who: Claims<'_, DurableCaller>, store: ObjectStorage<'_>) -> Result<Counted> {
        let hits = store.get::<u32>("hits").await?.unwrap_or(0).saturating_add(1);
        store.put("hits", &hits).await?;
        Ok(if hits > hit.limit { Counted::Limited } else { Counted::Allowed(hits) })
    }
}

/// Counts a call against `:bucket` in the [`RateLimiter`] named after it; 429 past [`RATE_LIMIT`].
#[route(POST "/api/limited/:bucket", identity = ApiKey, storage(DurableObject = "RATE_LIMITER" because(SingleWriter, "a counter per bucket")))]
pub async fn limited(
    req: Request,
    _key: Claims<'_, ApiKey>,
    limiter: DurableObject<'_, RateLimiter>,
) -> Result<Response> {
    let bucket = req.param("bucket").unwrap_or_default();
    match limiter.stub_by_name(bucket)?.call(&Hit { limit: RATE_LIMIT }).await? {
        Counted::Limited => {
            let resp = Response::error("too many requests\n", 429)?;
            resp.headers().set("retry-after", "60")?;
            Ok(resp)
        }
        Counted::Allowed(count) => Ok(Response::from_json(&serde_json::json!({ "bucket": bucket, "count": count }))?),
    }
}
