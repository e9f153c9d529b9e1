// A webhook's signature covers the raw body: the handler must take the `Request` to get it.
use layers_core::prelude::*;

#[route(POST "/hooks/email", identity = Webhook)]
async fn inbound(hook: Claims<'_, Webhook>) -> Result<Response> {
    Ok(Response::ok(hook.id.clone())?)
}

fn main() {}
