// Promise 2: `__private` is no way around the verifier: the context a route is called with
// (claims and storage handles inside) cannot be built by hand — neither the `RouteCx` nor the
// `HandlerCx` that holds the claims and handles.
use layers_core::__private::{HandlerCx, Route, RouteCx};
use layers_core::prelude::*;

#[route(GET "/admin", identity = ApiKey, storage(D1))]
async fn admin(_who: Claims<'_, ApiKey>, _db: D1<'_>) -> Result<Response> {
    Ok(Response::ok("admin")?)
}

fn forge<'r>(vars: Vars<'r>, after: After<'r>, env: layers_core::__private::worker::Env) -> RouteCx<'r, ApiKey> {
    let held: HandlerCx<'r, ApiKey> = HandlerCx { claims: None, storage: todo_handles() };
    RouteCx { request: None, held, vars, config_vars: &[], outbound: &[], after, env }
}

fn todo_handles<'r>() -> layers_core::__private::Handles<'r> {
    unreachable!()
}

async fn sneak<'r>(vars: Vars<'r>, after: After<'r>, env: layers_core::__private::worker::Env) {
    let _ = <admin as Route>::call(forge(vars, after, env)).await;
}

fn main() {
    let _ = sneak;
}
