//! The storage kinds, as one table: what a route writes in `storage(…)`, the handle type its
//! handler takes, the default binding, and how wrangler's config declares the binding. The
//! macros read attribute names, handle types and wrangler sections from it; the runtime checks
//! bindings against it.
//!
//! Adding a kind:
//! 1. a variant of [`StorageKind`] (and [`StorageKind::COUNT`]) and its row in [`KINDS`], in
//!    variant order (a unit test checks that they agree);
//! 2. the handle's file in `layers-core/src/storage/`, implementing `Opens` (its `KIND` and
//!    how it opens at a `Site`), re-exported from `storage/mod.rs`;
//! 3. its row in `handles!` (`layers-core/src/storage/open.rs`), named like the row's
//!    `accessor` — a kind missing there fails the build, and a test checks the names.
//!
//! The macros need nothing more: they read attribute names, handle types, accessors and
//! wrangler sections from the table.

/// The kinds of storage a route, event handler or Durable Object can declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StorageKind {
    /// A D1 database (`storage(D1)`, default binding `DB`), handle `D1`.
    D1,
    /// A KV namespace (`storage(KV)`, default binding `KV`), handle `Kv`.
    Kv,
    /// A queue producer (`storage(Queue)`, default binding `QUEUE`), handle `Queue<T>`.
    Queue,
    /// An R2 bucket (`storage(R2)`, default binding `BUCKET`), handle `R2`.
    R2,
    /// The Cache API (`storage(Cache)` for the default cache, `storage(Cache = "name")` for a
    /// named one; no binding in wrangler's config), handle `Cache`. Routes only.
    Cache,
    /// An Analytics Engine dataset (`storage(AnalyticsEngine)`, default binding `ANALYTICS`),
    /// handle `AnalyticsEngine`.
    AnalyticsEngine,
    /// A Durable Object namespace (`storage(DurableObject = "BINDING")`), handle
    /// `DurableObject<C>`.
    DurableObject,
    /// Workers AI (`storage(Ai)`, default binding `AI`, `[ai]`), handle `Ai`.
    Ai,
    /// A Vectorize index (`storage(Vectorize)`, default binding `VECTORIZE`, `[[vectorize]]`),
    /// handle `Vectorize`.
    Vectorize,
    /// Workers Static Assets (`storage(Assets)`, default binding `ASSETS`, `[assets]`), handle
    /// `Assets`. Routes only.
    Assets,
}

/// Where wrangler's config declares a kind's bindings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Declared {
    /// The section's path: `["d1_databases"]`, `["queues", "producers"]`, `["ai"]`…
    pub section: &'static [&'static str],
    /// An array of tables (`[[d1_databases]]`), or one table (`[ai]`).
    pub many: bool,
    /// The key that holds the binding's name.
    pub key: &'static str,
    /// A key an entry must also have to declare a usable binding (`index_name` of a Vectorize
    /// index).
    pub requires: Option<&'static str>,
}

/// One row of [`KINDS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindSpec {
    /// The kind.
    pub kind: StorageKind,
    /// Its name in `storage(…)`: `D1`, `KV`…
    pub attr: &'static str,
    /// The handle type a handler's parameter names: `D1`, `Kv`, `Queue`…
    pub handle: &'static str,
    /// The [`StorageKind`] variant's name.
    pub variant: &'static str,
    /// The binding opened when `storage(…)` names none.
    pub default_binding: &'static str,
    /// The method of `Handles` (layers-core) that hands the handle out.
    pub accessor: &'static str,
    /// Whether the handle type has a parameter that says what it carries (`Queue<T>`,
    /// `DurableObject<C>`): the expansion annotates the parameter's type where it takes it.
    pub typed: bool,
    /// Whether crons, queue consumers and Durable Objects may declare it (the Cache API keys
    /// entries under the origin of a request being served, which they have none of).
    pub outside_requests: bool,
    /// Where wrangler's config declares its bindings; `None` for the Cache API (any name opens a
    /// cache).
    pub declared: Option<Declared>,
    /// What to add to a "binding not declared" message when the section is not obvious from
    /// the kind's name.
    pub declare_hint: &'static str,
}

const fn array(section: &'static [&'static str], key: &'static str) -> Option<Declared> {
    Some(Declared { section, many: true, key, requires: None })
}

/// Every storage kind, in [`StorageKind`] order (`KINDS[k as usize].kind == k`).
pub const KINDS: [KindSpec; StorageKind::COUNT] = [
    KindSpec {
        kind: StorageKind::D1,
        attr: "D1",
        handle: "D1",
        variant: "D1",
        default_binding: "DB",
        accessor: "d1",
        typed: false,
        outside_requests: true,
        declared: array(&["d1_databases"], "binding"),
        declare_hint: "",
    },
    KindSpec {
        kind: StorageKind::Kv,
        attr: "KV",
        handle: "Kv",
        variant: "Kv",
        default_binding: "KV",
        accessor: "kv",
        typed: false,
        outside_requests: true,
        declared: array(&["kv_namespaces"], "binding"),
        declare_hint: "",
    },
    KindSpec {
        kind: StorageKind::Queue,
        attr: "Queue",
        handle: "Queue",
        variant: "Queue",
        default_binding: "QUEUE",
        accessor: "queue",
        typed: true,
        outside_requests: true,
        declared: array(&["queues", "producers"], "binding"),
        declare_hint: "",
    },
    KindSpec {
        kind: StorageKind::R2,
        attr: "R2",
        handle: "R2",
        variant: "R2",
        default_binding: "BUCKET",
        accessor: "r2",
        typed: false,
        outside_requests: true,
        declared: array(&["r2_buckets"], "binding"),
        declare_hint: "",
    },
    KindSpec {
        kind: StorageKind::Cache,
        attr: "Cache",
        handle: "Cache",
        variant: "Cache",
        default_binding: "default",
        accessor: "cache",
        typed: false,
        outside_requests: false,
        declared: None,
        declare_hint: "",
    },
    KindSpec {
        kind: StorageKind::AnalyticsEngine,
        attr: "AnalyticsEngine",
        handle: "AnalyticsEngine",
        variant: "AnalyticsEngine",
        default_binding: "ANALYTICS",
        accessor: "analytics",
        typed: false,
        outside_requests: true,
        declared: array(&["analytics_engine_datasets"], "binding"),
        declare_hint: "",
    },
    KindSpec {
        kind: StorageKind::DurableObject,
        attr: "DurableObject",
        handle: "DurableObject",
        variant: "DurableObject",
        default_binding: "DURABLE_OBJECT",
        accessor: "durable",
        typed: true,
        outside_requests: true,
        declared: array(&["durable_objects", "bindings"], "name"),
        declare_hint: "",
    },
    KindSpec {
        kind: StorageKind::Ai,
        attr: "Ai",
        handle: "Ai",
        variant: "Ai",
        default_binding: "AI",
        accessor: "ai",
        typed: false,
        outside_requests: true,
        declared: Some(Declared { section: &["ai"], many: false, key: "binding", requires: None }),
        declare_hint: " Workers AI is declared as `[ai]` with `binding = \"AI\"`.",
    },
    KindSpec {
        kind: StorageKind::Vectorize,
        attr: "Vectorize",
        handle: "Vectorize",
        variant: "Vectorize",
        default_binding: "VECTORIZE",
        accessor: "vectorize",
        typed: false,
        outside_requests: true,
        declared: Some(Declared { section: &["vectorize"], many: true, key: "binding", requires: Some("index_name") }),
        declare_hint:
            " A Vectorize index is declared as `[[vectorize]]` with `binding = \"…\"` and `index_name = \"…\"`.",
    },
    KindSpec {
        kind: StorageKind::Assets,
        attr: "Assets",
        handle: "Assets",
        variant: "Assets",
        default_binding: "ASSETS",
        accessor: "assets",
        typed: false,
        outside_requests: false,
        declared: Some(Declared { section: &["assets"], many: false, key: "binding", requires: Some("directory") }),
        declare_hint: " Static assets are declared as `[assets]` with `directory = \"…\"`, `binding = \"ASSETS\"` and `run_worker_first = true` (so that every request meets its route's verifier first).",
    },
];

impl StorageKind {
    /// How many kinds there are.
    pub const COUNT: usize = 10;

    /// This kind's row of [`KINDS`].
    #[must_use]
    pub const fn spec(self) -> &'static KindSpec {
        &KINDS[self as usize]
    }

    /// Its name in `storage(…)`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        self.spec().attr
    }

    /// The kind `storage(…)` names (`D1`, `KV`…). `None` for anything else.
    #[must_use]
    pub fn from_attr(name: &str) -> Option<StorageKind> {
        KINDS.iter().find(|k| k.attr == name).map(|k| k.kind)
    }

    /// The kind whose handle type is named `name` (`D1`, `Kv`, `Queue`…). `None` for anything
    /// else.
    #[must_use]
    pub fn from_handle(name: &str) -> Option<StorageKind> {
        KINDS.iter().find(|k| k.handle == name).map(|k| k.kind)
    }

    /// The kinds' `storage(…)` names as a sentence: "D1, KV, … and Vectorize".
    #[must_use]
    pub fn list() -> String {
        let names: Vec<&str> = KINDS.iter().map(|k| k.attr).collect();
        match names.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
            _ => names.join(""),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_in_variant_order_and_names_are_unique() {
        for (i, k) in KINDS.iter().enumerate() {
            assert_eq!(k.kind as usize, i, "{k:?}");
            assert_eq!(StorageKind::from_attr(k.attr), Some(k.kind));
            assert_eq!(StorageKind::from_handle(k.handle), Some(k.kind));
            assert_eq!(format!("{:?}", k.kind), k.variant);
            assert!(crate::text::is_ident(k.default_binding) && crate::text::is_ident(k.accessor));
        }
        assert_eq!(StorageKind::from_attr("Kv"), None, "the attribute says KV");
        assert_eq!(
            StorageKind::list(),
            "D1, KV, Queue, R2, Cache, AnalyticsEngine, DurableObject, Ai, Vectorize and Assets"
        );
        // Only the Cache API has no binding in wrangler's config; it and static assets are for
        // requests alone.
        for k in KINDS {
            assert_eq!(k.declared.is_none(), k.kind == StorageKind::Cache);
            assert_eq!(!k.outside_requests, matches!(k.kind, StorageKind::Cache | StorageKind::Assets));
        }
    }
}
