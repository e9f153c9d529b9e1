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
//!         storage: vec![StorageDecl::new(StorageKind::D1, "DB")],
//!         mints: vec![],
//!         obtains: vec![],
//!         shadows: vec![],
//!         handler: "dashboard",
//!         secrets: vec![],
//!         vars: vec![],
//!         outbound: vec![],
//!     }],
//!     crons: vec![],
//!     queues: vec![],
//!     durable_objects: vec![],
//! };
//! assert!(m.to_markdown().contains(r"| GET | /admin/\* | Guarded&lt;AccessJwt, EmailAllowlist&gt; | D1:DB | — | — | dashboard |"));
//! assert!(m.to_mermaid().starts_with("flowchart LR"));
//! ```

mod markdown;
mod mermaid;
mod text;

pub use text::{escape_markdown, escape_mermaid, short_type_name};

use crate::__private::App;
use crate::identity::capability::{Grant, GrantKind};
use crate::outbound::OutboundDecl;
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
    /// The secrets its verifier and grants read (`Verifier::SECRETS`; a `Mint`'s signing secret,
    /// a `Federation`'s key): what a deployment must set with `wrangler secret put`.
    pub secrets: Vec<&'static str>,
    /// The `[vars]` its verifier, grants and handler read (`Verifier::VARS`, a `Federation`'s
    /// issuer/audience/STS URL/role, the handler's `vars(…)` and `outbound(…)`).
    pub vars: Vec<&'static str>,
    /// The outbound HTTP it makes: its verifier's (`Verifier::OUTBOUND`), a `Federation`'s STS
    /// call, and the handler's `outbound(…)` ([`OutboundDecl::label`]).
    pub outbound: Vec<String>,
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
    /// The secrets its grants read (a `Mint`'s signing secret).
    pub secrets: Vec<&'static str>,
    /// The `[vars]` its handler reads (`vars(…)` and `outbound(…)`).
    pub vars: Vec<&'static str>,
    /// The outbound HTTP its handler declares (`outbound(…)`, [`OutboundDecl::label`]).
    pub outbound: Vec<String>,
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

/// Why a storage entry is there, as the manifest shows it: the decision tree's reasons (their
/// `because(…)` names), then the note, `; `-separated; `""` when there is no reason.
#[must_use]
pub fn reason_label(d: &StorageDecl) -> String {
    let mut parts: Vec<&str> = d.reasons.iter().map(|r| r.spec().name).collect();
    if !d.note.is_empty() {
        parts.push(d.note);
    }
    parts.join("; ")
}

/// One use of a storage binding by a handler: who uses it (`GET /admin/*`, `cron 0 2 * * SUN`,
/// `queue reindex`, `object RateLimiter`) and the declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageUse {
    /// The entry point: `METHOD pattern`, `cron …`, `queue …` or `object …`.
    pub by: String,
    /// The handler function.
    pub handler: &'static str,
    /// The declaration, with its reasons.
    pub decl: StorageDecl,
}

pub(crate) fn labels(storage: &[StorageDecl]) -> Vec<String> {
    storage.iter().map(binding_label).collect()
}

/// The secrets `grants` read, in order.
fn grant_secrets(grants: &[Grant]) -> Vec<&'static str> {
    union(&[&grants.iter().map(|g| g.secret).collect::<Vec<_>>()])
}

/// What an entry point calls: its verifier's calls, each `Federation`'s STS exchange, then its
/// handler's `outbound(…)`.
fn route_outbound(verifier: &[&str], grants: &[Grant], declared: &[OutboundDecl]) -> Vec<String> {
    let sts = grants.iter().filter(|g| g.kind == GrantKind::Federation).map(|g| match g.vars.get(2) {
        Some(var) => format!("AWS STS for {} (var {var}, else AWS's)", g.config_name()),
        None => format!("AWS STS for {}", g.config_name()),
    });
    let mut out: Vec<String> = verifier.iter().map(|s| (*s).to_owned()).chain(sts).collect();
    for d in declared {
        let label = d.label();
        if !out.contains(&label) {
            out.push(label);
        }
    }
    out
}

/// The `[vars]` `outbound(…)` reads (service URLs, allowlists), in order.
fn outbound_vars(declared: &[OutboundDecl]) -> Vec<&'static str> {
    declared.iter().filter_map(OutboundDecl::var).collect()
}

/// The `[vars]` `grants` read, in order.
fn grant_vars(grants: &[Grant]) -> Vec<&'static str> {
    union(&[&grants.iter().flat_map(|g| g.vars.iter().copied()).collect::<Vec<_>>()])
}

/// The names of `lists`, in order, each once.
fn union(lists: &[&[&'static str]]) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for name in lists.iter().flat_map(|l| l.iter()) {
        if !out.contains(name) {
            out.push(name);
        }
    }
    out
}

/// The configurations of the grants of `kind`, by type.
fn granted(grants: &[Grant], kind: GrantKind) -> Vec<String> {
    grants.iter().filter(|g| g.kind == kind).map(Grant::config_name).collect()
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
                        secrets: union(&[m.secrets, &grant_secrets(m.grants)]),
                        vars: union(&[m.verifier_vars, &grant_vars(m.grants), m.vars, &outbound_vars(m.outbound)]),
                        outbound: route_outbound(m.verifier_outbound, m.grants, m.outbound),
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
                        secrets: grant_secrets(m.grants),
                        vars: union(&[&grant_vars(m.grants), m.vars, &outbound_vars(m.outbound)]),
                        outbound: route_outbound(&[], m.grants, m.outbound),
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
                        secrets: grant_secrets(m.grants),
                        vars: union(&[&grant_vars(m.grants), m.vars, &outbound_vars(m.outbound)]),
                        outbound: route_outbound(&[], m.grants, m.outbound),
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

    /// Every storage declaration of every entry point, in manifest order: routes, crons, queue
    /// consumers, Durable Object classes.
    #[must_use]
    pub fn storage_uses(&self) -> Vec<StorageUse> {
        let mut out = Vec::new();
        let mut add = |by: String, handler: &'static str, storage: &[StorageDecl]| {
            out.extend(storage.iter().map(|d| StorageUse { by: by.clone(), handler, decl: *d }));
        };
        for r in &self.routes {
            add(format!("{} {}", r.method, r.pattern), r.handler, &r.storage);
        }
        for c in &self.crons {
            add(format!("cron {}", c.source), c.handler, &c.storage);
        }
        for q in &self.queues {
            add(format!("queue {}", q.source), q.handler, &q.storage);
        }
        for d in &self.durable_objects {
            add(format!("object {}", d.class), d.handler, &d.storage);
        }
        out
    }

    /// The storage declarations without a reason, as warnings: `GET /x (handler): D1:DB has no
    /// because(…)`. `cargo xtask manifest` prints them; `--strict` fails on any.
    #[must_use]
    pub fn missing_reasons(&self) -> Vec<String> {
        self.storage_uses()
            .iter()
            .filter(|u| u.decl.reasons.is_empty())
            .map(|u| {
                format!(
                    "{} ({}): {} has no reason — add `because(…)` with the decision tree's reasons for {} ({})",
                    u.by,
                    u.handler,
                    binding_label(&u.decl),
                    u.decl.kind.spec().attr,
                    crate::storage::Reason::names_for(u.decl.kind)
                )
            })
            .collect()
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

    /// JSON: `{"routes": [{"method","route","identity","storage": ["D1:DB"],"why","mints",
    /// "obtains","shadows","handler","secrets","vars","outbound"}], "crons": [{"cron","identity",
    /// "storage","why","mints","handler","secrets","vars","outbound"}], "queues": [{"queue",…}], "durable_objects": [{"class",…}],
    /// "missing_reasons": […]}`, where `why` is `[{"storage": "D1:DB", "reasons":
    /// ["FixedSchema"], "note": ""}]` ([`Manifest::missing_reasons`] for the last).
    #[must_use]
    pub fn to_json(&self) -> serde_json::Value {
        let ev = |key: &str, e: &EventRow| {
            let mut v = serde_json::json!({
                "identity": SYSTEM, "storage": labels(&e.storage), "why": why_json(&e.storage),
                "mints": e.mints, "handler": e.handler, "secrets": e.secrets, "vars": e.vars,
                "outbound": e.outbound,
            });
            v[key] = e.source.into();
            v
        };
        serde_json::json!({
            "routes": self.routes.iter().map(|r| serde_json::json!({
                "method": r.method, "route": r.pattern, "identity": r.identity,
                "storage": labels(&r.storage), "why": why_json(&r.storage),
                "mints": r.mints, "obtains": r.obtains, "shadows": r.shadows,
                "handler": r.handler, "secrets": r.secrets, "vars": r.vars,
                "outbound": r.outbound,
            })).collect::<Vec<_>>(),
            "crons": self.crons.iter().map(|c| ev("cron", c)).collect::<Vec<_>>(),
            "queues": self.queues.iter().map(|q| ev("queue", q)).collect::<Vec<_>>(),
            "durable_objects": self.durable_objects.iter().map(|d| serde_json::json!({
                "class": d.class, "identity": DURABLE_CALLER, "storage": labels(&d.storage),
                "why": why_json(&d.storage), "handler": d.handler,
            })).collect::<Vec<_>>(),
            "missing_reasons": self.missing_reasons(),
        })
    }
}

/// `[{"storage": "D1:DB", "reasons": ["FixedSchema"], "note": "…"}]`, one per declaration.
fn why_json(storage: &[StorageDecl]) -> serde_json::Value {
    storage
        .iter()
        .map(|d| {
            serde_json::json!({
                "storage": binding_label(d),
                "reasons": d.reasons.iter().map(|r| r.spec().name).collect::<Vec<_>>(),
                "note": d.note,
            })
        })
        .collect()
}
