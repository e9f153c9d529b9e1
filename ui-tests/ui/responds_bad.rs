// `responds(…)` takes status codes with `Json<T>`, `Html`, `Text` or nothing.
use layers_core::prelude::*;

#[route(GET "/a", identity = Public, responds(200 Vec<u8>, 200, 700 Html))]
async fn a(_: Claims<'_, Public>) -> Result<Response> {
    Ok(Response::ok("a")?)
}

fn main() {}
