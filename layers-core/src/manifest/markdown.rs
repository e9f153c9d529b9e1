//! The manifest as Markdown tables.

use std::fmt::Write as _;

use super::{binding_label, escape_markdown, labels, reason_label, Manifest, RouteRow, DURABLE_CALLER, SYSTEM};
use crate::storage::StorageDecl;

impl Manifest {
    /// Markdown: a table of routes (`method · route · identity · storage · mints · credentials
    /// · handler`), then crons and queues (`… · identity · storage · mints · handler`), Durable
    /// Object classes, what each entry point reads ("Secrets and vars": the secrets a
    /// deployment must `wrangler secret put`, the `[vars]`), every storage use with its reasons
    /// ("Storage, and why"), and the
    /// declarations without a reason ("Warnings", [`Manifest::missing_reasons`]). Every cell is
    /// escaped with [`escape_markdown`].
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
        let mut reads: Vec<(String, &str, &[&str], &[&str])> = Vec::new();
        for r in &self.routes {
            reads.push((format!("{} {}", r.method, r.pattern), r.handler, &r.secrets, &r.vars));
        }
        for (what, rows) in [("cron", &self.crons), ("queue", &self.queues)] {
            for e in rows {
                reads.push((format!("{what} {}", e.source), e.handler, &e.secrets, &e.vars));
            }
        }
        reads.retain(|(_, _, s, v)| !s.is_empty() || !v.is_empty());
        if !reads.is_empty() {
            out.push_str(
                "\n## Secrets and vars\n\nWhat each entry point reads: secrets (set with `wrangler secret put`) and `[vars]`.\n\n| used by | handler | secrets | vars |\n|---|---|---|---|\n",
            );
            let names = |l: &[&str]| if l.is_empty() { "—".to_owned() } else { cell(&l.join(", ")) };
            for (by, handler, secrets, vars) in &reads {
                let _ = writeln!(out, "| {} | {} | {} | {} |", cell(by), cell(handler), names(secrets), names(vars));
            }
        }
        let mut calls: Vec<(String, &str, &[String])> = Vec::new();
        for r in &self.routes {
            calls.push((format!("{} {}", r.method, r.pattern), r.handler, &r.outbound));
        }
        for (what, rows) in [("cron", &self.crons), ("queue", &self.queues)] {
            for e in rows {
                calls.push((format!("{what} {}", e.source), e.handler, &e.outbound));
            }
        }
        calls.retain(|(_, _, c)| !c.is_empty());
        if !calls.is_empty() {
            out.push_str(
                "\n## Outbound HTTP\n\nWhat each entry point calls: its verifier's fetches (`Verifier::OUTBOUND`), STS for a `Federation`, and the handler's `outbound(…)`. Nothing else can be fetched.\n\n| used by | handler | calls |\n|---|---|---|\n",
            );
            for (by, handler, c) in &calls {
                let _ = writeln!(out, "| {} | {} | {} |", cell(by), cell(handler), cell(&c.join("; ")));
            }
        }
        let uses = self.storage_uses();
        if !uses.is_empty() {
            out.push_str(
                "\n## Storage, and why\n\nEach use of a binding with its reasons from the decision tree (`because(…)`).\n\n| storage | used by | handler | reasons |\n|---|---|---|---|\n",
            );
            for u in &uses {
                let why = reason_label(&u.decl);
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} |",
                    cell(&binding_label(&u.decl)),
                    cell(&u.by),
                    cell(u.handler),
                    if why.is_empty() { "**none**".to_owned() } else { cell(&why) }
                );
            }
        }
        let missing = self.missing_reasons();
        if !missing.is_empty() {
            out.push_str("\n## Warnings\n\n");
            for m in &missing {
                let _ = writeln!(out, "- {}", cell(m));
            }
        }
        out
    }
}
