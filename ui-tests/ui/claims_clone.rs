// Promise 2: claims are not `Clone`; cloning yields the verified data, never a second proof.
use layers_core::prelude::*;

fn keep(_copy: Claims<'_, ApiKey>) {}

#[route(GET "/keys", identity = ApiKey)]
async fn keys(who: Claims<'_, ApiKey>) -> Response {
    keep(who.clone());
    Response::empty().unwrap()
}

fn main() {}
