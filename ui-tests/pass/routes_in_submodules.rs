// Routes live where they belong; `app!` lists them by path.
use layers_core::prelude::*;

mod blog {
    use layers_core::prelude::*;

    #[route(GET "/blog/:slug", identity = Public, storage(D1))]
    pub async fn post(req: Request, _who: Claims<'_, Public>, db: D1<'_>) -> Result<Response> {
        let slug = req.param("slug").unwrap_or_default().to_owned();
        let _ = db.prepare("SELECT 1 FROM posts WHERE slug = ?1").bind(&[&slug]).run().await?;
        Ok(Response::ok(slug)?)
    }

    pub mod admin {
        use layers_core::prelude::*;

        #[route(DELETE "/blog/:slug", identity = ApiKey, storage(D1))]
        pub async fn delete(req: Request, _key: Claims<'_, ApiKey>, db: D1<'_>) -> Result<Response> {
            let slug = req.param("slug").unwrap_or_default().to_owned();
            db.prepare("DELETE FROM posts WHERE slug = ?1").bind(&[&slug]).run().await?;
            Ok(Response::empty()?.with_status(204))
        }
    }
}

#[route(GET "/", identity = Public)]
async fn home(_who: Claims<'_, Public>) -> Result<Response> {
    Ok(Response::ok("home")?)
}

app! { wrangler: "wrangler.toml", routes: [home, blog::post, blog::admin::delete] }

fn main() {}
