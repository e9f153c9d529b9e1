//! The crate written with layers' macros (`layers200`): its `lib.rs` (the `app!` listing every
//! route) and its module files, one handler per route.

use super::generate::{kind, method_and_path, module_of, module_ranges, Kind, HEADER, SHARED_TYPES};

/// `lib.rs`: the modules, the shared types and `app!` with every route.
pub(super) fn layers_lib(routes: usize) -> String {
    let mut s = format!(
        "{HEADER}//! {routes} routes written with layers (compile-time benchmark).\n\n\
         use layers_core::prelude::*;\nuse serde::{{Deserialize, Serialize}};\n\n"
    );
    for m in 0..module_ranges(routes).len() {
        s.push_str(&format!("pub mod m{m:02};\n"));
    }
    s.push_str(SHARED_TYPES);
    s.push_str("\napp! {\n    routes: [\n");
    for i in 0..routes {
        s.push_str(&format!("        m{:02}::route_{i:03},\n", module_of(i, routes)));
    }
    s.push_str("    ],\n}\n");
    s
}

/// One module file: the handlers of the routes in `range`, each with its `#[route]`.
pub(super) fn layers_module(range: std::ops::Range<usize>) -> String {
    let mut s = format!("{HEADER}//! Routes {}..{}.\n\nuse layers_core::prelude::*;\n", range.start, range.end);
    for i in range {
        let (method, path) = method_and_path(i);
        let body = match kind(i) {
            Kind::PublicHello => format!(
                "
/// Route {i}: a greeting.
#[route({method} \"{path}\", identity = Public)]
pub async fn route_{i:03}(Path(name): Path<String>, _who: Claims<'_, Public>) -> Result<Response> {{
    Ok(Response::from_json(&serde_json::json!({{ \"route\": {i}, \"rev\": 0u32, \"hello\": name }}))?)
}}
"
            ),
            Kind::ApiKeyRead => format!(
                "
/// Route {i}: one item from D1.
#[route({method} \"{path}\", identity = ApiKey, storage(D1))]
pub async fn route_{i:03}(Path(id): Path<i64>, key: Claims<'_, ApiKey>, db: D1<'_>) -> Result<Response> {{
    let item: Option<crate::Item> =
        db.prepare(\"SELECT id, name FROM items WHERE id = ?1 AND route = ?2\").bind(&[&id, &{i}i64]).first().await?;
    let Some(item) = item else {{
        return Err(Error::not_found());
    }};
    Ok(Response::from_json(&serde_json::json!({{ \"route\": {i}, \"rev\": 0u32, \"key\": key.label, \"item\": item }}))?)
}}
"
            ),
            Kind::ApiKeyWrite => format!(
                "
/// Route {i}: a JSON body into D1.
#[route({method} \"{path}\", identity = ApiKey, storage(D1))]
pub async fn route_{i:03}(Json(body): Json<crate::NewItem>, key: Claims<'_, ApiKey>, db: D1<'_>) -> Result<Response> {{
    let info = db
        .prepare(\"INSERT INTO items (route, name, created_by) VALUES (?1, ?2, ?3)\")
        .bind(&[&{i}i64, &body.name, &key.label])
        .run()
        .await?;
    let resp = Response::from_json(&serde_json::json!({{ \"route\": {i}, \"rev\": 0u32, \"changes\": info.changes }}))?;
    Ok(resp.with_status(201))
}}
"
            ),
            Kind::AccessKv => format!(
                "
/// Route {i}: the signed-in user's preferences from KV.
#[route({method} \"{path}\", identity = AccessJwt, storage(KV))]
pub async fn route_{i:03}(who: Claims<'_, AccessJwt>, kv: Kv<'_>) -> Result<Response> {{
    let email = who.email().unwrap_or_default().to_owned();
    let prefs = kv.get(&format!(\"prefs:{{email}}\")).await?;
    Ok(Response::from_json(&serde_json::json!({{ \"route\": {i}, \"rev\": 0u32, \"email\": email, \"prefs\": prefs }}))?)
}}
"
            ),
        };
        s.push_str(&body);
    }
    s
}
