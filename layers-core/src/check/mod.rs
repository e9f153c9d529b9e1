//! The whole-app checks. `#[route]`, `#[scheduled]`, `#[queue]` and `app!` run them at compile
//! time (each a `const fn` whose panic is the compile error), and [`App`] runs the ones that do
//! not need wrangler's config again when it first serves ([`app_problem`]): a route table built by
//! hand through `__private` is held to what `app!` checks, or the Worker answers nothing but
//! 500s.
//!
//! Here: the grant and body checks of one handler, the binding check of routes and the table
//! check `App::new` runs. `routes` holds the route table's own rules (segments, conflicts,
//! `shadows`), `secrets` what secrets may be used for, `events` the wrangler checks of crons,
//! queues and Durable Objects.

use crate::__private::{App, RouteEntry, RouteMeta};
use crate::events::{CronEntry, QueueEntry};
use crate::identity::capability::{Grant, GrantKind};
use crate::identity::Verifier;
use crate::outbound::OutboundDecl;
use crate::request::pattern::ConstMsg;
use crate::storage::{StorageDecl, StorageKind};

mod events;
mod routes;
mod secrets;

pub use events::{check_durable, check_events};
use secrets::{secret_in_vars, token_clash};

/// The compile-time check of a grant parameter (`Mint<'_, C>`, `Federation<'_, C>`) that
/// `#[route]`, `#[scheduled]` and `#[queue]` emit at the parameter: `C` must be a
/// configuration of the app, not one of layers' defaults (any app could opt in to those).
///
/// # Panics
/// At compile time, with the fix in the message.
pub const fn check_grant(grant: Grant, handler: &str) {
    if grant.layers_default {
        let (what, default, config, opt_in) = match grant.kind {
            GrantKind::Mint => ("a `Mint` of", "DefaultToken", "TokenConfig", "MayMint"),
            GrantKind::Federation => ("a `Federation` of", "DefaultFederation", "FederationConfig", "MayFederate"),
            GrantKind::Issuer => {
                let m = ConstMsg::new()
                    .push("handler `")
                    .push(handler)
                    .push("` takes a `FederationIssuer` of layers' default configuration `DefaultFederation`, which no app's `Federation` may use: publish the issuer of your own `FederationConfig` — the one your `Federation<'_, C>` signs assertions with, whose `KEY_ID` is the `kid` they carry.");
                panic!("{}", m.as_str());
            }
        };
        let m = ConstMsg::new()
            .push("handler `")
            .push(handler)
            .push("` takes ")
            .push(what)
            .push(" layers' default configuration `")
            .push(default)
            .push("`, which no handler may take: it is shared by every app, so granting it would let any app's opt-in hand out credentials others accept. Define a `")
            .push(config)
            .push("` of your own (override only what differs) and opt it in with `impl ")
            .push(opt_in)
            .push("<Identity> for YourConfig {}`.");
        panic!("{}", m.as_str());
    }
}

/// The compile-time check `#[route]` runs: a verifier that reads the raw body (`Verifier::BODY`)
/// needs a handler that takes the `Request`, or the body it verified would never reach the
/// handler.
///
/// # Panics
/// At compile time, with the fix in the message.
pub const fn check_body<V: Verifier>(handler_takes_request: bool, handler: &str) {
    if V::PLATFORM_ONLY {
        let m = ConstMsg::new()
            .push("route handler `")
            .push(handler)
            .push("` uses `identity = ")
            .push(V::NAME)
            .push("`, but `")
            .push(V::NAME)
            .push("` claims are made only by the platform's own entry points (a cron, a queue batch, a call into a Durable Object), never for a request: use `#[scheduled(\"cron\")]`, `#[queue(\"name\")]` or `#[durable_object]` for that work, or give the route a request verifier (`Public`, `ApiKey`, …).");
        panic!("{}", m.as_str());
    }
    if V::BODY && !handler_takes_request {
        let m = ConstMsg::new()
            .push("route handler `")
            .push(handler)
            .push("` uses `identity = ")
            .push(V::NAME)
            .push("`, which verifies the raw request body, but the handler does not take the `Request`: add a `mut req: Request` parameter and read the verified body with `req.bytes().await` (or `req.text()` / `req.json()`), or take it typed with a `Json<T>` / `Form<T>` parameter.");
        panic!("{}", m.as_str());
    }
}

/// The bindings wrangler's config declares, per storage kind, in [`StorageKind`] order (the
/// Cache API's entry is unused: any name opens a cache).
pub(crate) type Bindings<'a> = [&'a [&'a str]; StorageKind::COUNT];

/// wrangler's config as `app!` read it, for the compile-time checks: the file's name (for the
/// messages) and what each deployment of the Worker has — the top level first, then each
/// environment the app is deployed to (`[env.NAME]`).
#[derive(Debug, Clone, Copy)]
pub struct WranglerConfig<'a> {
    /// The config's file name (`wrangler.toml`, `wrangler.jsonc`…).
    pub file: &'a str,
    /// The top level (`env: ""`), then the environments.
    pub scopes: &'a [WranglerScope<'a>],
}

/// What one deployment of the Worker has (the top level, or an environment as wrangler
/// resolves it: its own bindings, `vars`, queues and Durable Objects — environments inherit none
/// of them — and its own `triggers` or else the top level's).
#[derive(Debug, Clone, Copy)]
pub struct WranglerScope<'a> {
    /// The environment's name; empty for the top level.
    pub env: &'a str,
    /// The declared bindings, per kind, as [`layers_spec::storage::KINDS`] says each kind is
    /// declared.
    pub bindings: Bindings<'a>,
    /// `[triggers] crons`.
    pub crons: &'a [&'a str],
    /// `[[queues.consumers]] queue`.
    pub consumers: &'a [&'a str],
    /// The `class_name`s of `[[durable_objects.bindings]]` without `script_name` (this
    /// Worker's own classes).
    pub classes: &'a [&'a str],
    /// The `[vars]` names.
    pub vars: &'a [&'a str],
}

/// `m` + a section's name in `scope`: `[triggers] crons`, or `[env.NAME.triggers] crons` in an
/// environment (`open` is `[` or `[[`, `close` what follows the section's path).
pub(super) const fn section(m: ConstMsg, scope: &WranglerScope<'_>, open: &str, path: &str, close: &str) -> ConstMsg {
    let m = m.push(open);
    let m = if scope.env.is_empty() { m } else { m.push("env.").push(scope.env).push(".") };
    m.push(path).push(close)
}

/// The compile-time check `app!` runs against wrangler's config: every storage binding a route
/// opens is declared at the top level and in every environment the app is deployed to
/// (`wrangler`: per kind, as [`layers_spec::storage::KINDS`] says each kind is declared;
/// environments do not inherit bindings). What does not need wrangler's config — segments,
/// conflicting routes, `[vars]` that name secrets — [`App::new`] checks itself
/// (`table_problem`), so a table built by hand is held to it too.
///
/// # Panics
/// At compile time, with a message naming the route and binding at fault (and the environment).
pub const fn check_app(routes: &[RouteMeta], wrangler: &WranglerConfig<'_>) {
    let mut s = 0;
    while s < wrangler.scopes.len() {
        let scope = &wrangler.scopes[s];
        let mut i = 0;
        while i < routes.len() {
            let a = &routes[i];
            let who = ConstMsg::new()
                .push("route `")
                .push(a.method.as_str())
                .push(" ")
                .push(a.pattern)
                .push("` (fn ")
                .push(a.handler)
                .push(")");
            if let Some(decl) = undeclared_binding(a.storage, scope.bindings) {
                panic!("{}", undeclared_msg(who, decl, wrangler.file, scope).as_str());
            }
            if let Some(var) = undeclared_var(a.vars, scope.vars) {
                panic!("{}", undeclared_var_msg(who, var, "vars", wrangler.file, scope).as_str());
            }
            if let Some(var) = undeclared_outbound_var(a.outbound, scope.vars) {
                panic!("{}", undeclared_var_msg(who, var, "outbound", wrangler.file, scope).as_str());
            }
            i += 1;
        }
        s += 1;
    }
}

/// The first of `storage` whose binding wrangler's config does not declare.
const fn undeclared_binding(storage: &[StorageDecl], bindings: Bindings<'_>) -> Option<StorageDecl> {
    let mut k = 0;
    while k < storage.len() {
        let decl = storage[k];
        let declared = match decl.kind.spec().declared {
            Some(_) => contains(bindings[decl.kind as usize], decl.binding),
            // The Cache API has no binding in wrangler's config: any name opens a cache.
            None => true,
        };
        if !declared {
            return Some(decl);
        }
        k += 1;
    }
    None
}

/// "`who` uses KIND binding "NAME", which wrangler.toml does not declare…", or, in an
/// environment (checked after the top level, which therefore declares it), "…which wrangler.toml
/// declares at the top level but not in [env.NAME]…".
const fn undeclared_msg(who: ConstMsg, decl: StorageDecl, file: &str, scope: &WranglerScope<'_>) -> ConstMsg {
    let m = who
        .push(" uses ")
        .push(decl.kind.as_str())
        .push(" binding \"")
        .push(decl.binding)
        .push("\", which ")
        .push(file);
    let m = if scope.env.is_empty() {
        m.push(" does not declare: add it to ")
            .push(file)
            .push(" or name a declared binding with `storage(")
            .push(decl.kind.as_str())
            .push(" = \"NAME\")`.")
    } else {
        m.push(" declares at the top level but not in [env.")
            .push(scope.env)
            .push("]: environments do not inherit bindings, so `wrangler deploy --env ")
            .push(scope.env)
            .push("` would deploy a Worker without it. Declare it in [env.")
            .push(scope.env)
            .push("] too, or, if the app is not deployed there, name the environments it is deployed to in `app! { envs: [..] }`.")
    };
    m.push(decl.kind.spec().declare_hint)
}

/// What `app!` would refuse in a route table, crons, queues and `[vars]` names, without
/// wrangler's config: a segment no `#[route]` pattern makes, two equally specific routes that can
/// match one request, a route taking requests from another identity's without `shadows(…)`
/// (see [`routes`]), or a `[vars]` name that is a secret the app uses. [`App::new`] panics with it (at
/// compile time for a `static`), and an `App` checks it again when it first serves.
pub(crate) const fn table_problem(
    routes: &[RouteEntry],
    crons: &[CronEntry],
    queues: &[QueueEntry],
    vars: &[&str],
) -> Option<ConstMsg> {
    if let Some(m) = routes::routes_problem(routes) {
        return Some(m);
    }
    if let Some(m) = token_clash(routes, crons, queues) {
        return Some(m);
    }
    secret_in_vars(routes, crons, queues, vars)
}

/// The first of `vars` (a handler's `vars(…)`) that `declared` (a deployment's `[vars]`) lacks.
const fn undeclared_var<'a>(vars: &[&'a str], declared: &[&str]) -> Option<&'a str> {
    let mut i = 0;
    while i < vars.len() {
        if !contains(declared, vars[i]) {
            return Some(vars[i]);
        }
        i += 1;
    }
    None
}

/// The first var an `outbound(…)` declaration reads that `declared` (a deployment's `[vars]`)
/// lacks.
const fn undeclared_outbound_var(outbound: &[OutboundDecl], declared: &[&str]) -> Option<&'static str> {
    let mut i = 0;
    while i < outbound.len() {
        if let Some(v) = outbound[i].var() {
            if !contains(declared, v) {
                return Some(v);
            }
        }
        i += 1;
    }
    None
}

/// "`who` reads var "NAME" (its `KEY(…)`), which wrangler.toml's [vars] does not declare…" (or
/// `[env.NAME.vars]`: environments do not inherit vars).
const fn undeclared_var_msg(who: ConstMsg, var: &str, key: &str, file: &str, scope: &WranglerScope<'_>) -> ConstMsg {
    let m =
        who.push(" reads var \"").push(var).push("\" (its `").push(key).push("(…)`), which ").push(file).push("'s ");
    let m = section(m, scope, "[", "vars", "]").push(" does not declare");
    let m = if scope.env.is_empty() {
        m.push(": add `").push(var).push(" = \"…\"` there")
    } else {
        m.push(": environments do not inherit `[vars]`, so add it to [env.")
            .push(scope.env)
            .push(".vars] too, or name the environments the app is deployed to in `app! { envs: [..] }`")
    };
    m.push(" — or, if it is a secret, read it in a verifier (`Verifier::SECRETS`), never through `Vars`.")
}

/// The var check of one event handler (`kind` "cron" or "queue", `name` its cron or queue).
pub(super) const fn check_vars(
    kind: &str,
    name: &str,
    handler: &str,
    vars: &[&str],
    outbound: &[OutboundDecl],
    file: &str,
    scope: &WranglerScope<'_>,
) {
    let who = ConstMsg::new().push(kind).push(" \"").push(name).push("\" (fn ").push(handler).push(")");
    if let Some(var) = undeclared_var(vars, scope.vars) {
        panic!("{}", undeclared_var_msg(who, var, "vars", file, scope).as_str());
    }
    if let Some(var) = undeclared_outbound_var(outbound, scope.vars) {
        panic!("{}", undeclared_var_msg(who, var, "outbound", file, scope).as_str());
    }
}

pub(super) const fn check_storage(
    kind: &str,
    name: &str,
    handler: &str,
    storage: &[StorageDecl],
    file: &str,
    scope: &WranglerScope<'_>,
) {
    if let Some(decl) = undeclared_binding(storage, scope.bindings) {
        let who = ConstMsg::new().push(kind).push(" \"").push(name).push("\" (fn ").push(handler).push(")");
        panic!("{}", undeclared_msg(who, decl, file, scope).as_str());
    }
}

/// [`table_problem`] of `app`, as it checks itself when it first serves, and the shadowing
/// check again with the verifiers' types compared (see [`routes`]). `None` when sound.
pub(crate) fn app_problem(app: &App) -> Option<String> {
    table_problem(app.routes(), app.crons(), app.queues(), app.vars())
        .map(|m| m.as_str().to_owned())
        .or_else(|| routes::undeclared_shadow_by_type(app.routes()))
}

/// Whether `name` is one of `list`.
pub(crate) const fn contains(list: &[&str], s: &str) -> bool {
    crate::request::pattern::str_in(s, list)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::request::pattern::{Method, Seg};

    fn leak(s: String) -> &'static str {
        Box::leak(s.into_boxed_str())
    }

    /// A route from a pattern like `/a/:x/*` (what `#[route]` would describe).
    pub(super) fn route(method: Method, pattern: &str) -> RouteMeta {
        let segments: Vec<Seg> = pattern
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| match s {
                "*" => Seg::Rest,
                p if p.starts_with(':') => Seg::Param(leak(p[1..].to_owned())),
                l => Seg::Lit(leak(l.to_owned())),
            })
            .collect();
        RouteMeta {
            method,
            pattern: leak(pattern.to_owned()),
            segments: Box::leak(segments.into_boxed_slice()),
            handler: leak(format!("h{}", pattern.replace(['/', ':', '*'], "_"))),
            ..BLANK
        }
    }

    /// A `Public` route that declares nothing: what the tests' routes start from.
    pub(crate) const BLANK: RouteMeta = RouteMeta {
        method: Method::Get,
        pattern: "",
        segments: &[],
        identity: "Public",
        identity_as_written: "Public",
        shadows: &[],
        storage: &[],
        handler: "",
        grants: &[],
        identity_type: crate::__private::unnamed,
        secrets: &[],
        tokens: &[],
        verifier_vars: &[],
        vars: &[],
        verifier_outbound: &[],
        outbound: &[],
        security: crate::__private::undescribed,
        params: &[],
        verifier_reads_body: false,
        responses: &[],
    };

    pub(super) fn entries(metas: &[RouteMeta]) -> &'static [RouteEntry] {
        Box::leak(metas.iter().map(|m| RouteEntry::described(*m)).collect::<Vec<_>>().into_boxed_slice())
    }
}
