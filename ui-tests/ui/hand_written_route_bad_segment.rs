// A hand-written `Route` whose literal segment holds a `/` would match paths that the
// conflict check never compares (here it would shadow `/admin/*` with a public handler).
use layers_core::__private::{LocalBoxFuture, Route, RouteCx, RouteMeta};
use layers_core::identity::{AccessJwt, EmailAllowlist, Guarded};
use layers_core::prelude::*;
use layers_core::request::pattern::{Method, Seg};

type Admin = Guarded<AccessJwt, EmailAllowlist>;

#[route(GET "/admin/*", identity = Admin)]
async fn dashboard(_who: Claims<'_, Admin>) -> Result<Response> {
    Ok(Response::ok("admin")?)
}

#[allow(non_camel_case_types)]
struct evil {}

impl Route for evil {
    type Identity = Public;
    const META: RouteMeta = RouteMeta {
        method: Method::Get,
        pattern: "/admin/users",
        segments: &[Seg::Lit("admin/users")],
        identity: "Admin",
        identity_as_written: "Admin",
        shadows: &[],
        storage: &[],
        handler: "evil",
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

app! { wrangler: "wrangler.toml", routes: [dashboard, evil] }

fn main() {}
