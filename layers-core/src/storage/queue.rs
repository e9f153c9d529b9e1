//! Queue producer: typed `send` / `send_batch` to a Cloudflare Queue.

use std::marker::PhantomData;
use std::rc::Rc;

use serde::Serialize;

use crate::error::Error;
use crate::log::{now_ms, LogCx};

/// Most messages one `send_batch` call may carry (the platform's limit).
pub const MAX_BATCH: usize = 100;

/// A producer for the queue bound as the route's `storage(Queue = "BINDING")`, sending
/// messages of type `T`. Valid for the current request (or event), like every handle.
///
/// ```ignore
/// #[route(POST "/api/reindex", identity = ApiKey, storage(Queue = "REINDEX"))]
/// async fn reindex(_: Claims<'_, ApiKey>, q: Queue<'_, ReindexJob>) -> Result<Response> {
///     q.send(&ReindexJob { slug: "hello".into() }).await?;
///     Ok(Response::empty()?.with_status(202))
/// }
/// ```
///
/// Messages are sent as structured JS values (`serde_wasm_bindgen`), so the consumer's
/// `Batch<'_, T>` deserializes the same struct. Send a named struct rather than
/// `serde_json::Value`: maps do not survive the trip.
pub struct Queue<'r, T> {
    queue: Rc<worker::Queue>,
    binding: &'static str,
    log: Rc<LogCx>,
    scope: PhantomData<Scope<'r, T>>,
}

/// Invariant in the request's scope `'r`; `fn(T)` so the handle is `Send`/`Sync`-neutral in `T`.
type Scope<'r, T> = (fn(&'r ()) -> &'r (), fn(T));

impl<T> Clone for Queue<'_, T> {
    fn clone(&self) -> Self {
        Queue { queue: self.queue.clone(), binding: self.binding, log: self.log.clone(), scope: PhantomData }
    }
}

impl<T> std::fmt::Debug for Queue<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue").field("binding", &self.binding).finish_non_exhaustive()
    }
}

/// The untyped binding, opened with the claims; typed when the handler takes it.
#[derive(Clone)]
pub(crate) struct QueueBinding<'r> {
    queue: Rc<worker::Queue>,
    binding: &'static str,
    log: Rc<LogCx>,
    scope: PhantomData<fn(&'r ()) -> &'r ()>,
}

impl<'r> QueueBinding<'r> {
    /// Opens the binding — only with the claims in hand.
    pub(crate) fn open<V: crate::identity::Verifier>(
        env: &worker::Env,
        binding: &'static str,
        _proof: &crate::identity::Claims<'r, V>,
        log: Rc<LogCx>,
    ) -> Result<QueueBinding<'r>, Error> {
        let queue = env.queue(binding).map_err(|e| Error::internal(format!("Queue binding {binding}: {e}")))?;
        Ok(QueueBinding { queue: Rc::new(queue), binding, log, scope: PhantomData })
    }

    pub(crate) fn typed<T>(self) -> Queue<'r, T> {
        Queue { queue: self.queue, binding: self.binding, log: self.log, scope: PhantomData }
    }
}

impl<T: Serialize> Queue<'_, T> {
    /// The binding name this handle was opened from.
    #[must_use]
    pub fn binding(&self) -> &'static str {
        self.binding
    }

    fn done(&self, op: &str, t0: u64, res: worker::Result<()>) -> Result<(), Error> {
        let err = res.as_ref().err().map(ToString::to_string);
        self.log.storage("Queue", self.binding, op, now_ms().saturating_sub(t0), err.as_deref());
        res.map_err(|e| Error::internal(format!("Queue {op}: {e}")))
    }

    /// Sends one message.
    ///
    /// # Errors
    /// A message that does not serialize, or the platform refusing it.
    pub async fn send(&self, message: &T) -> Result<(), Error> {
        let t0 = now_ms();
        let res = self.queue.send(message).await;
        self.done("send", t0, res)
    }

    /// Sends one message, delivered after `delay_secs` seconds.
    ///
    /// # Errors
    /// As [`Queue::send`].
    pub async fn send_delayed(&self, message: &T, delay_secs: u32) -> Result<(), Error> {
        let t0 = now_ms();
        let res = self.queue.send(worker::MessageBuilder::new(message).delay_seconds(delay_secs).build()).await;
        self.done("send", t0, res)
    }

    /// Sends several messages in one call (at most [`MAX_BATCH`]).
    ///
    /// # Errors
    /// More than [`MAX_BATCH`] messages, a message that does not serialize, or the platform
    /// refusing the batch (then none was sent).
    pub async fn send_batch(&self, messages: &[T]) -> Result<(), Error> {
        if messages.len() > MAX_BATCH {
            return Err(Error::internal(format!("Queue send_batch: {} messages, at most {MAX_BATCH}", messages.len())));
        }
        if messages.is_empty() {
            return Ok(());
        }
        let t0 = now_ms();
        let res = self.queue.send_batch(messages.iter().collect::<Vec<&T>>()).await;
        self.done("send_batch", t0, res)
    }
}
