// A policy needs someone to check: putting an email allowlist on `Public` makes no sense.
use layers_core::prelude::*;

type Anyone = Guarded<Public, EmailAllowlist>;

#[route(GET "/", identity = Anyone)]
async fn home(_who: Claims<'_, Anyone>) -> Result<Response> {
    Ok(Response::ok("hi")?)
}

fn main() {}
