//! Workers Analytics Engine: write data points.

use std::marker::PhantomData;
use std::rc::Rc;

use super::open::{Opens, Site};
use super::StorageKind;
use crate::error::Error;
use crate::log::{now_ms, LogCx};

/// Most blobs (and most doubles) one data point holds.
pub const MAX_FIELDS: usize = 20;
/// Most bytes of a data point's index.
pub const MAX_INDEX_BYTES: usize = 96;

/// An Analytics Engine dataset handle, valid for the current request.
#[derive(Clone)]
pub struct AnalyticsEngine<'r> {
    dataset: Rc<worker::AnalyticsEngineDataset>,
    binding: &'static str,
    log: Rc<LogCx>,
    scope: PhantomData<fn(&'r ()) -> &'r ()>,
}

impl std::fmt::Debug for AnalyticsEngine<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnalyticsEngine").field("binding", &self.binding).finish_non_exhaustive()
    }
}

/// Why a data point would be refused by the platform, checked before writing.
pub(crate) fn point_problem(blobs: &[&str], doubles: &[f64], indexes: &[&str]) -> Option<String> {
    if blobs.len() > MAX_FIELDS {
        return Some(format!("{} blobs (at most {MAX_FIELDS})", blobs.len()));
    }
    if doubles.len() > MAX_FIELDS {
        return Some(format!("{} doubles (at most {MAX_FIELDS})", doubles.len()));
    }
    if indexes.len() > 1 {
        return Some(format!("{} indexes (at most 1)", indexes.len()));
    }
    if indexes.iter().any(|i| i.len() > MAX_INDEX_BYTES) {
        return Some(format!("an index over {MAX_INDEX_BYTES} bytes"));
    }
    None
}

impl<'r> Opens<'r> for AnalyticsEngine<'r> {
    const KIND: StorageKind = StorageKind::AnalyticsEngine;

    /// Opens the binding — only with the route's claims in hand.
    fn open<V: crate::identity::Verifier>(
        site: &Site<'_>,
        binding: &'static str,
        _proof: &crate::identity::Claims<'r, V>,
        log: Rc<LogCx>,
    ) -> Result<Self, Error> {
        let dataset = site
            .env
            .analytics_engine(binding)
            .map_err(|e| Error::internal(format!("Analytics Engine binding {binding}: {e}")))?;
        Ok(AnalyticsEngine { dataset: Rc::new(dataset), binding, log, scope: PhantomData })
    }
}

impl<'r> AnalyticsEngine<'r> {
    /// The binding name this handle was opened from.
    #[must_use]
    pub fn binding(&self) -> &'static str {
        self.binding
    }

    /// Writes one data point: up to 20 `blobs`, up to 20 `doubles` and at most one index
    /// (≤ 96 bytes). The platform sends it in the background; nothing to await.
    ///
    /// # Errors
    /// Over the limits above, or when the platform refuses the point.
    pub fn write(&self, blobs: &[&str], doubles: &[f64], indexes: &[&str]) -> Result<(), Error> {
        let t0 = now_ms();
        let r = match point_problem(blobs, doubles, indexes) {
            Some(p) => Err(worker::Error::RustError(format!("data point refused: {p}"))),
            None => worker::AnalyticsEngineDataPointBuilder::new()
                .indexes(indexes)
                .blobs(blobs.iter().copied())
                .doubles(doubles.iter().copied())
                .write_to(&self.dataset),
        };
        let err = r.as_ref().err().map(ToString::to_string);
        self.log.storage("AnalyticsEngine", self.binding, "write", now_ms().saturating_sub(t0), err.as_deref());
        r.map_err(|e| Error::internal(format!("Analytics Engine write: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::point_problem;

    #[test]
    fn data_point_limits() {
        assert_eq!(point_problem(&["a"; 20], &[1.0; 20], &["idx"]), None);
        assert!(point_problem(&["a"; 21], &[], &[]).is_some());
        assert!(point_problem(&[], &[1.0; 21], &[]).is_some());
        assert!(point_problem(&[], &[], &["a", "b"]).is_some());
        assert!(point_problem(&[], &[], &[&"x".repeat(97)]).is_some());
    }
}
