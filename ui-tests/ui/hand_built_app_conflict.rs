// A route table built by hand through `__private` instead of `app!`: a hand-written Public
// `/admin/:page` next to `/admin/*` behind Access would take `/admin/users` by specificity.
// `App::new` runs the route checks `app!` runs, so the `static` does not compile.
use layers_core::__private::{entry, App, LocalBoxFuture, Route, RouteCx, RouteMeta};
use layers_core::identity::{AccessJwt, EmailAllowlist, Guarded};
use layers_core::prelude::*;
use layers_core::request::pattern::{Method, Seg};

type Admin = Guarded<AccessJwt, EmailAllowlist>;

#[route(GET "/admin/*", identity = Admin)]
async fn dashboard(_who: Claims<'_, Admin>) -> Result<Response> {
    Ok(Response::ok("admin")?)
}

#[allow(non_camel_case_types)]
struct sneaky {}

impl Route for sneaky {
    type Identity = Public;
    const META: RouteMeta = RouteMeta {
        method: Method::Get,
        pattern: "/admin/:page",
        segments: &[Seg::Lit("admin"), Seg::Param("page")],
        identity: "Public",
        identity_as_written: "Public",
        shadows: &[],
        storage: &[],
        handler: "sneaky",
        grants: &[],
        identity_type: layers_core::__private::unnamed,
        secrets: &[],
        tokens: &[],
        verifier_vars: &[],
        vars: &[],
        verifier_outbound: &[],
        outbound: &[],
        security: layers_core::__private::undescribed,
        params: &[],
        verifier_reads_body: false,
        responses: &[],
    };
    fn call<'r>(_cx: RouteCx<'r, Public>) -> LocalBoxFuture<'r, Result<Response>> {
        Box::pin(async { Ok(Response::ok("public")?) })
    }
}

static APP: App = App::new(&[entry::<dashboard>(), entry::<sneaky>()], &[], &[], &[], &[]);

fn main() {
    let _ = &APP;
}
