//! The checks `app!` runs on platform events and Durable Objects against wrangler's config:
//! the crons and queue consumers handled in code are exactly the configured ones, each with one
//! handler, and every binding they and the Durable Object classes open is declared.

use super::{check_storage, contains, Bindings};
use crate::durable_object::DurableMeta;
use crate::events::{CronMeta, QueueMeta};
use crate::request::pattern::ConstMsg;

/// The compile-time check `app!` runs on platform events: the crons handled in code are
/// exactly wrangler.toml's `[triggers] crons`, the queues consumed are exactly its
/// `[[queues.consumers]]`, each has one handler, and every storage binding they open is
/// declared (`bindings`: per kind, as for [`check_app`](super::check_app)).
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

/// The compile-time check `app!` runs on Durable Object classes: the classes listed in
/// `app! { durable_objects: [..] }` are exactly the `class_name`s wrangler.toml binds for this
/// Worker (`[[durable_objects.bindings]]` without `script_name`), each listed once, and every
/// storage binding a class opens is declared (`bindings` as for [`check_app`](super::check_app)).
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
