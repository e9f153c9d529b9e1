// Static files through the assets binding, each route with its own identity, and the public
// side of a federation configuration (`FederationIssuer`), which any identity may take —
// `Public` included — because it hands out the public key and nothing else.
use layers_core::identity::{FederationConfig, FederationIssuer};
use layers_core::prelude::*;

struct BackupRole;
impl FederationConfig for BackupRole {
    const NAME: &'static str = "BackupRole";
}

#[route(GET "/static/*", identity = Public, storage(Assets because(StaticFiles)))]
async fn files(req: Request, _who: Claims<'_, Public>, assets: Assets<'_>) -> Result<Response> {
    assets.serve(&req).await
}

#[route(GET "/admin/app.js", identity = ApiKey, storage(Assets = "ASSETS"))]
async fn admin_js(req: Request, _who: Claims<'_, ApiKey>, assets: Assets) -> Result<Response> {
    assets.serve(&req).await
}

#[route(GET "/.well-known/jwks.json", identity = Public)]
async fn jwks(_who: Claims<'_, Public>, issuer: FederationIssuer<'_, BackupRole>) -> Result<Response> {
    Ok(Response::from_json(&issuer.jwks()?)?)
}

app! { wrangler: "assets-wrangler.toml", routes: [files, admin_js, jwks] }

fn main() {}
