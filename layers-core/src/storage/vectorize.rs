//! Vectorize: query, insert, upsert, get and delete vectors of an index, and describe it.
//!
//! workers-rs has no Vectorize binding, so the handle calls the binding's JS methods by name
//! (`query`, `insert`, `upsert`, `getByIds`, `deleteByIds`, `describe`) through the glue in
//! `js_binding`. Everything sent is checked first against Cloudflare's documented limits
//! (<https://developers.cloudflare.com/vectorize/platform/limits/>): a bad vector is a 400
//! problem for the caller, not a platform error. Log lines carry the op and a count, never
//! ids, values or metadata.

use std::marker::PhantomData;
use std::rc::Rc;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::open::{Opens, Site};
use super::StorageKind;
use crate::error::Error;
use crate::log::{now_ms, LogCx};
use crate::storage::js_binding::JsBinding;

/// Most dimensions a vector may have.
pub const MAX_DIMENSIONS: usize = 1536;
/// Most bytes of a vector id (and of a namespace name).
pub const MAX_ID_BYTES: usize = 64;
/// Most results of a query that returns neither values nor metadata.
pub const MAX_TOP_K: u32 = 100;
/// Most results of a query that returns values or metadata.
pub const MAX_TOP_K_WITH_DATA: u32 = 20;
/// Most vectors one insert/upsert (or ids one get/delete) may carry from a Worker.
pub const MAX_BATCH: usize = 1000;
/// Most bytes of one vector's metadata (as JSON).
pub const MAX_METADATA_BYTES: usize = 10 * 1024;

/// Which metadata a query returns (Vectorize v2's `returnMetadata`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReturnMetadata {
    /// None (the default).
    #[default]
    None,
    /// Only the fields that have a metadata index.
    Indexed,
    /// All of it.
    All,
}

/// Options of [`Vectorize::query`] (the JS `topK`, `returnValues`, `returnMetadata`, `filter`,
/// `namespace`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryOptions {
    /// How many matches (1..=100; at most 20 with values or metadata).
    pub top_k: u32,
    /// Whether matches carry their values.
    pub return_values: bool,
    /// Which metadata matches carry.
    pub return_metadata: ReturnMetadata,
    /// A metadata filter (`{"field": "value"}`, `{"field": {"$ne": …}}`, …), applied first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Map<String, Value>>,
    /// Search only this namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

impl Default for QueryOptions {
    fn default() -> QueryOptions {
        QueryOptions {
            top_k: 5,
            return_values: false,
            return_metadata: ReturnMetadata::None,
            filter: None,
            namespace: None,
        }
    }
}

/// A vector with its id and optional metadata and namespace: what [`Vectorize::insert`] and
/// [`Vectorize::upsert`] take and [`Vectorize::get_by_ids`] returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct VectorRecord {
    /// The id (1..=64 bytes).
    pub id: String,
    /// The values (as many as the index has dimensions; finite).
    pub values: Vec<f32>,
    /// Metadata (≤ 10 KiB as JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
    /// The namespace (≤ 64 bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// One match of a query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VectorMatch {
    /// The vector's id.
    pub id: String,
    /// Its similarity score (by the index's metric).
    pub score: f64,
    /// Its values, when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<f32>>,
    /// Its metadata, when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
    /// Its namespace, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// What a query found, best match first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Matches {
    /// How many matches.
    pub count: u64,
    /// The matches.
    pub matches: Vec<VectorMatch>,
}

/// What a mutation (insert, upsert, delete) answered: v2 indexes give a `mutation_id` (the
/// change is applied asynchronously), v1 indexes a `count` and the `ids`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Mutation {
    /// The id of the enqueued mutation (v2).
    pub mutation_id: Option<String>,
    /// How many vectors changed (v1).
    pub count: Option<u64>,
    /// Which ids changed (v1).
    pub ids: Vec<String>,
}

/// What [`Vectorize::describe`] says about the index.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct IndexInfo {
    /// Its dimensions.
    pub dimensions: Option<u64>,
    /// How many vectors it holds.
    pub vector_count: Option<u64>,
    /// The last mutation applied (v2).
    pub processed_up_to_mutation: Option<String>,
    /// When the last mutation was applied (v2).
    pub processed_up_to_datetime: Option<String>,
}

/// A Vectorize index handle, valid for the current request.
#[derive(Clone)]
pub struct Vectorize<'r> {
    index: Rc<JsBinding>,
    binding: &'static str,
    dimensions: Option<usize>,
    log: Rc<LogCx>,
    scope: PhantomData<fn(&'r ()) -> &'r ()>,
}

impl std::fmt::Debug for Vectorize<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vectorize")
            .field("binding", &self.binding)
            .field("dimensions", &self.dimensions)
            .finish_non_exhaustive()
    }
}

fn problem(msg: String) -> Error {
    Error::problem(400, msg)
}

/// Checks one vector's values: 1..=1536 of them, all finite, and `dims` many when known.
pub(crate) fn values_problem(values: &[f32], dims: Option<usize>) -> Option<String> {
    if values.is_empty() {
        return Some("a vector has no values".to_owned());
    }
    if values.len() > MAX_DIMENSIONS {
        return Some(format!("a vector has {} values (at most {MAX_DIMENSIONS})", values.len()));
    }
    if let Some(d) = dims {
        if values.len() != d {
            return Some(format!("a vector has {} dimensions; the index has {d}", values.len()));
        }
    }
    if !values.iter().all(|v| v.is_finite()) {
        return Some("vector values must be finite numbers".to_owned());
    }
    None
}

fn id_problem(id: &str) -> Option<String> {
    if id.is_empty() {
        return Some("a vector id is empty".to_owned());
    }
    if id.len() > MAX_ID_BYTES {
        return Some(format!("a vector id is longer than {MAX_ID_BYTES} bytes"));
    }
    None
}

fn namespace_problem(ns: Option<&str>) -> Option<String> {
    match ns {
        Some(n) if n.is_empty() || n.len() > MAX_ID_BYTES => {
            Some(format!("a namespace must be 1 to {MAX_ID_BYTES} bytes"))
        }
        _ => None,
    }
}

/// The JS arguments of `query(vector, options)`.
pub(crate) fn query_args(vector: &[f32], opts: &QueryOptions, dims: Option<usize>) -> Result<[Value; 2], String> {
    if let Some(p) = values_problem(vector, dims) {
        return Err(p);
    }
    let with_data = opts.return_values || opts.return_metadata != ReturnMetadata::None;
    let max = if with_data { MAX_TOP_K_WITH_DATA } else { MAX_TOP_K };
    if opts.top_k == 0 || opts.top_k > max {
        return Err(format!(
            "top_k must be 1 to {max}{}",
            if with_data { " when values or metadata are returned" } else { "" }
        ));
    }
    if let Some(p) = namespace_problem(opts.namespace.as_deref()) {
        return Err(p);
    }
    let options = serde_json::to_value(opts).map_err(|e| e.to_string())?;
    Ok([json!(vector), options])
}

/// The JS argument of `insert(vectors)` / `upsert(vectors)`.
pub(crate) fn records_arg(records: &[VectorRecord], dims: Option<usize>) -> Result<Value, String> {
    if records.is_empty() {
        return Err("no vectors to write".to_owned());
    }
    if records.len() > MAX_BATCH {
        return Err(format!("{} vectors in one write (at most {MAX_BATCH})", records.len()));
    }
    // Every vector of a batch has the dimensions of the first when the index's are not known.
    let dims = dims.or_else(|| records.first().map(|r| r.values.len()));
    for (i, r) in records.iter().enumerate() {
        let at = |p: String| format!("vector {i}: {p}");
        if let Some(p) = id_problem(&r.id).or_else(|| values_problem(&r.values, dims)) {
            return Err(at(p));
        }
        if let Some(p) = namespace_problem(r.namespace.as_deref()) {
            return Err(at(p));
        }
        if let Some(m) = &r.metadata {
            let size = serde_json::to_string(m).map_err(|e| e.to_string())?.len();
            if size > MAX_METADATA_BYTES {
                return Err(at(format!("metadata over {MAX_METADATA_BYTES} bytes")));
            }
        }
        if records[..i].iter().any(|o| o.id == r.id) {
            return Err(at("the same id twice in one write".to_owned()));
        }
    }
    serde_json::to_value(records).map_err(|e| e.to_string())
}

/// The JS argument of `getByIds(ids)` / `deleteByIds(ids)`.
pub(crate) fn ids_arg<S: AsRef<str>>(ids: &[S]) -> Result<Value, String> {
    if ids.is_empty() {
        return Err("no vector ids given".to_owned());
    }
    if ids.len() > MAX_BATCH {
        return Err(format!("{} ids in one call (at most {MAX_BATCH})", ids.len()));
    }
    if let Some(p) = ids.iter().find_map(|id| id_problem(id.as_ref())) {
        return Err(p);
    }
    Ok(Value::Array(ids.iter().map(|id| Value::String(id.as_ref().to_owned())).collect()))
}

/// Reads a query answer (`{count, matches: [{id, score, values?, metadata?}]}`).
pub(crate) fn parse_matches(v: Value) -> Result<Matches, String> {
    #[derive(Deserialize)]
    struct Wire {
        count: Option<u64>,
        matches: Vec<VectorMatch>,
    }
    let w: Wire = serde_json::from_value(v)
        .map_err(|e| format!("unexpected query answer: {}", crate::events::redact_quoted(&e.to_string())))?;
    let count = w.count.unwrap_or(w.matches.len() as u64);
    Ok(Matches { count, matches: w.matches })
}

/// Reads a mutation answer: `{mutationId}` (v2) or `{count, ids}` (v1).
pub(crate) fn parse_mutation(v: Value) -> Result<Mutation, String> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Wire {
        mutation_id: Option<String>,
        count: Option<u64>,
        #[serde(default)]
        ids: Vec<String>,
    }
    let w: Wire = serde_json::from_value(v)
        .map_err(|e| format!("unexpected mutation answer: {}", crate::events::redact_quoted(&e.to_string())))?;
    if w.mutation_id.is_none() && w.count.is_none() {
        return Err("unexpected mutation answer: neither `mutationId` nor `count`".to_owned());
    }
    Ok(Mutation { mutation_id: w.mutation_id, count: w.count, ids: w.ids })
}

/// Reads a `getByIds` answer (an array of vectors).
pub(crate) fn parse_vectors(v: Value) -> Result<Vec<VectorRecord>, String> {
    serde_json::from_value(v)
        .map_err(|e| format!("unexpected getByIds answer: {}", crate::events::redact_quoted(&e.to_string())))
}

/// Reads a `describe` answer: v2's `{dimensions, vectorCount, processedUpTo…}` or v1's
/// `{config: {dimensions}, vectorsCount}`.
pub(crate) fn parse_info(v: &Value) -> Result<IndexInfo, String> {
    if !v.is_object() {
        return Err("unexpected describe answer: not an object".to_owned());
    }
    let num = |k: &str| v.get(k).and_then(Value::as_u64);
    let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    Ok(IndexInfo {
        dimensions: num("dimensions").or_else(|| v.pointer("/config/dimensions").and_then(Value::as_u64)),
        vector_count: num("vectorCount").or_else(|| num("vectorsCount")),
        processed_up_to_mutation: text("processedUpToMutation"),
        processed_up_to_datetime: text("processedUpToDatetime"),
    })
}

impl<'r> Opens<'r> for Vectorize<'r> {
    const KIND: StorageKind = StorageKind::Vectorize;

    /// Opens the binding — only with the route's claims in hand.
    fn open<V: crate::identity::Verifier>(
        site: &Site<'_>,
        binding: &'static str,
        _proof: &crate::identity::Claims<'r, V>,
        log: Rc<LogCx>,
    ) -> Result<Self, Error> {
        let index = JsBinding::open(site.env, binding)
            .map_err(|e| Error::internal(format!("Vectorize binding {binding}: {e}")))?;
        Ok(Vectorize { index: Rc::new(index), binding, dimensions: None, log, scope: PhantomData })
    }
}

impl<'r> Vectorize<'r> {
    /// The binding name this handle was opened from.
    #[must_use]
    pub fn binding(&self) -> &'static str {
        self.binding
    }

    /// The same handle, checking that every vector sent has `dimensions` values (the index's
    /// dimensions): a wrong-sized vector is then a 400 problem before any call.
    #[must_use]
    pub fn with_dimensions(mut self, dimensions: usize) -> Vectorize<'r> {
        self.dimensions = Some(dimensions);
        self
    }

    async fn call(&self, op: &str, method: &str, args: &[Value], n: usize) -> Result<Value, Error> {
        let t0 = now_ms();
        let r = self.index.call(method, args).await;
        let ms = now_ms().saturating_sub(t0);
        self.log.storage_with(
            "Vectorize",
            self.binding,
            op,
            ms,
            r.as_ref().err().map(String::as_str),
            &[("count", n.into())],
        );
        r.map_err(|e| Error::internal(format!("Vectorize {op}: {e}")))
    }

    fn refused(&self, op: &str, p: String) -> Error {
        self.log.storage_with("Vectorize", self.binding, op, 0, Some(&p), &[]);
        problem(p)
    }

    fn answer<T>(op: &str, r: Result<T, String>) -> Result<T, Error> {
        r.map_err(|e| Error::internal(format!("Vectorize {op}: {e}")))
    }

    /// The `opts.top_k` vectors nearest to `vector`, best first.
    ///
    /// # Errors
    /// A 400 problem for an invalid vector or options (see the limits above); a 500 (detail
    /// logged) when the index fails or answers something unexpected.
    pub async fn query(&self, vector: &[f32], opts: &QueryOptions) -> Result<Matches, Error> {
        let args = query_args(vector, opts, self.dimensions).map_err(|p| self.refused("query", p))?;
        let out = self.call("query", "query", &args, 1).await?;
        Self::answer("query", parse_matches(out))
    }

    /// Inserts `records` (an id that exists already is kept, not overwritten).
    ///
    /// # Errors
    /// A 400 problem for an invalid batch; a 500 when the index fails.
    pub async fn insert(&self, records: &[VectorRecord]) -> Result<Mutation, Error> {
        self.write("insert", "insert", records).await
    }

    /// Inserts `records`, overwriting vectors with the same ids.
    ///
    /// # Errors
    /// A 400 problem for an invalid batch; a 500 when the index fails.
    pub async fn upsert(&self, records: &[VectorRecord]) -> Result<Mutation, Error> {
        self.write("upsert", "upsert", records).await
    }

    async fn write(&self, op: &str, method: &str, records: &[VectorRecord]) -> Result<Mutation, Error> {
        let arg = records_arg(records, self.dimensions).map_err(|p| self.refused(op, p))?;
        let out = self.call(op, method, &[arg], records.len()).await?;
        Self::answer(op, parse_mutation(out))
    }

    /// The vectors with these ids (those that exist).
    ///
    /// # Errors
    /// A 400 problem for invalid ids; a 500 when the index fails.
    pub async fn get_by_ids<S: AsRef<str>>(&self, ids: &[S]) -> Result<Vec<VectorRecord>, Error> {
        let arg = ids_arg(ids).map_err(|p| self.refused("get_by_ids", p))?;
        let out = self.call("get_by_ids", "getByIds", &[arg], ids.len()).await?;
        Self::answer("get_by_ids", parse_vectors(out))
    }

    /// Deletes the vectors with these ids.
    ///
    /// # Errors
    /// A 400 problem for invalid ids; a 500 when the index fails.
    pub async fn delete_by_ids<S: AsRef<str>>(&self, ids: &[S]) -> Result<Mutation, Error> {
        let arg = ids_arg(ids).map_err(|p| self.refused("delete_by_ids", p))?;
        let out = self.call("delete_by_ids", "deleteByIds", &[arg], ids.len()).await?;
        Self::answer("delete_by_ids", parse_mutation(out))
    }

    /// The index's dimensions and size.
    ///
    /// # Errors
    /// A 500 when the index fails.
    pub async fn describe(&self) -> Result<IndexInfo, Error> {
        let out = self.call("describe", "describe", &[], 0).await?;
        Self::answer("describe", parse_info(&out))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn rec(id: &str, values: Vec<f32>) -> VectorRecord {
        VectorRecord { id: id.to_owned(), values, metadata: None, namespace: None }
    }

    #[test]
    fn values_are_checked() {
        assert_eq!(values_problem(&[0.1, 0.2], None), None);
        assert_eq!(values_problem(&[0.1, 0.2], Some(2)), None);
        assert!(values_problem(&[], None).is_some());
        assert!(values_problem(&[0.1], Some(2)).unwrap().contains("1 dimensions; the index has 2"));
        assert!(values_problem(&[f32::NAN, 1.0], None).unwrap().contains("finite"));
        assert!(values_problem(&[f32::INFINITY], None).is_some());
        assert!(values_problem(&[f32::NEG_INFINITY], None).is_some());
        assert!(values_problem(&vec![0.5; MAX_DIMENSIONS + 1], None).is_some());
        assert_eq!(values_problem(&vec![0.5; MAX_DIMENSIONS], None), None);
    }

    #[test]
    fn query_options_are_shaped_for_js() {
        let opts = QueryOptions {
            top_k: 3,
            return_values: true,
            return_metadata: ReturnMetadata::Indexed,
            filter: Some(json!({"kind": "post"}).as_object().cloned().unwrap_or_default()),
            namespace: None,
        };
        let [v, o] = query_args(&[1.0, 0.5], &opts, Some(2)).unwrap();
        assert_eq!(v, json!([1.0, 0.5]));
        assert_eq!(
            o,
            json!({"topK": 3, "returnValues": true, "returnMetadata": "indexed", "filter": {"kind": "post"}})
        );
        let [_, o] = query_args(&[1.0], &QueryOptions::default(), None).unwrap();
        assert_eq!(o, json!({"topK": 5, "returnValues": false, "returnMetadata": "none"}));
    }

    #[test]
    fn top_k_bounds() {
        let q = |top_k, return_values, return_metadata| {
            query_args(&[1.0], &QueryOptions { top_k, return_values, return_metadata, ..QueryOptions::default() }, None)
        };
        assert!(q(0, false, ReturnMetadata::None).is_err());
        assert!(q(1, false, ReturnMetadata::None).is_ok());
        assert!(q(100, false, ReturnMetadata::None).is_ok());
        assert!(q(101, false, ReturnMetadata::None).is_err());
        assert!(q(20, true, ReturnMetadata::None).is_ok());
        assert!(q(21, true, ReturnMetadata::None).is_err());
        assert!(q(21, false, ReturnMetadata::All).is_err());
        assert!(q(21, false, ReturnMetadata::Indexed).is_err());
        assert!(query_args(&[f32::NAN], &QueryOptions::default(), None).is_err());
        assert!(query_args(&[1.0, 2.0], &QueryOptions::default(), Some(3)).is_err());
        let long_ns = QueryOptions { namespace: Some("n".repeat(65)), ..QueryOptions::default() };
        assert!(query_args(&[1.0], &long_ns, None).is_err());
    }

    #[test]
    fn records_are_checked_and_shaped() {
        let mut a = rec("a", vec![1.0, 0.0]);
        a.metadata = json!({"title": "t"}).as_object().cloned();
        let v = records_arg(&[a.clone(), rec("b", vec![0.0, 1.0])], Some(2)).unwrap();
        assert_eq!(
            v,
            json!([{"id": "a", "values": [1.0, 0.0], "metadata": {"title": "t"}}, {"id": "b", "values": [0.0, 1.0]}])
        );
        assert!(records_arg(&[], None).is_err());
        assert!(records_arg(&[rec("", vec![1.0])], None).is_err());
        assert!(records_arg(&[rec(&"x".repeat(65), vec![1.0])], None).is_err());
        assert!(records_arg(&[rec(&"x".repeat(64), vec![1.0])], None).is_ok());
        // Mixed sizes in one batch, or against the index's dimensions.
        let e = records_arg(&[rec("a", vec![1.0, 0.0]), rec("b", vec![1.0])], None).unwrap_err();
        assert!(e.starts_with("vector 1:"), "{e}");
        assert!(records_arg(&[rec("a", vec![1.0, 0.0])], Some(3)).is_err());
        assert!(records_arg(&[rec("a", vec![f32::NAN, 0.0])], None).is_err());
        assert!(records_arg(&[rec("a", vec![1.0]), rec("a", vec![2.0])], None).is_err());
        let mut big = rec("m", vec![1.0]);
        big.metadata = json!({"x": "y".repeat(MAX_METADATA_BYTES)}).as_object().cloned();
        assert!(records_arg(&[big], None).is_err());
        let many: Vec<_> = (0..=MAX_BATCH).map(|i| rec(&i.to_string(), vec![1.0])).collect();
        assert!(records_arg(&many, None).is_err());
        assert!(records_arg(&many[..MAX_BATCH], None).is_ok());
    }

    #[test]
    fn ids_are_checked() {
        assert_eq!(ids_arg(&["a", "b"]).unwrap(), json!(["a", "b"]));
        assert!(ids_arg::<&str>(&[]).is_err());
        assert!(ids_arg(&[""]).is_err());
        assert!(ids_arg(&["x".repeat(65)]).is_err());
    }

    #[test]
    fn answers_are_read() {
        let m = parse_matches(json!({"count": 2, "matches": [
            {"id": "a", "score": 0.99, "values": [1.0, 0.0], "metadata": {"t": 1}},
            {"id": "b", "score": 0.5}
        ]}))
        .unwrap();
        assert_eq!(m.count, 2);
        assert_eq!(m.matches[0].id, "a");
        assert_eq!(m.matches[0].values, Some(vec![1.0, 0.0]));
        assert_eq!(m.matches[1].values, None);
        // No `count` (older answers): the number of matches.
        assert_eq!(parse_matches(json!({"matches": [{"id": "a", "score": 1.0}]})).unwrap().count, 1);
        assert!(parse_matches(json!({"matches": [{"id": "a"}]})).is_err());
        assert!(parse_matches(json!("nope")).is_err());

        assert_eq!(
            parse_mutation(json!({"mutationId": "m-1"})).unwrap(),
            Mutation { mutation_id: Some("m-1".into()), count: None, ids: vec![] }
        );
        assert_eq!(
            parse_mutation(json!({"count": 2, "ids": ["a", "b"]})).unwrap(),
            Mutation { mutation_id: None, count: Some(2), ids: vec!["a".into(), "b".into()] }
        );
        assert!(parse_mutation(json!({})).is_err());

        let v = parse_vectors(json!([{"id": "a", "values": [0.5], "metadata": {"k": "v"}, "namespace": "n"}])).unwrap();
        assert_eq!(v[0].namespace.as_deref(), Some("n"));
        assert!(parse_vectors(json!([{"id": "a"}])).is_err());

        let v2 = parse_info(&json!({"dimensions": 4, "vectorCount": 7, "processedUpToMutation": "m"})).unwrap();
        assert_eq!((v2.dimensions, v2.vector_count), (Some(4), Some(7)));
        assert_eq!(v2.processed_up_to_mutation.as_deref(), Some("m"));
        let v1 = parse_info(&json!({"config": {"dimensions": 8, "metric": "cosine"}, "vectorsCount": 3})).unwrap();
        assert_eq!((v1.dimensions, v1.vector_count), (Some(8), Some(3)));
        assert!(parse_info(&json!(null)).is_err());
    }
}
