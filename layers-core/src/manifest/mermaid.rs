//! The manifest as a Mermaid flowchart in the seed's three columns: request → identity → storage.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{binding_label, escape_mermaid, reason_label, Manifest, DURABLE_CALLER, SYSTEM};
use crate::storage::StorageDecl;

/// One entry point of the diagram.
struct Entry<'m> {
    label: String,
    /// The group it is drawn in: a path prefix (`/admin`) or the platform's events.
    group: String,
    identity: &'m str,
    storage: &'m [StorageDecl],
    /// Its outbound HTTP calls.
    outbound: &'m [String],
    /// Drawn as an event (stadium) rather than a route (box).
    event: bool,
}

/// The group of crons, queue consumers and Durable Object classes.
const EVENTS: &str = "crons · queues · objects";

/// A route's group: the first segment of its pattern (`/admin/*` → `/admin`; `/` → `/`).
fn prefix(pattern: &str) -> String {
    match pattern.trim_start_matches('/').split('/').next() {
        Some(first) if !first.is_empty() => format!("/{first}"),
        _ => "/".to_owned(),
    }
}

impl Manifest {
    /// A Mermaid flowchart, left to right, in three columns:
    ///
    /// - **Request**: a node per route, grouped by the first segment of its path (`/admin`,
    ///   `/api`…), and the platform's entry points — each cron, queue consumer and Durable Object
    ///   class — in a group of their own;
    /// - **Identity**: a node per verifier type (`System` for crons and queues, `DurableCaller`
    ///   for objects);
    /// - **Storage**: a node per binding (`D1:DB`);
    /// - **Outbound HTTP** (when any): a node per outbound call (`URL in var MAIL_URL`), with a
    ///   dotted `calls` edge from each entry point that makes it.
    ///
    /// Every entry point has an edge to its identity and one to each binding it declares,
    /// labelled with the declaration's reasons (a dotted edge labelled `no reason` when it has
    /// none). Invisible links from identities to the bindings their handlers use keep storage
    /// in the third column. Labels are escaped with [`escape_mermaid`].
    #[must_use]
    pub fn to_mermaid(&self) -> String {
        let mut entries: Vec<Entry<'_>> = Vec::new();
        for r in &self.routes {
            entries.push(Entry {
                label: format!("{} {}", r.method, r.pattern),
                group: prefix(r.pattern),
                identity: &r.identity,
                storage: &r.storage,
                outbound: &r.outbound,
                event: false,
            });
        }
        let events = self
            .crons
            .iter()
            .map(|c| (format!("cron {}", c.source), SYSTEM, &c.storage, &c.outbound[..]))
            .chain(self.queues.iter().map(|q| (format!("queue {}", q.source), SYSTEM, &q.storage, &q.outbound[..])))
            .chain(
                self.durable_objects
                    .iter()
                    .map(|d| (format!("object {}", d.class), DURABLE_CALLER, &d.storage, &[][..])),
            );
        for (label, identity, storage, outbound) in events {
            entries.push(Entry { label, group: EVENTS.to_owned(), identity, storage, outbound, event: true });
        }

        // Node numbers in first-seen order; groups in first-seen order, events last.
        let mut groups: Vec<String> = Vec::new();
        let mut identities: BTreeMap<&str, usize> = BTreeMap::new();
        let mut stores: BTreeMap<String, usize> = BTreeMap::new();
        let mut calls: BTreeMap<&str, usize> = BTreeMap::new();
        for e in &entries {
            for c in e.outbound {
                let n = calls.len();
                calls.entry(c.as_str()).or_insert(n);
            }
            if !groups.contains(&e.group) {
                groups.push(e.group.clone());
            }
            let n = identities.len();
            identities.entry(e.identity).or_insert(n);
            for d in e.storage {
                let n = stores.len();
                stores.entry(binding_label(d)).or_insert(n);
            }
        }

        let mut out = String::from("flowchart LR\n  subgraph request[\"Request\"]\n    direction TB\n");
        for (g, group) in groups.iter().enumerate() {
            let _ = writeln!(out, "    subgraph g{g}[\"{}\"]", escape_mermaid(group));
            for (n, e) in entries.iter().enumerate().filter(|(_, e)| &e.group == group) {
                let label = escape_mermaid(&e.label);
                if e.event {
                    let _ = writeln!(out, "      r{n}([\"{label}\"])");
                } else {
                    let _ = writeln!(out, "      r{n}[\"{label}\"]");
                }
            }
            out.push_str("    end\n");
        }
        out.push_str("  end\n  subgraph identity[\"Identity\"]\n");
        for (name, i) in &identities {
            let _ = writeln!(out, "    i{i}{{{{\"{}\"}}}}", escape_mermaid(name));
        }
        out.push_str("  end\n  subgraph storage[\"Storage\"]\n");
        for (name, s) in &stores {
            let _ = writeln!(out, "    s{s}[(\"{}\")]", escape_mermaid(name));
        }
        out.push_str("  end\n");
        if !calls.is_empty() {
            out.push_str("  subgraph outbound[\"Outbound HTTP\"]\n");
            for (name, o) in &calls {
                let _ = writeln!(out, "    o{o}>\"{}\"]", escape_mermaid(name));
            }
            out.push_str("  end\n");
        }

        let mut columns: Vec<(usize, usize)> = Vec::new();
        for (n, e) in entries.iter().enumerate() {
            let i = identities[e.identity];
            let _ = writeln!(out, "  r{n} --> i{i}");
            for d in e.storage {
                let s = stores[&binding_label(d)];
                let why = reason_label(d);
                if why.is_empty() {
                    let _ = writeln!(out, "  r{n} -.->|\"no reason\"| s{s}");
                } else {
                    let _ = writeln!(out, "  r{n} -->|\"{}\"| s{s}", escape_mermaid(&why));
                }
                if !columns.contains(&(i, s)) {
                    columns.push((i, s));
                }
            }
            for c in e.outbound {
                let _ = writeln!(out, "  r{n} -.->|\"calls\"| o{}", calls[c.as_str()]);
            }
        }
        for (i, s) in columns {
            let _ = writeln!(out, "  i{i} ~~~ s{s}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::prefix;

    #[test]
    fn routes_are_grouped_by_their_first_segment() {
        assert_eq!(prefix("/"), "/");
        assert_eq!(prefix("/admin/*"), "/admin");
        assert_eq!(prefix("/api/subscribe"), "/api");
        assert_eq!(prefix("/:slug"), "/:slug");
        assert_eq!(prefix("*"), "/*");
    }
}
