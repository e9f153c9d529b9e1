// Extractors: head extractors, one body extractor, a body-verifying identity fed through `Json`.
use layers_core::prelude::*;
use serde::Deserialize;

#[derive(Deserialize)]
struct PostPath {
    slug: String,
    n: u32,
}

#[derive(Deserialize)]
struct Paging {
    page: Option<u32>,
}

#[derive(Deserialize)]
struct NewPost {
    title: String,
}

#[route(GET "/posts/:slug/:n", identity = Public)]
async fn show(Path(p): Path<PostPath>, Query(q): Query<Paging>, cf: Cf, _who: Claims<'_, Public>) -> Result<Response> {
    Ok(Response::ok(format!("{} {} {:?} {:?}", p.slug, p.n, q.page, cf.colo))?)
}

#[route(GET "/tags/:tag", identity = Public)]
async fn tag(Path(tag): Path<String>, req: Request, _who: Claims<'_, Public>) -> Result<Response> {
    Ok(Response::ok(format!("{tag} {:?}", req.cookie("session").is_some()))?)
}

#[route(POST "/posts", identity = ApiKey)]
async fn create(_key: Claims<'_, ApiKey>, Json(p): Json<NewPost>) -> Result<Response> {
    Ok(Response::ok(p.title)?)
}

#[route(POST "/posts/form", identity = Public)]
async fn create_form(Form(p): Form<NewPost>, _who: Claims<'_, Public>) -> Result<Response> {
    Ok(Response::ok(p.title)?)
}

#[route(POST "/hooks/email", identity = Webhook)]
async fn hook(Json(p): Json<NewPost>, _who: Claims<'_, Webhook>) -> Result<Response> {
    Ok(Response::ok(p.title)?)
}

app! { wrangler: "wrangler.toml", routes: [show, tag, create, create_form, hook] }

fn main() {}
