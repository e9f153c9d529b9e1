// Promise 6: patterns match the decoded path; a `%`-escape in one is a mistake.
use layers_core::prelude::*;

#[route(GET "/%61dmin", identity = Public)]
async fn admin(_who: Claims<'_, Public>) -> Result<Response> {
    Ok(Response::ok("admin")?)
}

fn main() {}
