// `Html` and `Redirect` convert into a `Response`, so handlers keep `-> Result<Response>`.
use layers_core::prelude::*;

#[route(GET "/hello/:name", identity = Public)]
async fn hello(Path(name): Path<String>, _who: Claims<'_, Public>) -> Result<Response> {
    Ok(Html(format!("<h1>Hello, {}</h1>", escape_html(&name))).into())
}

#[route(GET "/static", identity = Public)]
async fn page(_who: Claims<'_, Public>) -> Result<Response> {
    Ok(Html("<p>static</p>").into_response())
}

#[route(GET "/old", identity = Public)]
async fn old(_who: Claims<'_, Public>) -> Result<Response> {
    Ok(Redirect::permanent("/new")?.into())
}

#[route(POST "/login", identity = Public)]
async fn login(Query(q): Query<std::collections::HashMap<String, String>>, _who: Claims<'_, Public>) -> Result<Response> {
    // A `?next=` from the client: refused with 400 unless it is a same-origin path.
    let next = q.get("next").map_or("/", String::as_str);
    Ok(Redirect::see_other(next)?.into_response())
}

#[route(GET "/docs", identity = Public)]
async fn docs(_who: Claims<'_, Public>) -> Result<Response> {
    Ok(Redirect::external("https://developers.cloudflare.com/workers/")?.into())
}

app! { wrangler: "wrangler.toml", routes: [hello, page, old, login, docs] }

fn main() {}
