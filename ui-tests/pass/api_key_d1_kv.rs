// An authenticated route with both kinds of storage, reading the request, the claims and vars.
use layers_core::prelude::*;

#[derive(serde::Deserialize)]
struct Row {
    n: i64,
}

#[route(POST "/api/items/:id", identity = ApiKey, storage(D1, KV), vars(SITE_NAME))]
async fn item(req: Request, key: Claims<'_, ApiKey>, db: D1<'_>, kv: Kv<'_>, vars: Vars<'_>) -> Result<Response> {
    let id = req.param("id").unwrap_or_default().to_owned();
    let row: Option<Row> = db.prepare("SELECT COUNT(*) AS n FROM items WHERE id = ?1").bind(&[&id]).first().await?;
    kv.put_with_ttl(&format!("seen:{id}"), &key.label, 3600).await?;
    let site = vars.get("SITE_NAME").unwrap_or_default();
    Ok(Response::ok(format!("{site}: {} by {}", row.map_or(0, |r| r.n), key.verifier()))?)
}

app! { wrangler: "wrangler.toml", routes: [item] }

fn main() {}
