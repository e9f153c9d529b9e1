//! The whole-app checks. `#[route]`, `#[scheduled]`, `#[queue]` and `app!` run them at compile
//! time (each a `const fn` whose panic is the compile error), and [`App`] runs the ones that do
//! not need wrangler.toml again when it first serves ([`app_problem`]): a route table built by
//! hand through `__private` is held to what `app!` checks, or the Worker answers nothing but
//! 500s.

use crate::__private::{App, RouteEntry, RouteMeta};
use crate::durable_object::DurableMeta;
use crate::events::{CronEntry, CronMeta, QueueEntry, QueueMeta};
use crate::identity::capability::{Grant, GrantKind};
use crate::identity::Verifier;
use crate::request::pattern::ConstMsg;
use crate::storage::{StorageDecl, StorageKind};

mod routes;

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

/// The compile-time check `app!` runs against wrangler.toml: every storage binding a route
/// opens is declared there (`bindings`: per kind, as [`layers_spec::storage::KINDS`] says each
/// kind is declared). What does not need wrangler.toml — segments, conflicting routes, `[vars]`
/// that name secrets — [`App::new`] checks itself ([`table_problem`]), so a table built by
/// hand is held to it too.
///
/// # Panics
/// At compile time, with a message naming the route and binding at fault.
pub const fn check_app(routes: &[RouteMeta], bindings: Bindings<'_>) {
    let mut i = 0;
    while i < routes.len() {
        let a = &routes[i];
        if let Some(decl) = undeclared_binding(a.storage, bindings) {
            let who = ConstMsg::new()
                .push("route `")
                .push(a.method.as_str())
                .push(" ")
                .push(a.pattern)
                .push("` (fn ")
                .push(a.handler)
                .push(")");
            panic!("{}", undeclared_msg(who, decl).as_str());
        }
        i += 1;
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

/// "`who` uses KIND binding "NAME", which wrangler.toml does not declare…"
const fn undeclared_msg(who: ConstMsg, decl: StorageDecl) -> ConstMsg {
    who.push(" uses ")
        .push(decl.kind.as_str())
        .push(" binding \"")
        .push(decl.binding)
        .push("\", which wrangler.toml does not declare: add it to wrangler.toml or name a declared binding with `storage(")
        .push(decl.kind.as_str())
        .push(" = \"NAME\")`.")
        .push(decl.kind.spec().declare_hint)
}

/// What `app!` would refuse in a route table, crons, queues and `[vars]` names, without
/// wrangler.toml: a segment no `#[route]` pattern makes, two equally specific routes that can
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

/// How many token configuration keys [`token_clash`] compares (more are not looked at).
const MAX_TOKEN_KEYS: usize = 256;

/// Two different signed-token configurations the app verifies or mints that share a secret and
/// a purpose: a token made for one would pass for the other.
const fn token_clash(routes: &[RouteEntry], crons: &[CronEntry], queues: &[QueueEntry]) -> Option<ConstMsg> {
    let mut keys = [""; MAX_TOKEN_KEYS];
    let mut n = 0;
    let mut i = 0;
    while i < routes.len() {
        let m = &routes[i].meta;
        let mut k = 0;
        while k < m.tokens.len() && n < MAX_TOKEN_KEYS {
            keys[n] = m.tokens[k];
            n += 1;
            k += 1;
        }
        n = grant_keys(m.grants, &mut keys, n);
        i += 1;
    }
    let mut i = 0;
    while i < crons.len() {
        n = grant_keys(crons[i].meta.grants, &mut keys, n);
        i += 1;
    }
    let mut i = 0;
    while i < queues.len() {
        n = grant_keys(queues[i].meta.grants, &mut keys, n);
        i += 1;
    }
    let mut a = 0;
    while a < n {
        let mut b = a + 1;
        while b < n {
            let (ka, kb) = (keys[a], keys[b]);
            if !crate::request::pattern::str_eq(ka, kb)
                && crate::request::pattern::str_eq(key_field(ka, 0), key_field(kb, 0))
                && crate::request::pattern::str_eq(key_field(ka, 1), key_field(kb, 1))
            {
                return Some(
                    ConstMsg::new()
                        .push("two signed-token configurations, `")
                        .push(key_field(ka, 2))
                        .push("` and `")
                        .push(key_field(kb, 2))
                        .push("`, share secret `")
                        .push(key_field(ka, 0))
                        .push("` and purpose `")
                        .push(key_field(ka, 1))
                        .push("`: a token made for one would pass for the other. Give each configuration a purpose of its own (`TokenConfig::PURPOSE`), or a secret of its own."),
                );
            }
            b += 1;
        }
        a += 1;
    }
    None
}

const fn grant_keys(grants: &[Grant], keys: &mut [&'static str; MAX_TOKEN_KEYS], mut n: usize) -> usize {
    let mut g = 0;
    while g < grants.len() && n < MAX_TOKEN_KEYS {
        if !grants[g].token.is_empty() {
            keys[n] = grants[g].token;
            n += 1;
        }
        g += 1;
    }
    n
}

/// Field `i` of a token configuration key (`secret \0 purpose \0 name \0 source`).
const fn key_field(key: &str, i: usize) -> &str {
    let b = key.as_bytes();
    let (mut start, mut field, mut at) = (0, 0, 0);
    while at <= b.len() {
        if at == b.len() || b[at] == 0 {
            if field == i {
                let (head, _) = b.split_at(at);
                let (_, f) = head.split_at(start);
                return match std::str::from_utf8(f) {
                    Ok(s) => s,
                    Err(_) => "",
                };
            }
            field += 1;
            start = at + 1;
        }
        at += 1;
    }
    ""
}

const fn check_storage(kind: &str, name: &str, handler: &str, storage: &[StorageDecl], bindings: Bindings<'_>) {
    if let Some(decl) = undeclared_binding(storage, bindings) {
        let who = ConstMsg::new().push(kind).push(" \"").push(name).push("\" (fn ").push(handler).push(")");
        panic!("{}", undeclared_msg(who, decl).as_str());
    }
}

/// The compile-time check `app!` runs on platform events: the crons handled in code are
/// exactly wrangler.toml's `[triggers] crons`, the queues consumed are exactly its
/// `[[queues.consumers]]`, each has one handler, and every storage binding they open is
/// declared (`bindings`: per kind, as for [`check_app`]).
///
/// # Panics
/// At compile time, with a message naming the cron, queue or binding at fault.
pub const fn check_events(
    crons: &[CronMeta],
    queues: &[QueueMeta],
    wrangler_crons: &[&str],
    wrangler_consumers: &[&str],
    bindings: Bindings<'_>,
) {
    let mut i = 0;
    while i < crons.len() {
        let c = &crons[i];
        if !contains(wrangler_crons, c.cron) {
            let m = ConstMsg::new()
                .push("cron handler `")
                .push(c.handler)
                .push("` runs on \"")
                .push(c.cron)
                .push("\", which wrangler.toml's `[triggers] crons` does not list, so the platform would never fire it: add \"")
                .push(c.cron)
                .push("\" to `crons = [..]` under `[triggers]` (written exactly the same), or change the handler's cron.");
            panic!("{}", m.as_str());
        }
        let mut j = 0;
        while j < i {
            if contains(&[crons[j].cron], c.cron) {
                let m = ConstMsg::new()
                    .push("cron \"")
                    .push(c.cron)
                    .push("\" has two handlers, `")
                    .push(crons[j].handler)
                    .push("` and `")
                    .push(c.handler)
                    .push("`: the platform fires one event per cron, so keep one handler and call the other's work from it.");
                panic!("{}", m.as_str());
            }
            j += 1;
        }
        check_storage("cron", c.cron, c.handler, c.storage, bindings);
        i += 1;
    }
    let mut i = 0;
    while i < wrangler_crons.len() {
        let mut found = false;
        let mut j = 0;
        while j < crons.len() {
            if contains(&[crons[j].cron], wrangler_crons[i]) {
                found = true;
            }
            j += 1;
        }
        if !found {
            let m = ConstMsg::new()
                .push("wrangler.toml's `[triggers] crons` lists \"")
                .push(wrangler_crons[i])
                .push("\", but no handler in `app! { crons: [..] }` runs on it, so its events would only be logged: add `#[scheduled(\"")
                .push(wrangler_crons[i])
                .push("\")] async fn …` to `crons: [..]`, or remove the trigger.");
            panic!("{}", m.as_str());
        }
        i += 1;
    }
    let mut i = 0;
    while i < queues.len() {
        let q = &queues[i];
        if !contains(wrangler_consumers, q.queue) {
            let m = ConstMsg::new()
                .push("queue handler `")
                .push(q.handler)
                .push("` consumes \"")
                .push(q.queue)
                .push("\", which wrangler.toml does not consume: add `[[queues.consumers]]` with `queue = \"")
                .push(q.queue)
                .push("\"` (and `max_retries`, `dead_letter_queue`), or change the handler's queue.");
            panic!("{}", m.as_str());
        }
        let mut j = 0;
        while j < i {
            if contains(&[queues[j].queue], q.queue) {
                let m = ConstMsg::new()
                    .push("queue \"")
                    .push(q.queue)
                    .push("\" has two consumers, `")
                    .push(queues[j].handler)
                    .push("` and `")
                    .push(q.handler)
                    .push("`: keep one.");
                panic!("{}", m.as_str());
            }
            j += 1;
        }
        check_storage("queue", q.queue, q.handler, q.storage, bindings);
        i += 1;
    }
    let mut i = 0;
    while i < wrangler_consumers.len() {
        let mut found = false;
        let mut j = 0;
        while j < queues.len() {
            if contains(&[queues[j].queue], wrangler_consumers[i]) {
                found = true;
            }
            j += 1;
        }
        if !found {
            let m = ConstMsg::new()
                .push("wrangler.toml consumes queue \"")
                .push(wrangler_consumers[i])
                .push("\" (`[[queues.consumers]]`), but no handler in `app! { queues: [..] }` does: add `#[queue(\"")
                .push(wrangler_consumers[i])
                .push("\")] async fn …` to `queues: [..]`, or remove the consumer.");
            panic!("{}", m.as_str());
        }
        i += 1;
    }
}

/// Why one of `vars` is a secret the app uses, if one is: a verifier's
/// ([`Verifier::SECRETS`]) or a grant's (the signing secret of a `Mint<'_, C>`, the key of a
/// `Federation<'_, C>`). Under `[vars]` its value would sit in the repository, and every
/// handler could read it through `Vars`.
const fn secret_in_vars(
    routes: &[RouteEntry],
    crons: &[CronEntry],
    queues: &[QueueEntry],
    vars: &[&str],
) -> Option<ConstMsg> {
    let mut i = 0;
    while i < routes.len() {
        let r = &routes[i].meta;
        let mut k = 0;
        while k < r.secrets.len() {
            if contains(vars, r.secrets[k]) {
                let who = ConstMsg::new()
                    .push("the identity of route `")
                    .push(r.method.as_str())
                    .push(" ")
                    .push(r.pattern)
                    .push("` (fn ")
                    .push(r.handler)
                    .push(")");
                return Some(secret_msg(r.secrets[k], who));
            }
            k += 1;
        }
        if let Some(m) = grant_secret_in_vars(r.grants, r.handler, vars) {
            return Some(m);
        }
        i += 1;
    }
    let mut i = 0;
    while i < crons.len() {
        if let Some(m) = grant_secret_in_vars(crons[i].meta.grants, crons[i].meta.handler, vars) {
            return Some(m);
        }
        i += 1;
    }
    let mut i = 0;
    while i < queues.len() {
        if let Some(m) = grant_secret_in_vars(queues[i].meta.grants, queues[i].meta.handler, vars) {
            return Some(m);
        }
        i += 1;
    }
    None
}

const fn grant_secret_in_vars(grants: &[Grant], handler: &str, vars: &[&str]) -> Option<ConstMsg> {
    let mut g = 0;
    while g < grants.len() {
        if contains(vars, grants[g].secret) {
            let what = match grants[g].kind {
                GrantKind::Mint => "the `Mint` of handler `",
                GrantKind::Federation => "the `Federation` of handler `",
            };
            return Some(secret_msg(grants[g].secret, ConstMsg::new().push(what).push(handler).push("`")));
        }
        g += 1;
    }
    None
}

const fn secret_msg(name: &str, who: ConstMsg) -> ConstMsg {
    ConstMsg::new()
        .push("`")
        .push(name)
        .push("` is a secret (")
        .push(who.as_str())
        .push(" reads it), but wrangler.toml lists it under `[vars]`, where its value sits in the repository and every handler can read it through `Vars`. Remove it from `[vars]` and set it with `wrangler secret put ")
        .push(name)
        .push("` (locally: in .dev.vars).")
}

/// The compile-time check `app!` runs on Durable Object classes: the classes listed in
/// `app! { durable_objects: [..] }` are exactly the `class_name`s wrangler.toml binds for this
/// Worker (`[[durable_objects.bindings]]` without `script_name`), each listed once, and every
/// storage binding a class opens is declared (`bindings` as for [`check_app`]).
///
/// # Panics
/// At compile time, naming the class or binding at fault.
pub const fn check_durable(classes: &[DurableMeta], wrangler_classes: &[&str], bindings: Bindings<'_>) {
    let mut i = 0;
    while i < classes.len() {
        let c = &classes[i];
        if !contains(wrangler_classes, c.class) {
            let m = ConstMsg::new()
                .push("Durable Object class `")
                .push(c.class)
                .push("` is listed in `app!`, but no `[[durable_objects.bindings]]` of wrangler.toml binds it (`class_name = \"")
                .push(c.class)
                .push("\"`), so nothing could call it: add the binding (and a `[[migrations]]` entry for the class), or remove it from `durable_objects: [..]`.");
            panic!("{}", m.as_str());
        }
        let mut j = 0;
        while j < i {
            if crate::request::pattern::str_eq(classes[j].class, c.class) {
                let m = ConstMsg::new()
                    .push("Durable Object class `")
                    .push(c.class)
                    .push("` is listed twice in `app! { durable_objects: [..] }`: list it once.");
                panic!("{}", m.as_str());
            }
            j += 1;
        }
        check_storage("Durable Object class", c.class, c.handler, c.storage, bindings);
        i += 1;
    }
    let mut i = 0;
    while i < wrangler_classes.len() {
        let mut found = false;
        let mut j = 0;
        while j < classes.len() {
            if crate::request::pattern::str_eq(classes[j].class, wrangler_classes[i]) {
                found = true;
            }
            j += 1;
        }
        if !found {
            let m = ConstMsg::new()
                .push("wrangler.toml binds Durable Object class `")
                .push(wrangler_classes[i])
                .push("` of this Worker, but `app! { durable_objects: [..] }` does not list it: write it with layers (`#[durable_object] impl ")
                .push(wrangler_classes[i])
                .push(" { … }`) and list it, so its storage is gated like a route's.");
            panic!("{}", m.as_str());
        }
        i += 1;
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
pub(super) mod tests {
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
            identity: "Public",
            identity_as_written: "Public",
            shadows: &[],
            storage: &[],
            handler: leak(format!("h{}", pattern.replace(['/', ':', '*'], "_"))),
            grants: &[],
            identity_type: crate::__private::unnamed,
            secrets: &[],
            tokens: &[],
        }
    }

    #[test]
    fn token_configurations_sharing_a_secret_and_a_purpose_clash() {
        let mut a = route(Method::Get, "/a/:token");
        a.tokens = &["SIGNING_KEY\0confirm\0Confirm\0param:token"];
        let mut b = route(Method::Get, "/b/:token");
        b.tokens = &["SIGNING_KEY\0confirm\0Reset\0param:token"];
        let m = table_problem(entries(&[a, b]), &[], &[], &[]).expect("a clash");
        assert!(
            m.as_str().contains("`Confirm` and `Reset`") && m.as_str().contains("purpose `confirm`"),
            "{}",
            m.as_str()
        );
        // The same configuration twice, another purpose, or another secret: no clash.
        for other in [
            "SIGNING_KEY\0confirm\0Confirm\0param:token",
            "SIGNING_KEY\0reset\0Reset\0param:token",
            "OTHER_KEY\0confirm\0Reset\0param:token",
        ] {
            b.tokens = Box::leak(Box::new([other]));
            assert!(table_problem(entries(&[a, b]), &[], &[], &[]).is_none(), "{other}");
        }
        // A minted configuration counts too.
        let grant = Grant {
            kind: GrantKind::Mint,
            config: || "app::Reset",
            secret: "SIGNING_KEY",
            layers_default: false,
            token: "SIGNING_KEY\0confirm\0Reset\0query:t",
        };
        let cron = crate::events::CronEntry::described(CronMeta {
            cron: "0 2 * * SUN",
            storage: &[],
            handler: "digest",
            grants: Box::leak(Box::new([grant])),
        });
        assert!(table_problem(entries(&[a]), &[cron], &[], &[]).is_some());
        assert_eq!(key_field("s\0p\0n\0src", 2), "n");
        assert_eq!(key_field("s\0p\0n\0src", 3), "src");
    }

    pub(super) fn entries(metas: &[RouteMeta]) -> &'static [RouteEntry] {
        Box::leak(metas.iter().map(|m| RouteEntry::described(*m)).collect::<Vec<_>>().into_boxed_slice())
    }

    #[test]
    fn vars_never_name_a_secret_of_the_app() {
        let mut keyed = route(Method::Get, "/api/x");
        keyed.secrets = &["API_KEYS"];
        let routes = entries(&[keyed]);
        assert!(table_problem(routes, &[], &[], &["SITE_NAME"]).is_none());
        let m = table_problem(routes, &[], &[], &["SITE_NAME", "API_KEYS"]).expect("a secret under [vars]");
        assert!(m.as_str().contains("`API_KEYS` is a secret") && m.as_str().contains("wrangler secret put API_KEYS"));
        // A grant's secret counts too, for routes and for event handlers.
        let grant = Grant {
            kind: GrantKind::Mint,
            config: || "app::Confirm",
            secret: "SIGNING_KEY",
            layers_default: false,
            token: "",
        };
        let mut minting = route(Method::Post, "/api/subscribe");
        minting.grants = Box::leak(Box::new([grant]));
        assert!(table_problem(entries(&[minting]), &[], &[], &["SIGNING_KEY"]).is_some());
        let cron = crate::events::CronEntry::described(CronMeta {
            cron: "0 2 * * SUN",
            storage: &[],
            handler: "digest",
            grants: Box::leak(Box::new([grant])),
        });
        let m = table_problem(&[], &[cron], &[], &["SIGNING_KEY"]).expect("a cron's grant");
        assert!(m.as_str().contains("handler `digest`"), "{}", m.as_str());
    }
}
