// Issue 22: every storage declaration may say why, in the decision tree's words (and a note);
// the manifest shows it, and shows a declaration without a reason as a warning.
use layers_core::prelude::*;
use layers_core::storage::Reason;

#[route(
    POST "/api/items/:id",
    identity = ApiKey,
    storage(D1 because(FixedSchema, ComplexSql, "items and their owners"), KV because(FlagsConfig))
)]
async fn item(_who: Claims<'_, ApiKey>, _db: D1<'_>, _kv: Kv<'_>) -> Result<Response> {
    Ok(Response::ok("ok")?)
}

#[route(GET "/api/items", identity = ApiKey, storage(D1))]
async fn items(_who: Claims<'_, ApiKey>, _db: D1<'_>) -> Result<Response> {
    Ok(Response::ok("ok")?)
}

app! { wrangler: "wrangler.toml", routes: [item, items] }

fn main() {
    let m = manifest();
    let item = m.route("POST", "/api/items/:id").unwrap();
    assert_eq!(item.storage[0].reasons, &[Reason::FixedSchema, Reason::ComplexSql]);
    assert_eq!(item.storage[0].note, "items and their owners");
    assert_eq!(item.storage[1].reasons, &[Reason::FlagsConfig]);
    let missing = m.missing_reasons();
    assert_eq!(missing.len(), 1, "{missing:?}");
    assert!(missing[0].starts_with("GET /api/items (items): D1:DB has no reason"), "{missing:?}");
    assert!(m.to_markdown().contains("| D1:DB | POST /api/items/:id | item | FixedSchema; ComplexSql; items and their owners |"));
    assert!(m.to_mermaid().contains("-->|\"FixedSchema#59; ComplexSql#59; items and their owners\"|"));
}
