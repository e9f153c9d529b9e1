//! Files in R2 (all `ApiKey`): `PUT|GET|DELETE /api/files/:name`, streamed both ways, and
//! `GET /api/files` (listing).

use layers_core::prelude::*;

/// Largest upload `PUT /api/files/:name` accepts (the body is streamed, never buffered).
pub const MAX_FILE: u64 = 100 * 1024 * 1024;

/// Streams the body into R2 under `:name`, with its `content-type` and an optional
/// `x-file-note` header kept as custom metadata `note`. The client must send
/// `content-length` (411 without, 413 over [`MAX_FILE`]).
#[route(PUT "/api/files/:name", identity = ApiKey, storage(R2 because(BinaryObjects, LargeFiles, "uploaded files")))]
pub async fn put_file(mut req: Request, _key: Claims<'_, ApiKey>, bucket: R2<'_>) -> Result<Response> {
    let name = req.param("name").unwrap_or_default().to_owned();
    let content_type = req.header("content-type");
    let mut meta = std::collections::HashMap::new();
    if let Some(note) = req.header("x-file-note") {
        meta.insert("note".to_owned(), note);
    }
    let body = req.body_stream(MAX_FILE)?;
    let stored = bucket.put_stream(&format!("files/{name}"), body, content_type.as_deref(), meta).await?;
    let resp = Response::from_json(&serde_json::json!({ "stored": name, "size": stored.size }))?;
    Ok(resp.with_status(201))
}

/// Streams the R2 object `:name` to the client with its content type, etag and `x-file-note`.
#[route(GET "/api/files/:name", identity = ApiKey, storage(R2 because(BinaryObjects, LargeFiles, "uploaded files")))]
pub async fn get_file(req: Request, _key: Claims<'_, ApiKey>, bucket: R2<'_>) -> Result<Response> {
    let name = req.param("name").unwrap_or_default();
    let Some(obj) = bucket.get_stream(&format!("files/{name}")).await? else {
        return Err(Error::not_found());
    };
    let note = obj.custom_metadata.get("note").cloned();
    let resp = obj.into_response();
    if let Some(note) = note {
        resp.headers().set("x-file-note", &note)?;
    }
    Ok(resp)
}

/// Deletes the R2 object `:name`.
#[route(DELETE "/api/files/:name", identity = ApiKey, storage(R2 because(BinaryObjects, "uploaded files")))]
pub async fn delete_file(req: Request, _key: Claims<'_, ApiKey>, bucket: R2<'_>) -> Result<Response> {
    let name = req.param("name").unwrap_or_default();
    bucket.delete(&format!("files/{name}")).await?;
    Ok(Response::empty()?.with_status(204))
}

/// Lists stored files (`?prefix=`, paginated with `?cursor=`).
#[route(GET "/api/files", identity = ApiKey, storage(R2 because(BinaryObjects, "uploaded files")))]
pub async fn list_files(req: Request, _key: Claims<'_, ApiKey>, bucket: R2<'_>) -> Result<Response> {
    let prefix = format!("files/{}", req.query("prefix").unwrap_or_default());
    let page = bucket.list(&prefix, 100, req.query("cursor")).await?;
    let files: Vec<_> = page
        .objects
        .iter()
        .map(|o| serde_json::json!({ "name": o.key.strip_prefix("files/").unwrap_or(&o.key), "size": o.size }))
        .collect();
    Ok(Response::from_json(&serde_json::json!({ "files": files, "cursor": page.cursor }))?)
}
