// An `[assets]` directory the platform serves before the Worker runs (no
// `run_worker_first = true`) would answer for `/admin/app.js` before any verifier: refused.
use layers_core::prelude::*;

#[route(GET "/static/*", identity = Public, storage(Assets))]
async fn files(req: Request, _who: Claims<'_, Public>, assets: Assets<'_>) -> Result<Response> {
    assets.serve(&req).await
}

app! { wrangler: "assets-first-wrangler.toml", routes: [files] }

fn main() {}
