// Promise 3: claims cannot be cached in a `thread_local!` (a Worker isolate's "module map").
use std::cell::RefCell;

use layers_core::prelude::*;

thread_local! {
    static SESSION: RefCell<Option<Claims<'static, ApiKey>>> = const { RefCell::new(None) };
}

#[route(GET "/api/login", identity = ApiKey)]
async fn login(who: Claims<'_, ApiKey>) -> Result<Response> {
    SESSION.with(|s| *s.borrow_mut() = Some(who));
    Ok(Response::ok("cached")?)
}

fn main() {}
