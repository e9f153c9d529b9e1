//! The app `app!` builds: its route table, crons, queues and `[vars]` names, checked at
//! compile time and again, with the router, when it first serves.

use std::sync::OnceLock;

use super::route::RouteEntry;
use crate::events::{CronEntry, QueueEntry};
use crate::request::router::Router;

/// The app: its routes, crons, queue consumers and the `[vars]` names handlers may read.
/// Built by `app!`, which checks it at compile time; when it first serves, it checks itself
/// again (segments, conflicting routes, `[vars]` that name secrets: see
/// [`check_app`](crate::check::check_app)) and, should that fail — an app built by hand —
/// answers every request with 500 and runs no cron or queue handler.
#[derive(Debug)]
pub struct App {
    routes: &'static [RouteEntry],
    crons: &'static [CronEntry],
    queues: &'static [QueueEntry],
    durables: &'static [crate::durable_object::DurableMeta],
    vars: &'static [&'static str],
    router: OnceLock<Result<Router, String>>,
}

impl App {
    /// A new app, held to what `app!` checks without wrangler.toml: every route's segments
    /// are what `#[route]` makes, no two routes can match one request, and no `[vars]` name is a
    /// secret the app uses (a verifier's `SECRETS`, a grant's secret).
    ///
    /// # Panics
    /// When one of those fails — at compile time, for the `static` `app!` writes (or one
    /// written by hand).
    #[must_use]
    pub const fn new(
        routes: &'static [RouteEntry],
        crons: &'static [CronEntry],
        queues: &'static [QueueEntry],
        durables: &'static [crate::durable_object::DurableMeta],
        vars: &'static [&'static str],
    ) -> App {
        if let Some(m) = crate::check::table_problem(routes, crons, queues, vars) {
            panic!("{}", m.as_str());
        }
        App { routes, crons, queues, durables, vars, router: OnceLock::new() }
    }

    /// The Durable Object classes written with layers (`app! { durable_objects: [..] }`).
    #[must_use]
    pub fn durables(&self) -> &'static [crate::durable_object::DurableMeta] {
        self.durables
    }

    /// The cron handlers.
    #[must_use]
    pub fn crons(&self) -> &'static [CronEntry] {
        self.crons
    }

    /// The queue consumers.
    #[must_use]
    pub fn queues(&self) -> &'static [QueueEntry] {
        self.queues
    }

    /// The `[vars]` names handlers may read.
    #[must_use]
    pub fn vars(&self) -> &'static [&'static str] {
        self.vars
    }

    /// The Worker's `scheduled` entry (see [`serve_scheduled`](crate::events::serve_scheduled)).
    pub async fn scheduled(&'static self, event: worker::worker_sys::ScheduledEvent, env: worker::Env) {
        match self.router() {
            Ok(_) => crate::events::serve_scheduled(self.crons, worker::ScheduledEvent::from(event), env).await,
            Err(why) => crate::events::app_refused("scheduled", why),
        }
    }

    /// The Worker's `queue` entry (see [`serve_queue`](crate::events::serve_queue)). Takes the
    /// platform's JS batch as is, so each message's `attempts` can be read.
    ///
    /// # Errors
    /// Never.
    pub async fn queue(&'static self, batch: worker::worker_sys::MessageBatch, env: worker::Env) -> worker::Result<()> {
        match self.router() {
            Ok(_) => crate::events::serve_queue(self.queues, batch, env).await,
            Err(why) => {
                crate::events::app_refused("queue", why);
                worker::MessageBatch::<()>::from(batch).retry_all();
                Ok(())
            }
        }
    }

    /// The routes, in declaration order.
    #[must_use]
    pub fn routes(&self) -> &'static [RouteEntry] {
        self.routes
    }

    /// The router, made (once) after the app passed the checks `app!` runs: a table built by
    /// hand that `app!` would refuse gets an `Err`, and nothing is served.
    pub(crate) fn router(&self) -> &Result<Router, String> {
        self.router.get_or_init(|| {
            if let Some(why) = crate::check::app_problem(self) {
                return Err(format!("the app fails the checks app! runs, so it serves nothing: {why}"));
            }
            Router::new(self.routes.iter().map(|r| (r.meta.method, r.meta.segments))).map_err(|e| e.to_string())
        })
    }
}
