//! The blog's static files (seed: "Static assets | Workers Assets (env.ASSETS)"), deployed from
//! `app/public/` with the Worker and read through the `ASSETS` binding, each by a route that
//! declares who may have it:
//!
//! * `GET /static/*` and `GET /favicon.svg` — Public: the stylesheet, images, the icon;
//! * `GET /admin/app.js` — [`Admin`]: the admin pages' script, under the protected prefix, only
//!   after Cloudflare Access and `ADMIN_EMAILS` (a stranger gets 401/403, never the file).
//!
//! `[assets]` in wrangler.toml has `run_worker_first = true` (`app!` refuses it otherwise: the
//! platform would answer for a file before the Worker runs), and [`Assets::serve`] answers with
//! the file at the request's own path — so `/static/…` cannot be made to serve `/admin/app.js`.

use layers_core::prelude::*;

use crate::Admin;

/// The site's public files under `/static/` (conditional requests answered `304` by the binding).
#[route(GET "/static/*", identity = Public, storage(Assets because(StaticFiles, "the stylesheet and images")))]
pub async fn static_files(req: Request, _who: Claims<'_, Public>, assets: Assets<'_>) -> Result<Response> {
    assets.serve(&req).await
}

/// The site's icon.
#[route(GET "/favicon.svg", identity = Public, storage(Assets because(StaticFiles, "the icon")))]
pub async fn favicon(req: Request, _who: Claims<'_, Public>, assets: Assets<'_>) -> Result<Response> {
    assets.serve(&req).await
}

/// The admin pages' script: served only to admins.
#[route(GET "/admin/app.js", identity = Admin, storage(Assets because(StaticFiles, "the admin pages' script")))]
pub async fn admin_script(req: Request, _who: Claims<'_, Admin>, assets: Assets<'_>) -> Result<Response> {
    assets.serve(&req).await
}
