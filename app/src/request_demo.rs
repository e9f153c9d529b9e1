//! The request-layer helpers in use: the read-only [`Headers`] and [`Cookies`] extractors,
//! [`Html`] pages with [`escape_html`], and [`Redirect`]s that cannot become open redirects.
//!
//! | endpoint | identity | what |
//! |---|---|---|
//! | `GET /api/headers` | ApiKey | what the Worker sees of the request head; `{:?}` of the headers redacts every credential |
//! | `GET /hello/:name` | Public | an HTML greeting, the name escaped |
//! | `GET /go?next=/path` | Public | `303` to a same-origin path; `400` for `//evil`, `/\evil`, `https://…` |

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
pub struct Go {
    /// Where to go: a same-origin path.
    pub next: String,
}

/// `303 See Other` to `?next=`, which must be a same-origin path (else 400).
#[route(GET "/go", identity = Public)]
pub async fn go(Query(q): Query<Go>, _who: Claims<'_, Public>) -> Result<Response> {
    Ok(Redirect::see_other(&q.next)?.into())
}
