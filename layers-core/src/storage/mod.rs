//! The storage layer: typed handles over the Worker's bindings.
//!
//! Handles are opened only by the framework, from bindings the route declared in
//! `storage(…)`, and only once the route's verifier has produced its `Claims`. They carry
//! the request's scope `'r`, so a handle cannot be kept in a `static` or outlive the request,
//! and they never expose the binding object underneath.

pub mod ai;
pub mod analytics;
pub mod assets;
pub mod cache;
pub mod d1;
pub mod durable;
mod js_binding;
pub mod kv;
pub mod object_storage;
pub(crate) mod open;
pub mod queue;
pub mod r2;
pub mod vectorize;

pub use ai::Ai;
pub use analytics::AnalyticsEngine;
pub use assets::Assets;
pub use cache::{Cache, CacheKey};
pub use d1::{D1Arg, RunInfo, Statement, D1};
pub use durable::{DoStub, DurableObject};
pub use kv::{Kv, KvPage};
pub use object_storage::ObjectStorage;
pub use queue::{Queue, Unchecked};
pub use r2::{R2Entry, R2Object, R2Page, R2Stored, R2Stream, R2};
pub use vectorize::{IndexInfo, Matches, Mutation, QueryOptions, ReturnMetadata, VectorMatch, VectorRecord, Vectorize};

/// The kinds of storage a route can declare (the table of their names, handles, default
/// bindings and wrangler sections is [`layers_spec::storage::KINDS`]).
pub use layers_spec::storage::StorageKind;

/// Why a handler uses a storage primitive, in the words of the seed's decision tree
/// (`storage(D1 because(FixedSchema, ComplexSql))`); [`layers_spec::reasons::REASONS`] lists
/// them with the primitives each is a reason for.
pub use layers_spec::reasons::Reason;

/// One `storage(…)` entry of a route: a kind, the binding name it opens, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorageDecl {
    /// The kind of binding.
    pub kind: StorageKind,
    /// The binding's name in `wrangler.toml`.
    pub binding: &'static str,
    /// The decision tree's reasons for this primitive (`because(…)`); empty when none was
    /// given, which the manifest reports (and `cargo xtask manifest --strict` refuses).
    pub reasons: &'static [Reason],
    /// The free text of `because(…, "…")`, or `""`.
    pub note: &'static str,
}

impl StorageDecl {
    /// A declaration without reasons (what `storage(KIND = "BINDING")` says).
    #[must_use]
    pub const fn new(kind: StorageKind, binding: &'static str) -> StorageDecl {
        StorageDecl { kind, binding, reasons: &[], note: "" }
    }
}
