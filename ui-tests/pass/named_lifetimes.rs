// The request's lifetime may also be named, with any name, and passed to helpers.
use layers_core::prelude::*;

async fn audit<'req>(who: &Claims<'req, ApiKey>, db: &D1<'req>) -> Result<()> {
    db.prepare("INSERT INTO audit (who) VALUES (?1)").bind(&[&who.label]).run().await?;
    Ok(())
}

#[route(DELETE "/api/items/:id", identity = ApiKey, storage(D1, KV))]
async fn delete<'req>(req: Request, who: Claims<'req, ApiKey>, db: D1<'req>, kv: Kv<'_>) -> Result<Response> {
    audit(&who, &db).await?;
    kv.delete(req.param("id").unwrap_or_default()).await?;
    Ok(Response::empty()?.with_status(204))
}

app! { wrangler: "wrangler.toml", routes: [delete] }

fn main() {}
