//! Why a handler uses a storage primitive, in the words of the seed's decision tree ("Picking
//! the right storage"): every reason of its "Use … when" lists is a [`Reason`], with the
//! primitives the tree gives it to. A declaration says which ones apply —
//! `storage(KV = "FLAGS" because(FlagsConfig, "the beta switch"))` — and the macros refuse a
//! reason the tree gives to another primitive, with the tree's advice ("Don't use KV for: …
//! write rate above ~1 write/key/second").
//!
//! Analytics Engine is not in the tree; the seed's table puts "Analytics events" there, and so
//! does [`Reason::AnalyticsEvents`].

use crate::storage::StorageKind;

/// One reason of the decision tree (see [`REASONS`] for what each says and which primitives it
/// is a reason for).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[allow(missing_docs)] // Each variant's text is its row of `REASONS`.
pub enum Reason {
    FixedSchema,
    ComplexSql,
    Transactions,
    FullTextSearch,
    StrongConsistency,
    FrequentWrites,
    BinaryObjects,
    LargeFiles,
    PublicUrls,
    EgressFree,
    S3Compatible,
    GlobalReads,
    FlagsConfig,
    Sessions,
    EventualConsistencyOk,
    SingleWriter,
    WebSockets,
    InMemorySessions,
    MultiKeyTransactions,
    HttpCaching,
    Warmup,
    PresignedResponses,
    BackgroundJobs,
    Smoothing,
    Retries,
    FanOut,
    SemanticSearch,
    Rag,
    SimilaritySearch,
    CatalogModel,
    AnalyticsEvents,
    QueryContents,
    PrefixListing,
    CrossRequestSharing,
    StaticFiles,
}

/// One row of [`REASONS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReasonSpec {
    /// The reason.
    pub reason: Reason,
    /// Its name in `because(…)`.
    pub name: &'static str,
    /// What it says, in the tree's words.
    pub says: &'static str,
    /// The primitives the tree gives it to.
    pub fits: &'static [StorageKind],
}

use StorageKind as K;

/// Every reason, in [`Reason`] order.
pub const REASONS: [ReasonSpec; 35] = [
    r(Reason::FixedSchema, "FixedSchema", "the data has a fixed schema (users, posts, orders)", &[K::D1]),
    r(Reason::ComplexSql, "ComplexSql", "complex SQL (JOIN, GROUP BY, window functions)", &[K::D1]),
    r(Reason::Transactions, "Transactions", "transactions (atomic batch insert, rollback)", &[K::D1, K::DurableObject]),
    r(Reason::FullTextSearch, "FullTextSearch", "full-text search (FTS)", &[K::D1]),
    r(Reason::StrongConsistency, "StrongConsistency", "strong consistency", &[K::D1, K::DurableObject]),
    r(
        Reason::FrequentWrites,
        "FrequentWrites",
        "values that change often (over ~1 write/key/second)",
        &[K::D1, K::DurableObject],
    ),
    r(Reason::BinaryObjects, "BinaryObjects", "binary objects (images, video, PDF, zip)", &[K::R2]),
    r(Reason::LargeFiles, "LargeFiles", "files over 25 MB", &[K::R2]),
    r(Reason::PublicUrls, "PublicUrls", "a public or presigned URL", &[K::R2]),
    r(Reason::EgressFree, "EgressFree", "egress-free serving (no per-GB fee)", &[K::R2]),
    r(Reason::S3Compatible, "S3Compatible", "an S3 replacement that keeps the S3 clients", &[K::R2]),
    r(Reason::GlobalReads, "GlobalReads", "simple key-value, read globally", &[K::Kv]),
    r(Reason::FlagsConfig, "FlagsConfig", "cached metadata: feature flags, redirect maps, tag aliases", &[K::Kv]),
    r(Reason::Sessions, "Sessions", "session data, short-lived auth tokens", &[K::Kv]),
    r(
        Reason::EventualConsistencyOk,
        "EventualConsistencyOk",
        "frequent lookups where eventual consistency (< 60 s) is fine",
        &[K::Kv],
    ),
    r(
        Reason::SingleWriter,
        "SingleWriter",
        "single-writer coordination (counter, rate limiter, lock)",
        &[K::DurableObject],
    ),
    r(
        Reason::WebSockets,
        "WebSockets",
        "WebSocket servers (chat, multiplayer, collaborative editing)",
        &[K::DurableObject],
    ),
    r(
        Reason::InMemorySessions,
        "InMemorySessions",
        "sessions with in-memory state (cart, form wizard)",
        &[K::DurableObject],
    ),
    r(
        Reason::MultiKeyTransactions,
        "MultiKeyTransactions",
        "transactional operations over multiple keys",
        &[K::DurableObject],
    ),
    r(Reason::HttpCaching, "HttpCaching", "HTTP response caching (not regenerating the same response)", &[K::Cache]),
    r(Reason::Warmup, "Warmup", "warm-up after a cold fetch", &[K::Cache]),
    r(Reason::PresignedResponses, "PresignedResponses", "caching presigned-URL responses for a short TTL", &[K::Cache]),
    r(Reason::BackgroundJobs, "BackgroundJobs", "fire-and-forget background jobs", &[K::Queue]),
    r(Reason::Smoothing, "Smoothing", "rate-limiting or smoothing outgoing traffic", &[K::Queue]),
    r(Reason::Retries, "Retries", "retries with exponential backoff", &[K::Queue]),
    r(Reason::FanOut, "FanOut", "fan-out / fan-in processing", &[K::Queue]),
    r(Reason::SemanticSearch, "SemanticSearch", "semantic search via embeddings", &[K::Vectorize]),
    r(Reason::Rag, "Rag", "RAG: relevant context for an LLM", &[K::Vectorize]),
    r(Reason::SimilaritySearch, "SimilaritySearch", "similarity search", &[K::Vectorize]),
    r(
        Reason::CatalogModel,
        "CatalogModel",
        "a model of the Workers AI catalog fits (embeddings, small LLMs, image generation)",
        &[K::Ai],
    ),
    r(Reason::AnalyticsEvents, "AnalyticsEvents", "analytics events (the seed's table)", &[K::AnalyticsEngine]),
    r(Reason::QueryContents, "QueryContents", "querying the contents of what is stored", &[K::D1, K::Vectorize]),
    r(Reason::PrefixListing, "PrefixListing", "very fast prefix listing (KV metadata)", &[K::Kv]),
    r(Reason::CrossRequestSharing, "CrossRequestSharing", "data shared across non-HTTP requests", &[K::Kv]),
    r(
        Reason::StaticFiles,
        "StaticFiles",
        "static files deployed with the Worker: CSS, images, the favicon (the seed's table: Workers Assets)",
        &[K::Assets],
    ),
];

const fn r(reason: Reason, name: &'static str, says: &'static str, fits: &'static [StorageKind]) -> ReasonSpec {
    ReasonSpec { reason, name, says, fits }
}

/// The tree's "Don't use … for" lines, as (primitive, reason, advice).
const DONT: [(StorageKind, Reason, &str); 16] = [
    (K::D1, Reason::LargeFiles, "don't use D1 for binary blobs > 1 MB (bloated rows, slow queries): use R2"),
    (K::D1, Reason::BinaryObjects, "don't use D1 for binary blobs > 1 MB (bloated rows, slow queries): use R2"),
    (K::D1, Reason::GlobalReads, "don't use D1 for sub-millisecond global reads (D1 has a single primary region): use KV"),
    (K::R2, Reason::QueryContents, "don't use R2 for querying object contents: use D1 or Vectorize"),
    (K::R2, Reason::PrefixListing, "don't use R2 for very fast prefix listing (list operations are slow): use KV metadata"),
    (K::R2, Reason::FixedSchema, "don't use R2 for small metadata that needs to be queried (list operations are slow): use D1"),
    (K::Kv, Reason::StrongConsistency, "don't use KV for strong consistency (reads may lag writes by up to 60 s): use D1 or a Durable Object"),
    (K::Kv, Reason::LargeFiles, "don't use KV for values > 25 MB (KV is capped at 25 MB): use R2"),
    (K::Kv, Reason::FrequentWrites, "don't use KV for a write rate above ~1 write/key/second (session data that changes often is rate-limited): use a Durable Object or D1"),
    (K::Kv, Reason::Transactions, "KV has no transactions: use D1, or a Durable Object for multi-key transactions"),
    (K::DurableObject, Reason::GlobalReads, "don't use a Durable Object for anything that needs global reads (a Durable Object is pinned to one region): use KV"),
    (K::DurableObject, Reason::QueryContents, "don't use a Durable Object for a global query (it is pinned to one region): use D1"),
    (K::DurableObject, Reason::FixedSchema, "don't use a Durable Object for stateless workloads over a fixed schema (pinned to one region, losing the edge): use a Worker + D1"),
    (K::Cache, Reason::CrossRequestSharing, "don't use the Cache API for sharing data across non-HTTP requests: use KV"),
    (K::Cache, Reason::Sessions, "don't use the Cache API for session data (entries are per data centre and can be evicted any time): use KV"),
    (K::Cache, Reason::FlagsConfig, "don't use the Cache API for invalidation by key pattern: use KV with a TTL"),
];

impl Reason {
    /// This reason's row of [`REASONS`].
    #[must_use]
    pub const fn spec(self) -> &'static ReasonSpec {
        &REASONS[self as usize]
    }

    /// The reason named `name` in `because(…)`.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Reason> {
        REASONS.iter().find(|r| r.name == name).map(|r| r.reason)
    }

    /// Whether the tree gives this reason to `kind`.
    #[must_use]
    pub fn fits(self, kind: StorageKind) -> bool {
        self.spec().fits.contains(&kind)
    }

    /// Why `kind` is the wrong primitive for this reason (`None` when it fits): the tree's own
    /// "Don't use" line when there is one, else where the tree puts the reason.
    #[must_use]
    pub fn advice(self, kind: StorageKind) -> Option<String> {
        if self.fits(kind) {
            return None;
        }
        if let Some((_, _, advice)) = DONT.iter().find(|(k, r, _)| *k == kind && *r == self) {
            return Some((*advice).to_owned());
        }
        let spec = self.spec();
        let fits: Vec<&str> = spec.fits.iter().map(|k| k.spec().attr).collect();
        Some(format!(
            "the decision tree lists \"{}\" under {}, not {}",
            spec.says,
            fits.join(" and "),
            kind.spec().attr
        ))
    }

    /// The reasons the tree gives to `kind`, as `because(…)` names: `FixedSchema, ComplexSql, …`.
    #[must_use]
    pub fn names_for(kind: StorageKind) -> String {
        REASONS.iter().filter(|r| r.fits.contains(&kind)).map(|r| r.name).collect::<Vec<_>>().join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::{Reason, DONT, REASONS};
    use crate::storage::{StorageKind, KINDS};

    #[test]
    fn the_table_is_in_variant_order_with_unique_names() {
        for (i, r) in REASONS.iter().enumerate() {
            assert_eq!(r.reason as usize, i, "{} is out of order", r.name);
            assert_eq!(format!("{:?}", r.reason), r.name);
            assert_eq!(Reason::from_name(r.name), Some(r.reason));
            assert!(!r.fits.is_empty(), "{} fits nothing", r.name);
        }
    }

    #[test]
    fn every_primitive_has_a_reason_and_dont_lines_name_misfits() {
        for k in KINDS {
            assert!(!Reason::names_for(k.kind).is_empty(), "{} has no reason", k.attr);
        }
        for (kind, reason, _) in DONT {
            assert!(!reason.fits(kind), "{reason:?} fits {kind:?} but has a don't line");
        }
    }

    #[test]
    fn advice_quotes_the_tree() {
        let kv = Reason::FrequentWrites.advice(StorageKind::Kv).unwrap();
        assert!(kv.contains("1 write/key/second"), "{kv}");
        let d1 = Reason::BinaryObjects.advice(StorageKind::D1).unwrap();
        assert!(d1.contains("R2"), "{d1}");
        assert_eq!(Reason::FixedSchema.advice(StorageKind::D1), None);
        let generic = Reason::WebSockets.advice(StorageKind::Queue).unwrap();
        assert!(generic.contains("DurableObject"), "{generic}");
    }
}
