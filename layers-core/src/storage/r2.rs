//! R2: get (bytes and metadata), put (with content type and custom metadata), delete, list;
//! and [`R2::put_stream`] / [`R2::get_stream`], which move a body between the client and the
//! bucket without holding it in the Worker's memory.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::rc::Rc;

use super::open::{Opens, Site};
use super::StorageKind;
use crate::error::Error;
use crate::log::{now_ms, LogCx};

/// An R2 bucket handle, valid for the current request.
#[derive(Clone)]
pub struct R2<'r> {
    bucket: Rc<worker::Bucket>,
    binding: &'static str,
    log: Rc<LogCx>,
    scope: PhantomData<fn(&'r ()) -> &'r ()>,
}

impl std::fmt::Debug for R2<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("R2").field("binding", &self.binding).finish_non_exhaustive()
    }
}

/// An object read by [`R2::get`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct R2Object {
    /// The object's key.
    pub key: String,
    /// The body.
    pub body: Vec<u8>,
    /// The `content-type` stored with the object, if any.
    pub content_type: Option<String>,
    /// The HTTP etag (quoted), as for an `etag` header.
    pub http_etag: String,
    /// The metadata stored with the object by [`R2::put`].
    pub custom_metadata: HashMap<String, String>,
}

/// An object opened by [`R2::get_stream`]: its metadata, and a body not read yet.
pub struct R2Stream {
    /// The object's key.
    pub key: String,
    /// Its size in bytes.
    pub size: u64,
    /// The `content-type` stored with the object, if any.
    pub content_type: Option<String>,
    /// The HTTP etag (quoted), as for an `etag` header.
    pub http_etag: String,
    /// The metadata stored with the object.
    pub custom_metadata: HashMap<String, String>,
    body: worker::ResponseBody,
}

impl std::fmt::Debug for R2Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("R2Stream").field("key", &self.key).field("size", &self.size).finish_non_exhaustive()
    }
}

impl R2Stream {
    /// A `200` response streaming the object from R2 to the client (the Worker never holds
    /// the body), with its `content-type` (`application/octet-stream` when none was stored)
    /// and `etag`. Add headers with `resp.headers().set(…)`.
    #[must_use]
    pub fn into_response(self) -> worker::Response {
        let headers = worker::Headers::new();
        let _ = headers.set("content-type", self.content_type.as_deref().unwrap_or("application/octet-stream"));
        let _ = headers.set("etag", &self.http_etag);
        // Whatever type was stored, the browser must not sniff it into something else
        // (e.g. HTML from a `text/plain` upload served on the app's origin).
        let _ = headers.set("x-content-type-options", "nosniff");
        worker::ResponseBuilder::new().with_headers(headers).body(self.body)
    }
}

/// What [`R2::put_stream`] stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct R2Stored {
    /// The object's key.
    pub key: String,
    /// Its size in bytes.
    pub size: u64,
    /// The HTTP etag (quoted).
    pub http_etag: String,
}

/// One entry of [`R2Page`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct R2Entry {
    /// The object's key.
    pub key: String,
    /// Its size in bytes.
    pub size: u64,
}

/// One page of [`R2::list`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct R2Page {
    /// Objects, in key order.
    pub objects: Vec<R2Entry>,
    /// Pass to the next call to continue; `None` when this was the last page.
    pub cursor: Option<String>,
}

impl<'r> Opens<'r> for R2<'r> {
    const KIND: StorageKind = StorageKind::R2;

    /// Opens the binding — only with the route's claims in hand.
    fn open<V: crate::identity::Verifier>(
        site: &Site<'_>,
        binding: &'static str,
        _proof: &crate::identity::Claims<'r, V>,
        log: Rc<LogCx>,
    ) -> Result<Self, Error> {
        let bucket = site.env.bucket(binding).map_err(|e| Error::internal(format!("R2 binding {binding}: {e}")))?;
        Ok(R2 { bucket: Rc::new(bucket), binding, log, scope: PhantomData })
    }
}

impl<'r> R2<'r> {
    /// The binding name this handle was opened from.
    #[must_use]
    pub fn binding(&self) -> &'static str {
        self.binding
    }

    fn done<T>(&self, op: &str, t0: u64, res: worker::Result<T>) -> Result<T, Error> {
        let err = res.as_ref().err().map(ToString::to_string);
        self.log.storage("R2", self.binding, op, now_ms().saturating_sub(t0), err.as_deref());
        res.map_err(|e| Error::internal(format!("R2 {op}: {e}")))
    }

    /// The object under `key` with its body and metadata; `None` when there is none.
    ///
    /// # Errors
    /// When R2 fails.
    pub async fn get(&self, key: &str) -> Result<Option<R2Object>, Error> {
        let t0 = now_ms();
        let r = async {
            let Some(obj) = self.bucket.get(key).execute().await? else { return Ok(None) };
            let body = match obj.body() {
                Some(b) => b.bytes().await?,
                None => Vec::new(),
            };
            Ok(Some(R2Object {
                key: obj.key(),
                body,
                content_type: obj.http_metadata().content_type,
                http_etag: obj.http_etag(),
                custom_metadata: obj.custom_metadata()?,
            }))
        }
        .await;
        self.done("get", t0, r)
    }

    /// Stores `body` under `key` with its `content_type` and `custom_metadata`, replacing any
    /// object there.
    ///
    /// # Errors
    /// When R2 fails.
    pub async fn put(
        &self,
        key: &str,
        body: Vec<u8>,
        content_type: Option<&str>,
        custom_metadata: HashMap<String, String>,
    ) -> Result<(), Error> {
        let t0 = now_ms();
        let meta = worker::HttpMetadata { content_type: content_type.map(str::to_owned), ..Default::default() };
        let r = self.bucket.put(key, body).http_metadata(meta).custom_metadata(custom_metadata).execute().await;
        self.done("put", t0, r.map(|_| ()))
    }

    /// Stores a request body under `key` as it arrives, without buffering it in the Worker:
    /// take it with [`Request::body_stream`](crate::request::Request::body_stream), which
    /// refuses a body without `content-length` (411) or over the route's limit (413).
    ///
    /// ```no_run
    /// # use std::collections::HashMap;
    /// # use layers_core::prelude::*;
    /// # #[route(PUT "/files/a.bin", identity = ApiKey, storage(R2))]
    /// # async fn upload(mut req: Request, _: Claims<'_, ApiKey>, bucket: R2<'_>) -> Result<Response> {
    /// let body = req.body_stream(100 * 1024 * 1024)?;
    /// let stored = bucket.put_stream("files/a.bin", body, Some("application/octet-stream"), HashMap::new()).await?;
    /// # Ok(Response::ok(stored.size.to_string())?)
    /// # }
    /// # fn main() {}
    /// ```
    ///
    /// # Errors
    /// When R2 fails (also when the client sends fewer bytes than it declared).
    pub async fn put_stream(
        &self,
        key: &str,
        body: crate::request::BodyStream,
        content_type: Option<&str>,
        custom_metadata: HashMap<String, String>,
    ) -> Result<R2Stored, Error> {
        let t0 = now_ms();
        let meta = worker::HttpMetadata { content_type: content_type.map(str::to_owned), ..Default::default() };
        let r =
            self.bucket.put(key, body.into_data()).http_metadata(meta).custom_metadata(custom_metadata).execute().await;
        let obj = self
            .done("put_stream", t0, r)?
            .ok_or_else(|| Error::internal("R2 put_stream: the bucket stored no object"))?;
        Ok(R2Stored { key: obj.key(), size: obj.size(), http_etag: obj.http_etag() })
    }

    /// The object under `key` with its metadata and an unread body, to stream to the client
    /// with [`R2Stream::into_response`]; `None` when there is none.
    ///
    /// # Errors
    /// When R2 fails.
    pub async fn get_stream(&self, key: &str) -> Result<Option<R2Stream>, Error> {
        let t0 = now_ms();
        let r = async {
            let Some(obj) = self.bucket.get(key).execute().await? else { return Ok(None) };
            let body = match obj.body() {
                Some(b) => b.response_body()?,
                None => worker::ResponseBody::Empty,
            };
            Ok(Some(R2Stream {
                key: obj.key(),
                size: obj.size(),
                content_type: obj.http_metadata().content_type,
                http_etag: obj.http_etag(),
                custom_metadata: obj.custom_metadata()?,
                body,
            }))
        }
        .await;
        self.done("get_stream", t0, r)
    }

    /// Deletes `key` (deleting a missing key is not an error).
    ///
    /// # Errors
    /// When R2 fails.
    pub async fn delete(&self, key: &str) -> Result<(), Error> {
        let t0 = now_ms();
        let r = self.bucket.delete(key).await;
        self.done("delete", t0, r)
    }

    /// Lists objects whose key starts with `prefix`, at most `limit` (1–1000) per page, from
    /// `cursor`.
    ///
    /// # Errors
    /// When R2 fails.
    pub async fn list(&self, prefix: &str, limit: u32, cursor: Option<String>) -> Result<R2Page, Error> {
        let t0 = now_ms();
        let mut b = self.bucket.list().prefix(prefix).limit(limit.clamp(1, 1000));
        if let Some(c) = cursor {
            b = b.cursor(c);
        }
        let r = b.execute().await;
        let page = self.done("list", t0, r)?;
        Ok(R2Page {
            objects: page.objects().into_iter().map(|o| R2Entry { key: o.key(), size: o.size() }).collect(),
            cursor: if page.truncated() { page.cursor() } else { None },
        })
    }
}
