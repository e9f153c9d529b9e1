//! The checks `app!` runs on platform events and Durable Objects against wrangler's config, at
//! the top level and in every environment the app is deployed to: the crons and queue consumers
//! handled in code are exactly the configured ones, each with one handler, and every binding
//! they and the Durable Object classes open is declared.

use super::{check_storage, check_vars, contains, section, WranglerConfig, WranglerScope};
use crate::durable_object::DurableMeta;
use crate::events::{CronMeta, QueueMeta};
use crate::request::pattern::ConstMsg;

/// `m` + "wrangler.toml's " + a section's name in `scope`.
const fn in_config(
    m: ConstMsg,
    file: &str,
    scope: &WranglerScope<'_>,
    open: &str,
    path: &str,
    close: &str,
) -> ConstMsg {
    section(m.push(file).push("'s "), scope, open, path, close)
}

/// The compile-time check `app!` runs on platform events, in each deployment of `wrangler`: the
/// crons handled in code are exactly its `[triggers] crons` (an environment without `triggers`
/// inherits the top level's), the queues consumed are exactly its `[[queues.consumers]]`, each
/// has one handler, and every storage binding they open is declared there.
///
/// # Panics
/// At compile time, with a message naming the cron, queue or binding at fault.
pub const fn check_events(crons: &[CronMeta], queues: &[QueueMeta], wrangler: &WranglerConfig<'_>) {
    let mut s = 0;
    while s < wrangler.scopes.len() {
        let scope = &wrangler.scopes[s];
        check_crons(crons, wrangler.file, scope);
        check_queues(queues, wrangler.file, scope);
        s += 1;
    }
}

const fn check_crons(crons: &[CronMeta], file: &str, scope: &WranglerScope<'_>) {
    let mut i = 0;
    while i < crons.len() {
        let c = &crons[i];
        if !contains(scope.crons, c.cron) {
            let m = ConstMsg::new()
                .push("cron handler `")
                .push(c.handler)
                .push("` runs on \"")
                .push(c.cron)
                .push("\", which ");
            let m = in_config(m, file, scope, "`[", "triggers", "] crons`")
                .push(" does not list, so the platform would never fire it: add \"")
                .push(c.cron)
                .push("\" to `crons = [..]` there (written exactly the same), or change the handler's cron.");
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
        check_storage("cron", c.cron, c.handler, c.storage, file, scope);
        check_vars("cron", c.cron, c.handler, c.vars, c.outbound, file, scope);
        i += 1;
    }
    let mut i = 0;
    while i < scope.crons.len() {
        let mut found = false;
        let mut j = 0;
        while j < crons.len() {
            if contains(&[crons[j].cron], scope.crons[i]) {
                found = true;
            }
            j += 1;
        }
        if !found {
            let m = in_config(ConstMsg::new(), file, scope, "`[", "triggers", "] crons`")
                .push(" lists \"")
                .push(scope.crons[i])
                .push("\", but no handler in `app! { crons: [..] }` runs on it, so its events would only be logged: add `#[scheduled(\"")
                .push(scope.crons[i])
                .push("\")] async fn …` to `crons: [..]`, or remove the trigger.");
            panic!("{}", m.as_str());
        }
        i += 1;
    }
}

const fn check_queues(queues: &[QueueMeta], file: &str, scope: &WranglerScope<'_>) {
    let mut i = 0;
    while i < queues.len() {
        let q = &queues[i];
        if !contains(scope.consumers, q.queue) {
            let m = ConstMsg::new()
                .push("queue handler `")
                .push(q.handler)
                .push("` consumes \"")
                .push(q.queue)
                .push("\", which ");
            let m = in_config(m, file, scope, "`[[", "queues.consumers", "]]`")
                .push(" does not list: add one with `queue = \"")
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
        check_storage("queue", q.queue, q.handler, q.storage, file, scope);
        check_vars("queue", q.queue, q.handler, q.vars, q.outbound, file, scope);
        i += 1;
    }
    let mut i = 0;
    while i < scope.consumers.len() {
        let mut found = false;
        let mut j = 0;
        while j < queues.len() {
            if contains(&[queues[j].queue], scope.consumers[i]) {
                found = true;
            }
            j += 1;
        }
        if !found {
            let m = in_config(ConstMsg::new(), file, scope, "`[[", "queues.consumers", "]]`")
                .push(" consume queue \"")
                .push(scope.consumers[i])
                .push("\", but no handler in `app! { queues: [..] }` does: add `#[queue(\"")
                .push(scope.consumers[i])
                .push("\")] async fn …` to `queues: [..]`, or remove the consumer.");
            panic!("{}", m.as_str());
        }
        i += 1;
    }
}

/// The compile-time check `app!` runs on Durable Object classes, in each deployment of
/// `wrangler`: the classes listed in `app! { durable_objects: [..] }` are exactly the
/// `class_name`s it binds for this Worker (`[[durable_objects.bindings]]` without
/// `script_name`), each listed once, and every storage binding a class opens is declared there.
///
/// # Panics
/// At compile time, naming the class or binding at fault.
pub const fn check_durable(classes: &[DurableMeta], wrangler: &WranglerConfig<'_>) {
    let mut i = 0;
    while i < classes.len() {
        let mut j = 0;
        while j < i {
            if crate::request::pattern::str_eq(classes[j].class, classes[i].class) {
                let m = ConstMsg::new()
                    .push("Durable Object class `")
                    .push(classes[i].class)
                    .push("` is listed twice in `app! { durable_objects: [..] }`: list it once.");
                panic!("{}", m.as_str());
            }
            j += 1;
        }
        i += 1;
    }
    let mut s = 0;
    while s < wrangler.scopes.len() {
        check_classes(classes, wrangler.file, &wrangler.scopes[s]);
        s += 1;
    }
}

const fn check_classes(classes: &[DurableMeta], file: &str, scope: &WranglerScope<'_>) {
    let mut i = 0;
    while i < classes.len() {
        let c = &classes[i];
        if !contains(scope.classes, c.class) {
            let m = ConstMsg::new().push("Durable Object class `").push(c.class).push("` is listed in `app!`, but no ");
            let m = in_config(m, file, scope, "`[[", "durable_objects.bindings", "]]`")
                .push(" binds it (`class_name = \"")
                .push(c.class)
                .push("\"`), so nothing could call it: add the binding (and a `[[migrations]]` entry for the class), or remove it from `durable_objects: [..]`.");
            panic!("{}", m.as_str());
        }
        check_storage("Durable Object class", c.class, c.handler, c.storage, file, scope);
        i += 1;
    }
    let mut i = 0;
    while i < scope.classes.len() {
        let mut found = false;
        let mut j = 0;
        while j < classes.len() {
            if crate::request::pattern::str_eq(classes[j].class, scope.classes[i]) {
                found = true;
            }
            j += 1;
        }
        if !found {
            let m = in_config(ConstMsg::new(), file, scope, "`[[", "durable_objects.bindings", "]]`")
                .push(" bind Durable Object class `")
                .push(scope.classes[i])
                .push("` of this Worker, but `app! { durable_objects: [..] }` does not list it: write it with layers (`#[durable_object] impl ")
                .push(scope.classes[i])
                .push(" { … }`) and list it, so its storage is gated like a route's.");
            panic!("{}", m.as_str());
        }
        i += 1;
    }
}
