//! Benchmark Worker (a): the three routes of the workerd benchmark, written with layers.
//!
//! | route | identity | storage |
//! |---|---|---|
//! | `GET /hello` | Public | — (text `hello\n`) |
//! | `GET /access/hello` | [`BenchAccess`] (Cloudflare Access JWT) | — (text `hello <email>\n`) |
//! | `GET /access-uncached/hello` | [`BenchAccessUncached`]: the same, every token verified in full | — (the same; feature `uncached-route` only) |
//! | `GET /access/posts/:id` | [`BenchAccess`] | D1 (`SELECT id, title FROM posts WHERE id = ?1`; JSON, 404 if missing) |
//!
//! Vars (set at run time through `wrangler dev --env-file`): `ACCESS_TEAM_DOMAIN`, `ACCESS_AUD`,
//! `ACCESS_CERTS_URL` (the loopback JWKS of `layers-stubs`). The same routes are hand-written
//! with workers-rs in `bench/hand-worker` and with Hono in `bench/hono-worker`.

#![forbid(unsafe_code)]

use layers_core::identity::{AccessConfig, AccessJwt};
use layers_core::prelude::*;
use serde::{Deserialize, Serialize};

/// The Access policy of the benchmark: the default vars (`ACCESS_TEAM_DOMAIN`, `ACCESS_AUD`,
/// `ACCESS_CERTS_URL`), 60 s leeway, keys cached 10 min, an unknown `kid` refetches at most
/// every 30 s.
pub struct BenchPolicy;

impl AccessConfig for BenchPolicy {
    const NAME: &'static str = "BenchAccess";
}

/// Who may call `/access/*`: a valid Cloudflare Access JWT for the configured team and AUD.
pub type BenchAccess = AccessJwt<BenchPolicy>;

/// [`BenchPolicy`] without the verified-token cache (`VERIFIED_TOKENS = 0`): what a token
/// costs the first time an isolate sees it.
pub struct BenchUncachedPolicy;

impl AccessConfig for BenchUncachedPolicy {
    const VERIFIED_TOKENS: usize = 0;
    const NAME: &'static str = "BenchAccessUncached";
}

/// Who may call `/access-uncached/*`: as [`BenchAccess`], verified in full on every request.
pub type BenchAccessUncached = AccessJwt<BenchUncachedPolicy>;

/// One row of `posts`.
#[derive(Debug, Serialize, Deserialize)]
struct Post {
    id: i64,
    title: String,
}

/// `hello\n`, to anyone.
#[route(GET "/hello", identity = Public)]
pub async fn hello(_who: Claims<'_, Public>) -> Result<Response> {
    Ok(Response::ok("hello\n")?)
}

/// `hello <email>\n` for a person Access let through (a service token has no email: its
/// client id is greeted instead).
#[route(GET "/access/hello", identity = BenchAccess)]
pub async fn access_hello(who: Claims<'_, BenchAccess>) -> Result<Response> {
    let name = who.email().or_else(|| who.common_name()).unwrap_or_default();
    Ok(Response::ok(format!("hello {name}\n"))?)
}

/// [`access_hello`] behind [`BenchAccessUncached`].
#[cfg(feature = "uncached-route")]
#[route(GET "/access-uncached/hello", identity = BenchAccessUncached)]
pub async fn access_uncached_hello(who: Claims<'_, BenchAccessUncached>) -> Result<Response> {
    let name = who.email().or_else(|| who.common_name()).unwrap_or_default();
    Ok(Response::ok(format!("hello {name}\n"))?)
}

/// One post by id, as JSON `{"id", "title"}`; 404 when there is none.
#[route(GET "/access/posts/:id", identity = BenchAccess, storage(D1))]
pub async fn access_post(Path(id): Path<i64>, _who: Claims<'_, BenchAccess>, db: D1<'_>) -> Result<Response> {
    let post: Option<Post> = db.prepare("SELECT id, title FROM posts WHERE id = ?1").bind(&[&id]).first().await?;
    match post {
        Some(p) => Ok(Response::from_json(&p)?),
        None => Err(Error::not_found()),
    }
}

#[cfg(not(feature = "uncached-route"))]
app! {
    routes: [hello, access_hello, access_post],
}

#[cfg(feature = "uncached-route")]
app! {
    routes: [hello, access_hello, access_uncached_hello, access_post],
}
