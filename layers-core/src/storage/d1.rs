//! D1: prepared statements, bound parameters, batches.

use std::marker::PhantomData;
use std::rc::Rc;

use serde::de::DeserializeOwned;
use worker::wasm_bindgen::JsValue;

use super::open::{Opens, Site};
use super::StorageKind;
use crate::error::Error;
use crate::log::{now_ms, LogCx};

/// A D1 database handle, valid for the current request.
///
/// ```no_run
/// # use layers_core::prelude::*;
/// # #[derive(serde::Serialize, serde::Deserialize)]
/// # struct Post { slug: String, title: String }
/// #[route(GET "/posts", identity = Public, storage(D1))]
/// async fn posts(_: Claims<'_, Public>, db: D1<'_>) -> Result<Response> {
///     let rows: Vec<Post> = db.prepare("SELECT slug, title FROM posts").all().await?;
///     Ok(Response::from_json(&rows)?)
/// }
/// # fn main() {}
/// ```
#[derive(Clone)]
pub struct D1<'r> {
    db: Rc<worker::D1Database>,
    binding: &'static str,
    log: Rc<LogCx>,
    scope: PhantomData<fn(&'r ()) -> &'r ()>,
}

impl std::fmt::Debug for D1<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("D1").field("binding", &self.binding).finish_non_exhaustive()
    }
}

/// A value that can be bound to a `?` placeholder.
pub trait D1Arg {
    /// Converts to the JS value D1 binds.
    ///
    /// # Errors
    /// When the value has no exact D1 representation (an `i64` beyond ±2^53).
    fn to_js(&self) -> Result<JsValue, Error>;
}

/// The largest text a statement binds: the decision tree keeps blobs over 1 MB out of D1
/// ("bloated rows, slow queries: use R2"), and D1 refuses rows over 2 MB anyway.
pub const MAX_D1_VALUE_BYTES: usize = 1_000_000;

/// A text value, refused past [`MAX_D1_VALUE_BYTES`] before D1 sees it.
fn text_arg(s: &str) -> Result<JsValue, Error> {
    if s.len() > MAX_D1_VALUE_BYTES {
        return Err(Error::internal(format!(
            "D1 bind: a value of {} bytes; values over {MAX_D1_VALUE_BYTES} bytes belong in R2 (the decision tree: \
             don't use D1 for blobs > 1 MB): store the object in R2 and its key in D1",
            s.len()
        )));
    }
    Ok(JsValue::from_str(s))
}

impl D1Arg for str {
    fn to_js(&self) -> Result<JsValue, Error> {
        text_arg(self)
    }
}
impl D1Arg for &str {
    fn to_js(&self) -> Result<JsValue, Error> {
        text_arg(self)
    }
}
impl D1Arg for String {
    fn to_js(&self) -> Result<JsValue, Error> {
        text_arg(self)
    }
}
impl D1Arg for bool {
    fn to_js(&self) -> Result<JsValue, Error> {
        Ok(JsValue::from_bool(*self))
    }
}
impl D1Arg for f64 {
    fn to_js(&self) -> Result<JsValue, Error> {
        Ok(JsValue::from_f64(*self))
    }
}
impl D1Arg for i32 {
    fn to_js(&self) -> Result<JsValue, Error> {
        Ok(JsValue::from_f64(f64::from(*self)))
    }
}
impl D1Arg for u32 {
    fn to_js(&self) -> Result<JsValue, Error> {
        Ok(JsValue::from_f64(f64::from(*self)))
    }
}
impl D1Arg for i64 {
    fn to_js(&self) -> Result<JsValue, Error> {
        const MAX: i64 = 1 << 53;
        if (-MAX..=MAX).contains(self) {
            #[allow(clippy::cast_precision_loss)] // exact within ±2^53, checked above
            Ok(JsValue::from_f64(*self as f64))
        } else {
            Err(Error::internal("D1 integer parameter beyond ±2^53"))
        }
    }
}
impl D1Arg for u64 {
    fn to_js(&self) -> Result<JsValue, Error> {
        i64::try_from(*self).map_err(|_| Error::internal("D1 integer parameter beyond ±2^53"))?.to_js()
    }
}
impl<T: D1Arg> D1Arg for Option<T> {
    fn to_js(&self) -> Result<JsValue, Error> {
        match self {
            Some(v) => v.to_js(),
            None => Ok(JsValue::NULL),
        }
    }
}

/// What a write statement did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RunInfo {
    /// Rows changed.
    pub changes: u64,
    /// Row id of the last insert.
    pub last_row_id: Option<i64>,
}

/// A prepared statement, bound or not. Errors in binding surface when it runs.
pub struct Statement<'r> {
    stmt: Result<worker::D1PreparedStatement, Error>,
    db: D1<'r>,
}

impl std::fmt::Debug for Statement<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Statement").field("binding", &self.db.binding).finish_non_exhaustive()
    }
}

impl<'r> Opens<'r> for D1<'r> {
    const KIND: StorageKind = StorageKind::D1;

    /// Opens the binding — only with the route's claims in hand.
    fn open<V: crate::identity::Verifier>(
        site: &Site<'_>,
        binding: &'static str,
        _proof: &crate::identity::Claims<'r, V>,
        log: Rc<LogCx>,
    ) -> Result<Self, Error> {
        let db = site.env.d1(binding).map_err(|e| Error::internal(format!("D1 binding {binding}: {e}")))?;
        Ok(D1 { db: Rc::new(db), binding, log, scope: PhantomData })
    }
}

impl<'r> D1<'r> {
    /// The binding name this handle was opened from.
    #[must_use]
    pub fn binding(&self) -> &'static str {
        self.binding
    }

    /// Prepares `sql` (use `?1`, `?2`… or `?` placeholders and [`Statement::bind`]).
    #[must_use]
    pub fn prepare(&self, sql: &str) -> Statement<'r> {
        Statement { stmt: Ok(self.db.prepare(sql)), db: self.clone() }
    }

    /// Runs several statements in one implicit transaction; returns each one's [`RunInfo`].
    ///
    /// # Errors
    /// A bind error of any statement, or the batch's failure (then nothing was applied): a
    /// `UNIQUE`/`PRIMARY KEY` violation is a 409 problem (see [`Statement::run`]), anything
    /// else a 500.
    pub async fn batch(&self, statements: Vec<Statement<'r>>) -> Result<Vec<RunInfo>, Error> {
        let mut stmts = Vec::with_capacity(statements.len());
        for s in statements {
            stmts.push(s.stmt?);
        }
        let t0 = now_ms();
        let res = self.db.batch(stmts).await;
        self.log("batch", t0, res.as_ref().err().map(ToString::to_string));
        let results = res.map_err(|e| write_error("batch", &e))?;
        Ok(results.iter().map(run_info).collect())
    }

    fn log(&self, op: &str, t0: u64, error: Option<String>) {
        self.log.storage("D1", self.binding, op, now_ms().saturating_sub(t0), error.as_deref());
    }
}

/// The error of a failed write. A `UNIQUE`/`PRIMARY KEY` violation is the request conflicting
/// with rows already there — a 409 `application/problem+json` that names no table, column or
/// value (those go to the log) — since D1 applies a statement, and a batch, whole or not at all.
/// Anything else is a 500.
fn write_error(op: &str, e: &worker::Error) -> Error {
    let detail = format!("D1 {op}: {e}");
    if detail.contains("UNIQUE constraint failed") {
        Error::problem(409, "the write conflicts with existing data; none of it was applied").with_detail(detail)
    } else {
        Error::internal(detail)
    }
}

fn run_info(r: &worker::D1Result) -> RunInfo {
    let meta = r.meta().ok().flatten();
    RunInfo {
        changes: meta.as_ref().and_then(|m| m.changes).map_or(0, |c| c as u64),
        last_row_id: meta.and_then(|m| m.last_row_id),
    }
}

impl<'r> Statement<'r> {
    /// Binds values to the placeholders, in order.
    #[must_use]
    pub fn bind(self, values: &[&dyn D1Arg]) -> Statement<'r> {
        let stmt = self.stmt.and_then(|s| {
            let js: Result<Vec<JsValue>, Error> = values.iter().map(|v| v.to_js()).collect();
            s.bind(&js?).map_err(|e| Error::internal(format!("D1 bind: {e}")))
        });
        Statement { stmt, db: self.db }
    }

    /// The first row, deserialized, if any.
    ///
    /// # Errors
    /// A bind error, a failed query, or a row that does not deserialize into `T`.
    pub async fn first<T: DeserializeOwned>(&self) -> Result<Option<T>, Error> {
        let stmt = self.stmt.as_ref().map_err(Clone::clone)?;
        let t0 = now_ms();
        let res = stmt.first::<T>(None).await;
        self.db.log("first", t0, res.as_ref().err().map(ToString::to_string));
        res.map_err(|e| Error::internal(format!("D1 first: {e}")))
    }

    /// Every row, deserialized.
    ///
    /// # Errors
    /// A bind error, a failed query, or a row that does not deserialize into `T`.
    pub async fn all<T: DeserializeOwned>(&self) -> Result<Vec<T>, Error> {
        let stmt = self.stmt.as_ref().map_err(Clone::clone)?;
        let t0 = now_ms();
        let res = stmt.all().await.and_then(|r| r.results::<T>());
        self.db.log("all", t0, res.as_ref().err().map(ToString::to_string));
        res.map_err(|e| Error::internal(format!("D1 all: {e}")))
    }

    /// Runs a statement for its effect.
    ///
    /// # Errors
    /// A bind error or a failed statement: a `UNIQUE`/`PRIMARY KEY` violation is a 409 problem
    /// (`application/problem+json`), anything else (syntax, other constraints…) a 500.
    pub async fn run(&self) -> Result<RunInfo, Error> {
        let stmt = self.stmt.as_ref().map_err(Clone::clone)?;
        let t0 = now_ms();
        let res = stmt.run().await;
        self.db.log("run", t0, res.as_ref().err().map(ToString::to_string));
        let r = res.map_err(|e| write_error("run", &e))?;
        Ok(run_info(&r))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn text_over_1_mb_is_refused_before_d1() {
        // (Only the refusal runs natively: a JsValue needs the wasm runtime.)
        let e = super::text_arg(&"x".repeat(super::MAX_D1_VALUE_BYTES + 1)).unwrap_err();
        let detail = e.detail().unwrap_or_default().to_owned();
        assert!(detail.contains("1000001 bytes") && detail.contains("R2"), "{detail}");
    }
}
