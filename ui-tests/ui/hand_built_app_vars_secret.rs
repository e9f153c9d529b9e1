// A route table built by hand that lets `Vars` read a secret: the API keys `ApiKey` verifies
// with. `App::new` refuses a `[vars]` name that is a secret of the app's verifiers.
use layers_core::__private::{entry, App};
use layers_core::prelude::*;

#[route(GET "/keys", identity = Public, vars(API_KEYS))]
async fn keys(_who: Claims<'_, Public>, vars: Vars<'_>) -> Result<Response> {
    Ok(Response::ok(vars.get("API_KEYS").unwrap_or_default())?)
}

#[route(GET "/api", identity = ApiKey)]
async fn api(_who: Claims<'_, ApiKey>) -> Result<Response> {
    Ok(Response::ok("api")?)
}

static APP: App = App::new(&[entry::<keys>(), entry::<api>()], &[], &[], &[], &["API_KEYS"]);

fn main() {
    let _ = &APP;
}
