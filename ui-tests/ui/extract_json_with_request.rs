// Extractors: `Json<T>` reads the body, so the `Request` (whose body it was) cannot be taken too.
use layers_core::prelude::*;
use serde::Deserialize;

#[derive(Deserialize)]
struct NewPost {
    title: String,
}

#[route(POST "/posts", identity = Public)]
async fn create(mut req: Request, Json(p): Json<NewPost>, _who: Claims<'_, Public>) -> Result<Response> {
    let again = req.text().await?;
    Ok(Response::ok(format!("{}{again}", p.title))?)
}

fn main() {}
