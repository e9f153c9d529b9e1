//! The request-layer helpers in use: the read-only [`Headers`] and [`Cookies`] extractors,
//! [`Html`] pages with [`escape_html`], and [`Redirect`]s that cannot become open redirects.
//!
//! | endpoint | identity | what |
//! |---|---|---|
//! | `GET /api/headers` | ApiKey | what the Worker sees of the request head; `{:?}` of the headers redacts every credential |
//! | `GET /hello/:name` | Public | an HTML greeting, the name escaped |
//! | `GET /go?next=/path` | Public | `303` to a same-origin path; `400` for `//evil`, `/\evil`, `https://…` |
//! | `GET /api/extract/:slug/:n` | ApiKey | what the `Path`, `Query` and `Cf` extractors read |

use layers_core::prelude::*;
use serde::Deserialize;

/// The request head as the handler sees it: the user agent, the cookie names, and the
/// headers' `Debug` (names, with every value but a short allowlist redacted).
#[route(GET "/api/headers", identity = ApiKey)]
pub async fn show_headers(headers: Headers, cookies: Cookies, _key: Claims<'_, ApiKey>) -> Result<Response> {
    let names: Vec<&str> = cookies.iter().map(|(k, _)| k).collect();
    let resp = Response::from_json(&serde_json::json!({
        "user_agent": headers.get("user-agent"),
        "has_api_key": headers.contains("x-api-key"),
        "cookies": names,
        "debug": format!("{headers:?}"),
        "cookies_debug": format!("{cookies:?}"),
    }))?;
    resp.headers().set("cache-control", "no-store")?;
    Ok(resp)
}

/// `<h1>Hello, NAME</h1>`, with the name HTML-escaped.
#[route(GET "/hello/:name", identity = Public)]
pub async fn hello(Path(name): Path<String>, _who: Claims<'_, Public>) -> Result<Response> {
    Ok(Html(format!("<!doctype html><h1>Hello, {}</h1>", escape_html(&name))).into())
}

/// The query of `GET /go`.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Go {
    /// Where to go: a same-origin path.
    pub next: String,
}

/// `303 See Other` to `?next=`, which must be a same-origin path (else 400).
#[route(GET "/go", identity = Public)]
pub async fn go(Query(q): Query<Go>, _who: Claims<'_, Public>) -> Result<Response> {
    Ok(Redirect::see_other(&q.next)?.into())
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub(crate) struct ExtractPath {
    slug: String,
    n: u32,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub(crate) struct Paging {
    page: Option<u32>,
    tag: Option<String>,
}

/// Shows what the head extractors read (the e2e tests check it).
#[route(GET "/api/extract/:slug/:n", identity = ApiKey)]
pub(crate) async fn extract_echo(
    Path(p): Path<ExtractPath>,
    Query(q): Query<Paging>,
    cf: Cf,
    _key: Claims<'_, ApiKey>,
) -> Result<Response> {
    Ok(Response::from_json(&serde_json::json!({
        "slug": p.slug,
        "n": p.n,
        "page": q.page,
        "tag": q.tag,
        "cf_colo_present": cf.colo.is_some(),
        "cf_country": cf.country,
        "cf_asn": cf.asn,
        "cf_tls_client_auth": cf.tls_client_auth.is_some(),
    }))?)
}
