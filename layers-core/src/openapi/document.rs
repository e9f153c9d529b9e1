//! The OpenAPI 3.1 document of an [`App`]: paths, operations, parameters, bodies, responses,
//! security and components.

use schemars::generate::SchemaSettings;
use schemars::SchemaGenerator;
use serde_json::{json, Map, Value};

use super::schema::{Body, ParamKind, ParamSchema};
use super::security::requirement_and_schemes;
use crate::__private::{App, RouteMeta};
use crate::request::pattern::{Method, Seg};

/// The document's `info`.
#[derive(Debug, Clone)]
pub struct Info {
    /// `info.title`.
    pub title: String,
    /// `info.version` (of the API, not of OpenAPI).
    pub version: String,
    /// `info.description` (Markdown), if any.
    pub description: Option<String>,
}

/// The name of the wildcard parameter a trailing `*` becomes (`/admin/*` → `/admin/{rest}`).
const REST: &str = "rest";

/// RFC 9457's problem details, as layers sends them.
fn problem_schema() -> Value {
    json!({
        "type": "object",
        "description": "RFC 9457 problem details. layers sends `type` = `about:blank`, the status's phrase as `title`, and a `detail` naming the field at fault, never the value sent.",
        "required": ["type", "title", "status"],
        "properties": {
            "type": {"type": "string", "format": "uri-reference", "default": "about:blank"},
            "title": {"type": "string"},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {"type": "string"},
            "instance": {"type": "string", "format": "uri-reference"}
        }
    })
}

fn problem(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    })
}

fn plain(description: &str) -> Value {
    json!({"description": description, "content": {"text/plain": {"schema": {"type": "string"}}}})
}

/// The responses layers itself gives, under `components.responses` (operations `$ref` them).
fn shared_responses() -> Value {
    json!({
        "BadRequest": {
            "description": "An extractor could not read the request (problem+json naming the field, never its value); a path that could be read two ways is refused in plain text before routing.",
            "content": {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}},
                "text/plain": {"schema": {"type": "string"}}
            }
        },
        "Unauthorized": plain("No credentials (the verifier's refusal; no detail is sent)."),
        "Forbidden": plain("Credentials invalid, expired or not allowed (no detail is sent)."),
        "PayloadTooLarge": plain("The body is larger than the limit (1 MiB by default)."),
        "UnsupportedMediaType": problem("The body's content-type is not the extractor's."),
        "HandlerProblem": problem("The handler's own refusal (`Error::problem`)."),
        "InternalError": plain("Internal error (logged; no detail is sent)."),
        "Unavailable": plain("The verifier cannot decide (a secret or var unset, a key server down): fail closed."),
        "NotFound": plain("No route matches the path (layers' router, plain text)."),
        "MethodNotAllowed": plain("A route matches the path but not the method; `Allow` lists the methods."),
    })
}

fn shared(name: &str) -> Value {
    json!({"$ref": format!("#/components/responses/{name}")})
}

/// The OpenAPI 3.1 document of `app`'s routes: `app!` emits `layers_app()`, so an app calls
/// `document(layers_app(), &Info { … })` (the reference app's `app::openapi()`, and the guide's
/// page `docs/openapi.md`, whose sample compiles in `layers-docs-tests`).
#[must_use]
pub fn document(app: &App, info: &Info) -> Value {
    let mut generator = SchemaGenerator::new(SchemaSettings::draft2020_12().with(|s| {
        s.definitions_path = "/components/schemas".into();
        s.meta_schema = None;
    }));
    let mut schemes = Map::new();
    let mut paths: Map<String, Value> = Map::new();
    let mut ids: Vec<String> = Vec::new();
    for entry in app.routes() {
        let meta = entry.meta();
        let (template, names) = template(meta.segments);
        let id = unique_id(meta.handler, &mut ids);
        let op = operation(meta, &id, &names, &mut generator, &mut schemes);
        let item = paths.entry(template).or_insert_with(|| json!({}));
        for m in methods(meta.method) {
            let mut op = op.clone();
            if meta.method == Method::Any {
                op["operationId"] = json!(format!("{id}_{m}"));
            }
            item[m] = op;
        }
    }
    let mut schemas = generator.take_definitions(true);
    schemas.insert("Problem".into(), problem_schema());
    let mut info_obj = json!({"title": info.title, "version": info.version});
    if let Some(d) = &info.description {
        info_obj["description"] = json!(d);
    }
    json!({
        "openapi": "3.1.1",
        "info": info_obj,
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": schemes,
            "responses": shared_responses(),
        }
    })
}

/// `/blog/:slug/*` → (`/blog/{slug}/{rest}`, `[slug, rest]`).
fn template(segments: &[Seg<'_>]) -> (String, Vec<(String, bool)>) {
    let mut out = String::new();
    let mut names = Vec::new();
    for s in segments {
        out.push('/');
        match s {
            Seg::Lit(l) => out.push_str(l),
            Seg::Param(p) => {
                out.push_str(&format!("{{{p}}}"));
                names.push(((*p).to_owned(), false));
            }
            Seg::Rest => {
                out.push_str(&format!("{{{REST}}}"));
                names.push((REST.to_owned(), true));
            }
        }
    }
    if out.is_empty() {
        out.push('/');
    }
    (out, names)
}

fn methods(m: Method) -> Vec<&'static str> {
    match m {
        Method::Any => vec!["get", "post", "put", "patch", "delete", "options"],
        Method::Get => vec!["get"],
        Method::Head => vec!["head"],
        Method::Post => vec!["post"],
        Method::Put => vec!["put"],
        Method::Patch => vec!["patch"],
        Method::Delete => vec!["delete"],
        Method::Options => vec!["options"],
    }
}

fn unique_id(handler: &str, taken: &mut Vec<String>) -> String {
    let mut id = handler.to_owned();
    let mut n = 1;
    while taken.contains(&id) {
        n += 1;
        id = format!("{handler}_{n}");
    }
    taken.push(id.clone());
    id
}

/// The tag of a route: its first literal segment (`/api/…` → `api`), `root` for `/`.
fn tag(segments: &[Seg<'_>]) -> String {
    match segments.first() {
        Some(Seg::Lit(l)) => l.split('/').next().unwrap_or(l).to_owned(),
        _ => "root".to_owned(),
    }
}

/// The properties (with whether each is required) of an object schema, through a `$ref`.
fn properties(schema: &Value, generator: &SchemaGenerator) -> Option<Vec<(String, Value, bool)>> {
    let schema = match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => generator.definitions().get(r.rsplit('/').next()?)?,
        None => schema,
    };
    let props = schema.get("properties")?.as_object()?;
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    Some(props.iter().map(|(k, v)| (k.clone(), v.clone(), required.contains(&k.as_str()))).collect())
}

fn path_parameters(
    names: &[(String, bool)],
    path: Option<&ParamSchema>,
    generator: &mut SchemaGenerator,
) -> Vec<Value> {
    let schema = path.map(|p| p.schema.schema(generator).to_value());
    let props = schema.as_ref().and_then(|s| properties(s, generator));
    let items = schema.as_ref().and_then(|s| s.get("prefixItems")).and_then(Value::as_array).cloned();
    names
        .iter()
        .enumerate()
        .map(|(i, (name, rest))| {
            let s = if let Some(props) = &props {
                props.iter().find(|(k, _, _)| k == name).map(|(_, v, _)| v.clone())
            } else if let Some(items) = &items {
                items.get(i).cloned()
            } else if names.len() == 1 {
                schema.clone()
            } else {
                None
            };
            let mut p = json!({"name": name, "in": "path", "required": true, "schema": s.unwrap_or_else(|| json!({"type": "string"}))});
            if *rest {
                p["description"] = json!("The rest of the path after the pattern's last `/`: possibly empty, and it may contain `/` (a trailing `*` in the route).");
                p["x-layers-wildcard"] = json!(true);
            }
            p
        })
        .collect()
}

fn query_parameters(query: &ParamSchema, generator: &mut SchemaGenerator) -> Vec<Value> {
    let schema = query.schema.schema(generator).to_value();
    match properties(&schema, generator) {
        Some(props) => props
            .into_iter()
            .map(|(name, s, required)| json!({"name": name, "in": "query", "required": required, "schema": s}))
            .collect(),
        // Not a struct: the whole query string, as one form-style object.
        None => {
            vec![json!({"name": query.type_name, "in": "query", "style": "form", "explode": true, "schema": schema})]
        }
    }
}

fn operation(
    meta: &RouteMeta,
    id: &str,
    names: &[(String, bool)],
    generator: &mut SchemaGenerator,
    schemes: &mut Map<String, Value>,
) -> Value {
    let find = |k: ParamKind| meta.params.iter().find(|p| p.kind == k);
    let mut parameters = path_parameters(names, find(ParamKind::Path), generator);
    if let Some(q) = find(ParamKind::Query) {
        parameters.extend(query_parameters(q, generator));
    }
    let mut op = json!({
        "operationId": id,
        "tags": [tag(meta.segments)],
        "summary": format!("{} (identity {})", meta.handler, meta.identity),
        "x-layers-identity": {"verifier": meta.identity, "type": crate::manifest::short_type_name((meta.identity_type)())},
    });
    if !parameters.is_empty() {
        op["parameters"] = Value::Array(parameters);
    }
    let body = meta.params.iter().find(|p| p.kind.media_type().is_some());
    if let Some(b) = body {
        let media = b.kind.media_type().unwrap_or("application/octet-stream");
        op["requestBody"] =
            json!({"required": true, "content": {media: {"schema": b.schema.schema(generator).to_value()}}});
    }
    let mut responses = Map::new();
    for r in meta.responses {
        let status = r.status.to_string();
        let description = format!("declared with `responds({} …)`", r.status);
        let content = match r.body {
            Body::Empty => None,
            Body::Json(s) => Some(json!({"application/json": {"schema": s.schema(generator).to_value()}})),
            Body::Html => Some(json!({"text/html": {"schema": {"type": "string"}}})),
            Body::Text => Some(json!({"text/plain": {"schema": {"type": "string"}}})),
        };
        let mut resp = json!({"description": description});
        if let Some(c) = content {
            resp["content"] = c;
        }
        responses.insert(status, resp);
    }
    if meta.responses.is_empty() {
        responses.insert(
            "2XX".into(),
            json!({"description": "The handler's answer (undeclared: add `responds(…)` to the route to describe it)."}),
        );
    }
    let extracts = !meta.params.is_empty();
    if extracts {
        responses.insert("400".into(), shared("BadRequest"));
    }
    let security = (meta.security)();
    if !security.is_anonymous() {
        responses.insert("401".into(), shared("Unauthorized"));
        responses.insert("403".into(), shared("Forbidden"));
    }
    if body.is_some() || meta.verifier_reads_body {
        responses.insert("413".into(), shared("PayloadTooLarge"));
    }
    if body.is_some() {
        responses.insert("415".into(), shared("UnsupportedMediaType"));
    }
    responses.insert("4XX".into(), shared("HandlerProblem"));
    responses.insert("500".into(), shared("InternalError"));
    if !security.is_anonymous() {
        responses.insert("503".into(), shared("Unavailable"));
    }
    op["responses"] = Value::Object(responses);
    match requirement_and_schemes(&security, schemes) {
        Some(reqs) => op["security"] = Value::Array(reqs),
        // Credentials no OpenAPI scheme type states (a token in the path, a verifier of the
        // app's own): said in words, never left to read as "anyone".
        None => {
            let said: Vec<&str> = security.alternatives().iter().flatten().map(|s| s.description.as_str()).collect();
            op["x-layers-security"] = json!(said);
        }
    }
    op
}

#[cfg(test)]
mod tests;
