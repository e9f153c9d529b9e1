//! Platform events: cron triggers (`#[scheduled]`) and queue batches (`#[queue]`).
//!
//! Both run with `Claims<'_, System>`, made here and nowhere else, and open the storage their
//! attribute declares exactly as a route does. A handler's typed messages arrive in a
//! [`Batch`]; a message that does not decode is logged and retried (the platform then
//! dead-letters it after `max_retries`), never dropped.

use std::cell::Cell;
use std::marker::PhantomData;
use std::rc::Rc;

use serde::de::DeserializeOwned;
use worker::wasm_bindgen::JsValue;
use worker::MessageExt;

use crate::dispatch::handler_cx::HandlerCx;
use crate::error::Error;
use crate::identity::capability::{Grant, MayMint, Mint};
use crate::identity::{Claims, System, SystemClaims};
use crate::log::{now_ms, LogCx};
use crate::storage::open::open_declared;
use crate::storage::StorageDecl;
use crate::vars::Vars;

/// A boxed, non-`Send` future.
pub(crate) type LocalBoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + 'a>>;

/// Everything `#[scheduled]` knows about a cron handler.
#[derive(Debug, Clone, Copy)]
pub struct CronMeta {
    /// The cron expression, as in wrangler.toml's `[triggers] crons`.
    pub cron: &'static str,
    /// The declared storage.
    pub storage: &'static [StorageDecl],
    /// The handler function's name.
    pub handler: &'static str,
    /// The `Mint<'_, C>` parameters it takes.
    pub grants: &'static [Grant],
    /// The `[vars]` it reads through its `Vars` (`vars(…)`).
    pub vars: &'static [&'static str],
    /// The outbound HTTP it declares (`outbound(…)`).
    pub outbound: &'static [crate::outbound::OutboundDecl],
}

/// Everything `#[queue]` knows about a queue consumer.
#[derive(Debug, Clone, Copy)]
pub struct QueueMeta {
    /// The queue's name, as in wrangler.toml's `[[queues.consumers]] queue`.
    pub queue: &'static str,
    /// The declared storage.
    pub storage: &'static [StorageDecl],
    /// The handler function's name.
    pub handler: &'static str,
    /// The `Mint<'_, C>` parameters it takes.
    pub grants: &'static [Grant],
    /// The `[vars]` it reads through its `Vars` (`vars(…)`).
    pub vars: &'static [&'static str],
    /// The outbound HTTP it declares (`outbound(…)`).
    pub outbound: &'static [crate::outbound::OutboundDecl],
}

/// A cron handler, described by `#[scheduled]`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a cron handler",
    label = "not a `#[scheduled]` handler",
    note = "`app!{{ crons: [..] }}` lists functions that carry `#[scheduled(\"0 2 * * SUN\")]`"
)]
pub trait Scheduled: 'static {
    /// The handler's description.
    const META: CronMeta;
    /// Calls the handler.
    fn call<'r>(cx: EventCx<'r>) -> LocalBoxFuture<'r, Result<(), Error>>;
}

/// A queue consumer, described by `#[queue]`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a queue consumer",
    label = "not a `#[queue]` handler",
    note = "`app!{{ queues: [..] }}` lists functions that carry `#[queue(\"name\")]`"
)]
pub trait Consumer: 'static {
    /// The message type its `Batch<'_, T>` decodes (what `app!` checks producers against).
    type Msg;
    /// The handler's description.
    const META: QueueMeta;
    /// Calls the handler.
    fn call<'r>(cx: EventCx<'r>) -> LocalBoxFuture<'r, Result<(), Error>>;
}

/// Converts what an event handler returns into an outcome.
#[diagnostic::on_unimplemented(
    message = "a cron or queue handler must return `()` or `Result<(), E>` where `E: Into<layers_core::Error>`",
    label = "`{Self}` is not an event outcome"
)]
pub trait IntoOutcome {
    /// The conversion.
    ///
    /// # Errors
    /// The handler's own error.
    fn into_outcome(self) -> Result<(), Error>;
}

impl IntoOutcome for () {
    fn into_outcome(self) -> Result<(), Error> {
        Ok(())
    }
}

impl<E: Into<Error>> IntoOutcome for Result<(), E> {
    fn into_outcome(self) -> Result<(), Error> {
        self.map_err(Into::into)
    }
}

type Call = for<'r> fn(EventCx<'r>) -> LocalBoxFuture<'r, Result<(), Error>>;

/// One cron of the app.
#[derive(Clone, Copy)]
pub struct CronEntry {
    pub(crate) meta: CronMeta,
    call: Call,
}

impl std::fmt::Debug for CronEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.meta.fmt(f)
    }
}

impl CronEntry {
    /// An entry that describes `meta` and runs nothing (the checks' unit tests).
    #[cfg(test)]
    pub(crate) fn described(meta: CronMeta) -> CronEntry {
        CronEntry { meta, call: |_| Box::pin(async { Ok(()) }) }
    }

    /// The handler's description.
    #[must_use]
    pub fn meta(&self) -> &CronMeta {
        &self.meta
    }
}

/// One queue consumer of the app.
#[derive(Clone, Copy)]
pub struct QueueEntry {
    pub(crate) meta: QueueMeta,
    call: Call,
}

impl std::fmt::Debug for QueueEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.meta.fmt(f)
    }
}

impl QueueEntry {
    /// The handler's description.
    #[must_use]
    pub fn meta(&self) -> &QueueMeta {
        &self.meta
    }
}

/// The table entry for cron handler `H`.
#[must_use]
pub const fn cron_entry<H: Scheduled>() -> CronEntry {
    CronEntry { meta: H::META, call: H::call }
}

/// The table entry for queue consumer `H`.
#[must_use]
pub const fn queue_entry<H: Consumer>() -> QueueEntry {
    QueueEntry { meta: H::META, call: H::call }
}

fn taken(what: &str) -> Error {
    Error::internal(format!("event handler asked for {what} twice or undeclared"))
}

/// What an event handler's arguments are taken from; only this module makes one.
pub struct EventCx<'r> {
    /// The `System` claims and the handles the handler declared, opened with them.
    held: HandlerCx<'r, System>,
    vars: Vars<'r>,
    outbound: &'static [crate::outbound::OutboundDecl],
    batch: Option<&'r RawBatch>,
    log: Rc<LogCx>,
    /// Read only by [`EventCx::mint`] (its secret by name); never handed out.
    env: worker::Env,
}

impl std::fmt::Debug for EventCx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventCx").finish_non_exhaustive()
    }
}

impl<'r> std::ops::Deref for EventCx<'r> {
    type Target = HandlerCx<'r, System>;
    fn deref(&self) -> &HandlerCx<'r, System> {
        &self.held
    }
}

impl<'r> std::ops::DerefMut for EventCx<'r> {
    fn deref_mut(&mut self) -> &mut HandlerCx<'r, System> {
        &mut self.held
    }
}

impl<'r> EventCx<'r> {
    /// The token minter for config `C`: only where `C` opted in to minting from `System`
    /// (`C: MayMint<System>`).
    #[must_use]
    pub fn mint<C: MayMint<System>>(&self) -> Mint<'r, C> {
        Mint::new(self.env.clone())
    }
    /// The vars.
    #[must_use]
    pub fn vars(&self) -> Vars<'r> {
        self.vars.clone()
    }
    /// The outbound HTTP the attribute's `outbound(…)` declares.
    #[must_use]
    pub fn outbound(&self) -> crate::outbound::Outbound<'r> {
        crate::outbound::Outbound::new(self.env.clone(), self.outbound)
    }
    /// The batch, decoded into `T` (once). Messages that do not decode are logged and retried
    /// here, and not handed to the handler.
    ///
    /// # Errors
    /// When taken twice, or outside a queue event.
    pub fn batch<T: DeserializeOwned>(&mut self) -> Result<Batch<'r, T>, Error> {
        let raw = self.batch.ok_or_else(|| taken("the batch"))?;
        if raw.taken.replace(true) {
            return Err(taken("the batch"));
        }
        let mut messages = Vec::new();
        for (i, m) in raw.batch.raw_iter().enumerate() {
            match serde_wasm_bindgen::from_value::<T>(m.body()) {
                Ok(body) => messages.push(Message {
                    id: m.id(),
                    attempts: raw.attempts(i),
                    raw: m,
                    body,
                    settled: raw.settled.clone(),
                    index: i,
                    scope: PhantomData,
                }),
                Err(e) => {
                    // Never dropped: retried, and dead-lettered by the platform after
                    // `max_retries` when a `dead_letter_queue` is configured.
                    self.log.note(
                        "message_undecodable",
                        &[
                            ("message_id", m.id().into()),
                            ("attempts", raw.attempts(i).into()),
                            ("type", std::any::type_name::<T>().into()),
                            ("detail", redact_quoted(&e.to_string()).into()),
                            ("action", "retry".into()),
                        ],
                    );
                    raw.settle(i);
                    m.retry();
                }
            }
        }
        Ok(Batch { messages })
    }
}

/// A decode error without the values it quotes (they come from the message body, which may
/// hold personal data): `invalid type: string "…", expected struct Job`.
pub(crate) fn redact_quoted(detail: &str) -> String {
    let mut out = String::with_capacity(detail.len());
    let mut inside = false;
    for ch in detail.chars() {
        if ch == '"' {
            if inside {
                out.push('…');
            }
            inside = !inside;
            out.push(ch);
        } else if !inside {
            out.push(ch);
        }
    }
    out
}

/// The platform's batch, with which messages were acked or retried already.
struct RawBatch {
    batch: worker::MessageBatch<JsValue>,
    /// Each message's `attempts` (1 on first delivery; 0 when the runtime did not say), read
    /// from the JS message objects: workers-rs 0.8.7's `Message` has no accessor for it.
    attempts: Vec<u32>,
    settled: Rc<Settled>,
    taken: Cell<bool>,
}

#[derive(Default)]
struct Settled(std::cell::RefCell<Vec<bool>>);

impl RawBatch {
    fn new(raw: &worker::worker_sys::MessageBatch) -> RawBatch {
        let attempts = raw.messages().map(|a| a.iter().map(|m| attempts_of(&m)).collect()).unwrap_or_default();
        RawBatch {
            batch: worker::MessageBatch::from(raw.clone()),
            attempts,
            settled: Rc::default(),
            taken: Cell::new(false),
        }
    }
    fn settle(&self, i: usize) {
        self.settled.set(i);
    }
    fn attempts(&self, i: usize) -> u32 {
        self.attempts.get(i).copied().unwrap_or(0)
    }
    /// The highest delivery attempt in the batch (for the batch's request line).
    fn max_attempts(&self) -> u32 {
        self.attempts.iter().copied().max().unwrap_or(0)
    }
}

/// `message.attempts` of one JS queue message; 0 when absent or not a sane count.
fn attempts_of(message: &JsValue) -> u32 {
    let n = worker::js_sys::Reflect::get(message, &JsValue::from_str("attempts")).ok().and_then(|v| v.as_f64());
    attempts_from(n)
}

fn attempts_from(n: Option<f64>) -> u32 {
    match n {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // checked range
        Some(n) if n.is_finite() && n >= 0.0 && n <= f64::from(u32::MAX) => n as u32,
        _ => 0,
    }
}

impl std::fmt::Debug for RawBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawBatch").finish_non_exhaustive()
    }
}

impl Settled {
    fn set(&self, i: usize) {
        let mut v = self.0.borrow_mut();
        if v.len() <= i {
            v.resize(i + 1, false);
        }
        v[i] = true;
    }
    fn get(&self, i: usize) -> bool {
        self.0.borrow().get(i).copied().unwrap_or(false)
    }
}

/// The messages of one queue delivery, decoded into `T`.
///
/// Ack or retry each [`Message`]. When the handler returns `Ok`, messages it did not settle
/// are acknowledged by the platform; when it returns `Err`, they are retried.
pub struct Batch<'r, T> {
    messages: Vec<Message<'r, T>>,
}

impl<T> std::fmt::Debug for Batch<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch").field("len", &self.messages.len()).finish()
    }
}

impl<'r, T> Batch<'r, T> {
    /// The decoded messages (those that failed to decode were already retried).
    #[must_use]
    pub fn messages(&self) -> &[Message<'r, T>] {
        &self.messages
    }
    /// How many decoded messages there are.
    #[must_use]
    pub fn len(&self) -> usize {
        self.messages.len()
    }
    /// Whether no message decoded.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }
    /// Acknowledges every message.
    pub fn ack_all(&self) {
        self.messages.iter().for_each(Message::ack);
    }
    /// Retries every message.
    pub fn retry_all(&self) {
        self.messages.iter().for_each(Message::retry);
    }
}

impl<'r, T> IntoIterator for Batch<'r, T> {
    type Item = Message<'r, T>;
    type IntoIter = std::vec::IntoIter<Message<'r, T>>;
    fn into_iter(self) -> Self::IntoIter {
        self.messages.into_iter()
    }
}

impl<'a, 'r, T> IntoIterator for &'a Batch<'r, T> {
    type Item = &'a Message<'r, T>;
    type IntoIter = std::slice::Iter<'a, Message<'r, T>>;
    fn into_iter(self) -> Self::IntoIter {
        self.messages.iter()
    }
}

/// One decoded queue message.
pub struct Message<'r, T> {
    raw: worker::RawMessage,
    id: String,
    attempts: u32,
    body: T,
    settled: Rc<Settled>,
    index: usize,
    scope: PhantomData<fn(&'r ()) -> &'r ()>,
}

impl<T: std::fmt::Debug> std::fmt::Debug for Message<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Message")
            .field("id", &self.id)
            .field("attempts", &self.attempts)
            .field("body", &self.body)
            .finish()
    }
}

impl<T> Message<'_, T> {
    /// The platform's message id.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }
    /// Which delivery this is: 1 the first time, 2 on the first retry, … (the platform's
    /// `message.attempts`; 0 if the runtime did not report it). Also in the log lines.
    #[must_use]
    pub fn attempts(&self) -> u32 {
        self.attempts
    }
    /// The decoded body.
    #[must_use]
    pub fn body(&self) -> &T {
        &self.body
    }
    /// Acknowledges the message: it will not be delivered again.
    pub fn ack(&self) {
        self.settled.set(self.index);
        self.raw.ack();
    }
    /// Retries the message in a later batch (counting towards `max_retries`).
    pub fn retry(&self) {
        self.settled.set(self.index);
        self.raw.retry();
    }
    /// Retries the message after `delay_secs` seconds.
    pub fn retry_after(&self, delay_secs: u32) {
        self.settled.set(self.index);
        self.raw.retry_with_options(&worker::QueueRetryOptionsBuilder::new().with_delay_seconds(delay_secs).build());
    }
}

#[allow(clippy::too_many_arguments)] // one call site, each argument a distinct piece
async fn run_event<'r>(
    _scope: &'r (),
    log: Rc<LogCx>,
    env: worker::Env,
    storage: &'static [StorageDecl],
    vars: &'static [&'static str],
    outbound: &'static [crate::outbound::OutboundDecl],
    claims: SystemClaims,
    batch: Option<&'r RawBatch>,
    call: Call,
) -> bool {
    let t0 = now_ms();
    log.identity("System", Ok(()), 0);
    let claims: Claims<'r, System> = Claims::new(claims);
    let storage = match open_declared(&env, storage, &claims, &log) {
        Ok(h) => h,
        Err(e) => {
            log.error(500, e.detail().unwrap_or("storage unavailable"));
            log.request(500, now_ms().saturating_sub(t0), "storage_unavailable");
            return false;
        }
    };
    let cx = EventCx {
        held: HandlerCx::new(claims, storage),
        vars: Vars::new(env.clone(), vars),
        outbound,
        batch,
        log: log.clone(),
        env,
    };
    // A queue batch's request line says how many messages it had and its highest attempt.
    let extra: Vec<(&str, serde_json::Value)> = batch
        .map(|b| vec![("messages", b.attempts.len().into()), ("attempts", b.max_attempts().into())])
        .unwrap_or_default();
    match call(cx).await {
        Ok(()) => {
            log.request_with(200, now_ms().saturating_sub(t0), "handled", &extra);
            true
        }
        Err(e) => {
            log.error(e.status(), e.detail().unwrap_or(e.public_message()));
            log.request_with(500, now_ms().saturating_sub(t0), "handler_error", &extra);
            false
        }
    }
}

fn event_log(event: &'static str, route: &'static str) -> Rc<LogCx> {
    // Crons and queue batches are rare: they always log every line.
    Rc::new(LogCx::new(crate::log::Ray::known("-"), event.to_ascii_uppercase(), route, event, false))
}

/// Logs that an event was not run because the app failed its own check (see
/// `App::router`).
pub(crate) fn app_refused(event: &'static str, why: &str) {
    event_log(event, "-").error(500, why);
}

/// The Worker's `scheduled` entry: finds the handler of the event's cron and runs it with
/// `Claims<'_, System>`. A cron without a handler is logged.
pub(crate) async fn serve_scheduled(crons: &'static [CronEntry], event: worker::ScheduledEvent, env: worker::Env) {
    let cron = event.cron();
    let Some(entry) = crons.iter().find(|c| c.meta.cron == cron) else {
        event_log("scheduled", "-").note("no_handler", &[("cron", cron.into())]);
        return;
    };
    let log = event_log("scheduled", entry.meta.cron);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // ms since the epoch
    let time_ms = event.schedule() as u64;
    let claims = SystemClaims::new("scheduled", cron, time_ms);
    let scope = ();
    let m = &entry.meta;
    run_event(&scope, log, env, m.storage, m.vars, m.outbound, claims, None, entry.call).await;
}

/// The Worker's `queue` entry: finds the consumer of the batch's queue and runs it with
/// `Claims<'_, System>`. Messages are retried when no consumer exists or the consumer
/// fails without settling them; never dropped.
///
/// # Errors
/// Never: failures are logged and the messages retried (an `Err` would make the glue panic).
pub(crate) async fn serve_queue(
    queues: &'static [QueueEntry],
    raw: worker::worker_sys::MessageBatch,
    env: worker::Env,
) -> worker::Result<()> {
    let raw = RawBatch::new(&raw);
    let batch = &raw.batch;
    let name = batch.queue();
    let Some(entry) = queues.iter().find(|q| q.meta.queue == name) else {
        event_log("queue", "-").note("no_handler", &[("queue", name.into()), ("action", "retry_all".into())]);
        batch.retry_all();
        return Ok(());
    };
    let log = event_log("queue", entry.meta.queue);
    let claims = SystemClaims::new("queue", name, now_ms());
    let scope = ();
    let m = &entry.meta;
    let ok = run_event(&scope, log.clone(), env, m.storage, m.vars, m.outbound, claims, Some(&raw), entry.call).await;
    if !ok {
        let mut retried = 0_u32;
        for (i, m) in raw.batch.raw_iter().enumerate() {
            if !raw.settled.get(i) {
                m.retry();
                retried += 1;
            }
        }
        log.note("batch_retried", &[("messages", retried.into())]);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::redact_quoted;

    #[test]
    fn decode_errors_lose_their_quoted_values() {
        assert_eq!(
            redact_quoted("invalid type: string \"jane@example.com\", expected struct Job"),
            "invalid type: string \"…\", expected struct Job"
        );
        assert_eq!(redact_quoted("missing field `slug`"), "missing field `slug`");
        assert_eq!(redact_quoted("unterminated \"secret"), "unterminated \"");
    }

    #[test]
    fn attempts_are_sane_counts_or_zero() {
        use super::attempts_from;
        assert_eq!(attempts_from(Some(1.0)), 1);
        assert_eq!(attempts_from(Some(2.0)), 2);
        assert_eq!(attempts_from(None), 0);
        assert_eq!(attempts_from(Some(-1.0)), 0);
        assert_eq!(attempts_from(Some(f64::NAN)), 0);
        assert_eq!(attempts_from(Some(1e12)), 0);
    }
}
