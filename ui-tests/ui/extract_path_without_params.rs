// Extractors: `Path<T>` needs `:name` segments in the route's pattern.
use layers_core::prelude::*;

#[route(GET "/posts", identity = Public)]
async fn posts(Path(slug): Path<String>, _who: Claims<'_, Public>) -> Result<Response> {
    Ok(Response::ok(slug)?)
}

fn main() {}
