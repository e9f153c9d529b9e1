// `Headers` and `Cookies` are head extractors: read-only, taken by value, alongside the others.
use layers_core::prelude::*;

#[route(GET "/whoami/:id", identity = Public)]
async fn whoami(
    Path(id): Path<u32>,
    headers: Headers,
    cookies: Cookies,
    _who: Claims<'_, Public>,
) -> Result<Response> {
    let ua = headers.get("user-agent").unwrap_or("unknown");
    let langs: Vec<&str> = headers.get_all("accept-language").collect();
    let theme = cookies.get("theme").unwrap_or("light");
    let n = headers.iter().count() + (&headers).into_iter().count();
    let _ = (headers.contains("x-api-key"), format!("{headers:?} {cookies:?}"));
    Ok(Response::ok(format!("{id} {ua} {langs:?} {theme} {n}"))?)
}

#[route(POST "/echo", identity = Public)]
async fn echo(headers: Headers, Json(v): Json<serde_json::Value>, _who: Claims<'_, Public>) -> Result<Response> {
    let _ = headers.get("content-type");
    Ok(Response::from_json(&v)?)
}

app! { wrangler: "wrangler.toml", routes: [whoami, echo] }

fn main() {}
