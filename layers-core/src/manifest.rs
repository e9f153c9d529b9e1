//! The app's manifest: every route, cron and queue consumer with its identity and storage — the
//! seed's "architecture diagram", generated from the code.
//!
//! `app!` emits `pub fn manifest() -> Manifest` next to the Worker's entry points. It reads the
//! very table dispatch uses (each route's `META`, with the identity named by the *type* of the
//! verifier that really runs — never by a `NAME` a configuration chose, which could be anything),
//! so the manifest cannot drift from what the Worker does. Each row also lists what the
//! handler's proof grants beyond storage: the token configurations it may mint (`Mint<'_, C>`)
//! and the cloud credentials it may obtain (`Federation<'_, C>`). `cargo xtask
//! manifest` prints it as Markdown ([`Manifest::to_markdown`]), as a Mermaid flowchart
//! request → identity → storage ([`Manifest::to_mermaid`]) or as JSON ([`Manifest::to_json`]).
//! Bindings are checked against `wrangler.toml` when the app compiles, so a manifest exists only
//! for an app whose code and `wrangler.toml` agree.
//!
//! ```
//! use layers_core::manifest::{Manifest, RouteRow};
//! use layers_core::storage::{StorageDecl, StorageKind};
//!
//! let m = Manifest {
//!     routes: vec![RouteRow {
//!         method: "GET",
//!         pattern: "/admin/*",
//!         identity: "Guarded<AccessJwt, EmailAllowlist>".into(),
//!         storage: vec![StorageDecl { kind: StorageKind::D1, binding: "DB" }],
//!         mints: vec![],
//!         obtains: vec![],
//!         shadows: vec![],
//!         handler: "dashboard",
//!         secrets: vec![],
//!     }],
//!     crons: vec![],
//!     queues: vec![],
//!     durable_objects: vec![],
//! };
//! assert!(m.to_markdown().contains(r"| GET | /admin/\* | Guarded&lt;AccessJwt, EmailAllowlist&gt; | D1:DB | — | — | dashboard |"));
//! assert!(m.to_mermaid().starts_with("flowchart LR"));
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::__private::App;
use crate::identity::capability::{Grant, GrantKind};
use crate::storage::StorageDecl;

/// One route: `method pattern`, its verifier, its storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteRow {
    /// `GET`, `POST`… (`*` for any method).
    pub method: &'static str,
    /// The path pattern as written.
    pub pattern: &'static str,
    /// The verifier's type ([`short_type_name`]: `Public`, `ApiKey<DefaultApiKey>`,
    /// `Guarded<AccessJwt<app::AdminAccess>, EmailAllowlist<AdminEmails>>`…).
    pub identity: String,
    /// The declared storage, in declaration order.
    pub storage: Vec<StorageDecl>,
    /// The token configurations its handler may mint (`Mint<'_, C>` parameters), by type.
    pub mints: Vec<String>,
    /// The federation configurations whose cloud credentials its handler may obtain
    /// (`Federation<'_, C>` parameters), by type.
    pub obtains: Vec<String>,
    /// The less specific patterns, of other identities, it declares it takes requests from
    /// (`shadows("…")`).
    pub shadows: Vec<&'static str>,
    /// The handler function.
    pub handler: &'static str,
    /// The secrets its verifier reads (`Verifier::SECRETS`): what a deployment must set with
    /// `wrangler secret put`.
    pub secrets: Vec<&'static str>,
}

/// One cron or queue consumer; they run as `System`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    /// The cron expression or the queue's name.
    pub source: &'static str,
    /// The declared storage.
    pub storage: Vec<StorageDecl>,
    /// The token configurations its handler may mint, by type.
    pub mints: Vec<String>,
    /// The handler function.
    pub handler: &'static str,
}

/// One Durable Object class written with layers; its calls run as `DurableCaller`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DurableRow {
    /// The class name (wrangler.toml's `class_name`).
    pub class: &'static str,
    /// The declared storage (besides the object's own).
    pub storage: Vec<StorageDecl>,
    /// The handler method.
    pub handler: &'static str,
}

/// The identity every cron and queue consumer runs as.
pub const SYSTEM: &str = "System";

/// The identity every Durable Object call runs as.
pub const DURABLE_CALLER: &str = "DurableCaller";

/// The whole app: routes, crons and queue consumers, in `app!` order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Manifest {
    /// The routes.
    pub routes: Vec<RouteRow>,
    /// The cron handlers.
    pub crons: Vec<EventRow>,
    /// The queue consumers.
    pub queues: Vec<EventRow>,
    /// The Durable Object classes.
    pub durable_objects: Vec<DurableRow>,
}

/// `Kind:BINDING`, as the manifest shows a storage entry (`D1:DB`, `Queue:REINDEX`).
#[must_use]
pub fn binding_label(d: &StorageDecl) -> String {
    format!("{}:{}", d.kind.as_str(), d.binding)
}

fn labels(storage: &[StorageDecl]) -> Vec<String> {
    storage.iter().map(binding_label).collect()
}

/// The configurations of the grants of `kind`, by type.
fn granted(grants: &[Grant], kind: GrantKind) -> Vec<String> {
    grants.iter().filter(|g| g.kind == kind).map(Grant::config_name).collect()
}

/// A type name as `std::any::type_name` writes it, with the module paths of layers' own items
/// dropped (`layers_core::identity::policy::Guarded<…>` → `Guarded<…>`) and every other path
/// kept whole (`app::AdminAccess`), so an app's type is never taken for one of layers'.
///
/// ```
/// use layers_core::manifest::short_type_name;
/// assert_eq!(
///     short_type_name("layers_core::identity::policy::Guarded<layers_core::identity::access_jwt::AccessJwt<app::AdminAccess>, layers_core::identity::policy::EmailAllowlist>"),
///     "Guarded<AccessJwt<app::AdminAccess>, EmailAllowlist>"
/// );
/// assert_eq!(short_type_name("app::AccessJwt"), "app::AccessJwt");
/// ```
#[must_use]
pub fn short_type_name(full: &str) -> String {
    let mut out = String::with_capacity(full.len());
    let mut path = String::new();
    let flush = |path: &mut String, out: &mut String| {
        if let Some(rest) = path.strip_prefix("layers_core::") {
            out.push_str(rest.rsplit("::").next().unwrap_or(rest));
        } else {
            out.push_str(path);
        }
        path.clear();
    };
    for c in full.chars() {
        if c.is_alphanumeric() || c == '_' || c == ':' {
            path.push(c);
        } else {
            flush(&mut path, &mut out);
            out.push(c);
        }
    }
    flush(&mut path, &mut out);
    out
}

/// Escapes text for a cell of a GitHub-flavoured Markdown table: `|` cannot end the cell,
/// `*`, `_`, `` ` ``, `[`, `]`, `\` are literal, and `<`, `>`, `&` are entities (so a type such as
/// `Guarded<A, B>` is shown, not read as HTML).
#[must_use]
pub fn escape_markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '|' | '*' | '_' | '`' | '[' | ']' | '\\' | '#' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Escapes text for a quoted Mermaid label (`id["…"]`): quotes and the characters Mermaid or
/// its Markdown labels would interpret become `#code;` entities.
#[must_use]
pub fn escape_mermaid(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '|' | '*' | '#' | '&' | '`' | '[' | ']' | '{' | '}' | '(' | ')' | ';' | '\\' => {
                let _ = write!(out, "#{};", u32::from(c));
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

impl Manifest {
    /// The manifest of an app, from the table its dispatch uses (what `app!`'s `manifest()`
    /// returns).
    #[must_use]
    pub fn from_app(app: &App) -> Manifest {
        Manifest {
            routes: app
                .routes()
                .iter()
                .map(|r| {
                    let m = r.meta();
                    RouteRow {
                        method: m.method.as_str(),
                        pattern: m.pattern,
                        identity: short_type_name((m.identity_type)()),
                        storage: m.storage.to_vec(),
                        mints: granted(m.grants, GrantKind::Mint),
                        obtains: granted(m.grants, GrantKind::Federation),
                        shadows: m.shadows.iter().map(|d| d.pattern).collect(),
                        handler: m.handler,
                        secrets: m.secrets.to_vec(),
                    }
                })
                .collect(),
            crons: app
                .crons()
                .iter()
                .map(|c| {
                    let m = c.meta();
                    EventRow {
                        source: m.cron,
                        storage: m.storage.to_vec(),
                        mints: granted(m.grants, GrantKind::Mint),
                        handler: m.handler,
                    }
                })
                .collect(),
            queues: app
                .queues()
                .iter()
                .map(|q| {
                    let m = q.meta();
                    EventRow {
                        source: m.queue,
                        storage: m.storage.to_vec(),
                        mints: granted(m.grants, GrantKind::Mint),
                        handler: m.handler,
                    }
                })
                .collect(),
            durable_objects: app
                .durables()
                .iter()
                .map(|d| DurableRow { class: d.class, storage: d.storage.to_vec(), handler: d.handler })
                .collect(),
        }
    }

    /// The route whose method and pattern are these.
    #[must_use]
    pub fn route(&self, method: &str, pattern: &str) -> Option<&RouteRow> {
        self.routes.iter().find(|r| r.method == method && r.pattern == pattern)
    }

    /// Every binding some handler uses, `Kind:BINDING`, sorted and deduplicated.
    #[must_use]
    pub fn bindings(&self) -> Vec<String> {
        let mut all: Vec<String> = self
            .routes
            .iter()
            .flat_map(|r| labels(&r.storage))
            .chain(self.crons.iter().chain(&self.queues).flat_map(|e| labels(&e.storage)))
            .chain(self.durable_objects.iter().flat_map(|d| labels(&d.storage)))
            .collect();
        all.sort();
        all.dedup();
        all
    }

    /// Markdown: a table of routes (`method · route · identity · storage · mints · credentials
    /// · handler`), then crons and queues (`… · identity · storage · mints · handler`). Every
    /// cell is escaped with [`escape_markdown`].
    #[must_use]
    pub fn to_markdown(&self) -> String {
        let cell = |s: &str| escape_markdown(s);
        let list = |l: &[String]| if l.is_empty() { "—".to_owned() } else { cell(&l.join(", ")) };
        let store = |s: &[StorageDecl]| list(&labels(s));
        let mut out = String::from(
            "## Routes\n\n| method | route | identity | storage | mints | credentials | handler |\n|---|---|---|---|---|---|---|\n",
        );
        for r in &self.routes {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} |",
                cell(r.method),
                cell(r.pattern),
                cell(&r.identity),
                store(&r.storage),
                list(&r.mints),
                list(&r.obtains),
                cell(r.handler)
            );
        }
        let shadowing: Vec<&RouteRow> = self.routes.iter().filter(|r| !r.shadows.is_empty()).collect();
        if !shadowing.is_empty() {
            out.push_str(
                "\nRoutes that take requests from a less specific route of another identity, as declared:\n\n",
            );
            for r in shadowing {
                let _ = writeln!(
                    out,
                    "- {} {} ({}) takes requests from {}",
                    cell(r.method),
                    cell(r.pattern),
                    cell(&r.identity),
                    cell(&r.shadows.join(", "))
                );
            }
        }
        for (title, what, rows) in [("Crons", "cron", &self.crons), ("Queues", "queue", &self.queues)] {
            if rows.is_empty() {
                continue;
            }
            let _ = write!(
                out,
                "\n## {title}\n\n| {what} | identity | storage | mints | handler |\n|---|---|---|---|---|\n"
            );
            for e in rows {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} |",
                    cell(e.source),
                    SYSTEM,
                    store(&e.storage),
                    list(&e.mints),
                    cell(e.handler)
                );
            }
        }
        if !self.durable_objects.is_empty() {
            out.push_str("\n## Durable Objects\n\n| class | identity | storage | handler |\n|---|---|---|---|\n");
            for d in &self.durable_objects {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} |",
                    cell(d.class),
                    DURABLE_CALLER,
                    store(&d.storage),
                    cell(d.handler)
                );
            }
        }
        out
    }

    /// A Mermaid flowchart, left to right: request nodes (one per route, cron and queue) →
    /// identity nodes (one per verifier) → storage nodes (one per binding). An edge from an
    /// identity to a binding means some handler behind that identity opens it. Labels are
    /// escaped with [`escape_mermaid`].
    #[must_use]
    pub fn to_mermaid(&self) -> String {
        let mut identities: BTreeMap<&str, usize> = BTreeMap::new();
        let mut stores: BTreeMap<String, usize> = BTreeMap::new();
        let mut requests: Vec<(String, &str, &[StorageDecl])> = Vec::new();
        for r in &self.routes {
            requests.push((format!("{} {}", r.method, r.pattern), &r.identity, &r.storage));
        }
        for c in &self.crons {
            requests.push((format!("cron {}", c.source), SYSTEM, &c.storage));
        }
        for q in &self.queues {
            requests.push((format!("queue {}", q.source), SYSTEM, &q.storage));
        }
        for d in &self.durable_objects {
            requests.push((format!("object {}", d.class), DURABLE_CALLER, &d.storage));
        }
        for (_, id, storage) in &requests {
            let n = identities.len();
            identities.entry(id).or_insert(n);
            for d in *storage {
                let n = stores.len();
                stores.entry(binding_label(d)).or_insert(n);
            }
        }
        let mut out = String::from("flowchart LR\n");
        out.push_str("  subgraph request\n");
        for (i, (label, _, _)) in requests.iter().enumerate() {
            let _ = writeln!(out, "    r{i}[\"{}\"]", escape_mermaid(label));
        }
        out.push_str("  end\n  subgraph identity\n");
        for (name, i) in &identities {
            let _ = writeln!(out, "    i{i}{{\"{}\"}}", escape_mermaid(name));
        }
        out.push_str("  end\n  subgraph storage\n");
        for (name, i) in &stores {
            let _ = writeln!(out, "    s{i}[(\"{}\")]", escape_mermaid(name));
        }
        out.push_str("  end\n");
        let mut edges: Vec<(usize, usize)> = Vec::new();
        for (r, (_, id, storage)) in requests.iter().enumerate() {
            let i = identities[id];
            let _ = writeln!(out, "  r{r} --> i{i}");
            for d in *storage {
                let s = stores[&binding_label(d)];
                if !edges.contains(&(i, s)) {
                    edges.push((i, s));
                }
            }
        }
        for (i, s) in edges {
            let _ = writeln!(out, "  i{i} --> s{s}");
        }
        out
    }

    /// JSON: `{"routes": [{"method","route","identity","storage": ["D1:DB"],"mints","obtains",
    /// "handler"}], "crons": [{"cron","identity","storage","mints","handler"}], "queues":
    /// [{"queue",…}]}`.
    #[must_use]
    pub fn to_json(&self) -> serde_json::Value {
        let ev = |key: &str, e: &EventRow| {
            let mut v = serde_json::json!({
                "identity": SYSTEM, "storage": labels(&e.storage), "mints": e.mints, "handler": e.handler,
            });
            v[key] = e.source.into();
            v
        };
        serde_json::json!({
            "routes": self.routes.iter().map(|r| serde_json::json!({
                "method": r.method, "route": r.pattern, "identity": r.identity,
                "storage": labels(&r.storage), "mints": r.mints, "obtains": r.obtains, "shadows": r.shadows,
                "handler": r.handler, "secrets": r.secrets,
            })).collect::<Vec<_>>(),
            "crons": self.crons.iter().map(|c| ev("cron", c)).collect::<Vec<_>>(),
            "queues": self.queues.iter().map(|q| ev("queue", q)).collect::<Vec<_>>(),
            "durable_objects": self.durable_objects.iter().map(|d| serde_json::json!({
                "class": d.class, "identity": DURABLE_CALLER, "storage": labels(&d.storage), "handler": d.handler,
            })).collect::<Vec<_>>(),
        })
    }
}
