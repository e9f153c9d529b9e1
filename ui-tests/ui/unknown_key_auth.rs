// Promise 6: unknown keys are errors, with a hint when the intent is clear. `auth` is not
// `identity`, so this route also has no identity (promise 1).
use layers_core::prelude::*;

#[route(GET "/api", auth = ApiKey)]
async fn api(_who: Claims<'_, ApiKey>) -> Result<Response> {
    Ok(Response::ok("api")?)
}

fn main() {}
