//! The storage layer: typed handles over the Worker's bindings.
//!
//! Handles are opened only by the framework, from bindings the route declared in
//! `storage(…)`, and only once the route's verifier has produced its `Claims`. They carry
//! the request's scope `'r`, so a handle cannot be kept in a `static` or outlive the request,
//! and they never expose the binding object underneath.

pub mod ai;
pub mod analytics;
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
pub use cache::{Cache, CacheKey};
pub use d1::{D1Arg, RunInfo, Statement, D1};
pub use durable::{DoStub, DurableObject};
pub use kv::{Kv, KvPage};
pub use object_storage::ObjectStorage;
pub use queue::{Queue, Unchecked};
pub use r2::{R2Entry, R2Object, R2Page, R2Stored, R2Stream, R2};
pub use vectorize::{IndexInfo, Matches, Mutation, QueryOptions, ReturnMetadata, VectorMatch, VectorRecord, Vectorize};

/// The kinds of storage a route can declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageKind {
    /// A D1 database (`storage(D1)`, default binding `DB`), handle [`D1`].
    D1,
    /// A KV namespace (`storage(KV)`, default binding `KV`), handle [`Kv`].
    Kv,
    /// A queue producer (`storage(Queue)`, default binding `QUEUE`), handle [`Queue`].
    Queue,
    /// An R2 bucket (`storage(R2)`, default binding `BUCKET`), handle [`R2`].
    R2,
    /// The Cache API (`storage(Cache)` for the default cache, `storage(Cache = "name")` for a
    /// named one; no wrangler.toml binding), handle [`Cache`].
    Cache,
    /// An Analytics Engine dataset (`storage(AnalyticsEngine)`, default binding `ANALYTICS`),
    /// handle [`AnalyticsEngine`].
    AnalyticsEngine,
    /// A Durable Object namespace (`storage(DurableObject = "BINDING")`), handle [`DurableObject`].
    DurableObject,
    /// Workers AI (`storage(Ai)`, default binding `AI`, wrangler.toml `[ai]`), handle [`Ai`].
    Ai,
    /// A Vectorize index (`storage(Vectorize)`, default binding `VECTORIZE`, wrangler.toml
    /// `[[vectorize]]`), handle [`Vectorize`].
    Vectorize,
}

impl StorageKind {
    /// The kind's name as written in `storage(…)`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            StorageKind::D1 => "D1",
            StorageKind::Kv => "KV",
            StorageKind::Queue => "Queue",
            StorageKind::R2 => "R2",
            StorageKind::Cache => "Cache",
            StorageKind::AnalyticsEngine => "AnalyticsEngine",
            StorageKind::DurableObject => "DurableObject",
            StorageKind::Ai => "Ai",
            StorageKind::Vectorize => "Vectorize",
        }
    }
}

/// One `storage(…)` entry of a route: a kind and the binding name it opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorageDecl {
    /// The kind of binding.
    pub kind: StorageKind,
    /// The binding's name in `wrangler.toml`.
    pub binding: &'static str,
}
