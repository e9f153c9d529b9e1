// Promise 6: every problem is reported at once, each pointing at its part of the pattern,
// along with the attribute's other mistakes.
use layers_core::prelude::*;

#[route(GETT "/a//b/:1x/*/c%20/", identity = Public)]
async fn many(_who: Claims<'_, Public>) -> Result<Response> {
    Ok(Response::ok("many")?)
}

fn main() {}
