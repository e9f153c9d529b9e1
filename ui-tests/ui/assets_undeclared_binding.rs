// `storage(Assets)` needs `[assets]` with a binding in wrangler's config.
use layers_core::prelude::*;

#[route(GET "/static/*", identity = Public, storage(Assets))]
async fn files(req: Request, _who: Claims<'_, Public>, assets: Assets<'_>) -> Result<Response> {
    assets.serve(&req).await
}

app! { wrangler: "wrangler.toml", routes: [files] }

fn main() {}
