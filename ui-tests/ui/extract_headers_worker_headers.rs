// The raw `worker::Headers` is not an extractor: take layers' read-only `Headers`.
use layers_core::prelude::*;

#[route(GET "/", identity = Public)]
async fn home(headers: layers_core::__private::worker::Headers, _who: Claims<'_, Public>) -> Result<Response> {
    let _ = headers;
    Ok(Response::ok("home")?)
}

fn main() {}
