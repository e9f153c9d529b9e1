// Issue 22: `because(…)` names reasons of the decision tree (a note of one's own goes in a
// string, after at least one of them), each once.
use layers_core::prelude::*;

#[route(GET "/a", identity = Public, storage(KV because(EasiestToUse)))]
async fn a(_who: Claims<'_, Public>) -> Result<Response> {
    Ok(Response::ok("a")?)
}

#[route(GET "/b", identity = Public, storage(D1 because("it was there")))]
async fn b(_who: Claims<'_, Public>) -> Result<Response> {
    Ok(Response::ok("b")?)
}

#[route(GET "/c", identity = Public, storage(R2 because(BinaryObjects, BinaryObjects)))]
async fn c(_who: Claims<'_, Public>) -> Result<Response> {
    Ok(Response::ok("c")?)
}

fn main() {}
