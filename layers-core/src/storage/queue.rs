//! Queue producer: typed `send` / `send_batch` to a Cloudflare Queue.

use std::marker::PhantomData;
use std::rc::Rc;

use serde::Serialize;

use super::open::{Opens, Site};
use super::StorageKind;
use crate::error::Error;
use crate::log::{now_ms, LogCx};

/// Most messages one `send_batch` call may carry (the platform's limit).
pub const MAX_BATCH: usize = 100;

/// A producer for the queue bound as the route's `storage(Queue = "BINDING")`, sending
/// messages of type `T`. Valid for the current request (or event), like every handle.
///
/// ```no_run
/// # use layers_core::prelude::*;
/// # #[derive(serde::Serialize)]
/// # struct ReindexJob { slug: String }
/// #[route(POST "/api/reindex", identity = ApiKey, storage(Queue = "REINDEX"))]
/// async fn reindex(_: Claims<'_, ApiKey>, q: Queue<'_, ReindexJob>) -> Result<Response> {
///     q.send(&ReindexJob { slug: "hello".into() }).await?;
///     Ok(Response::empty()?.with_status(202))
/// }
/// # fn main() {}
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

impl<'r> Opens<'r> for QueueBinding<'r> {
    const KIND: StorageKind = StorageKind::Queue;

    /// Opens the binding — only with the claims in hand.
    fn open<V: crate::identity::Verifier>(
        site: &Site<'_>,
        binding: &'static str,
        _proof: &crate::identity::Claims<'r, V>,
        log: Rc<LogCx>,
    ) -> Result<Self, Error> {
        let queue = site.env.queue(binding).map_err(|e| Error::internal(format!("Queue binding {binding}: {e}")))?;
        Ok(QueueBinding { queue: Rc::new(queue), binding, log, scope: PhantomData })
    }
}

impl<'r> QueueBinding<'r> {
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

/// A message sent without the producer/consumer type check: `Queue<'_, Unchecked<String>>`.
///
/// `app!` checks that every route's `Queue<'_, T>` sends the type its queue's `#[queue]`
/// consumer decodes (`Batch<'_, T>`), through the binding → queue mapping of wrangler.toml's
/// `[[queues.producers]]`. Wrap the type in `Unchecked` to send something else on purpose —
/// a deliberately undecodable (poison) message, or a queue whose consumer accepts several
/// shapes. It serializes exactly as the wrapped value.
///
/// ```no_run
/// # use layers_core::prelude::*;
/// #[route(POST "/api/reindex/raw", identity = ApiKey, storage(Queue = "REINDEX"))]
/// async fn raw(mut req: Request, _: Claims<'_, ApiKey>, q: Queue<'_, Unchecked<String>>) -> Result<Response> {
///     q.send(&Unchecked(req.text().await?)).await?;
///     Ok(Response::empty()?.with_status(202))
/// }
/// # fn main() {}
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unchecked<T>(pub T);

impl<T: Serialize> Serialize for Unchecked<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

/// The compile-time producer/consumer check that `#[route]`, `#[queue]` and `app!` expand to.
/// Not a public API.
#[doc(hidden)]
pub mod typecheck {
    use std::marker::PhantomData;

    /// FNV-1a of a binding or queue name: the const key of the traits below (the macros
    /// compute the same function, from the same crate).
    pub use layers_spec::text::name_hash;

    /// Implemented by an app's queue table for each queue a listed `#[queue]` consumer
    /// takes, keyed by [`name_hash`] of the queue's name.
    #[diagnostic::on_unimplemented(
        message = "a queue that the `[[queues.consumers]]` of wrangler's config say this Worker consumes has no `#[queue]` consumer in `app!{{ queues: [..] }}`",
        note = "list the queue's `#[queue(\"name\")]` handler in `app!{{ queues: [..] }}`, so producers can be checked against the type it decodes"
    )]
    pub trait ConsumerOfQueue<const QUEUE: u64> {
        /// What the consumer's `Batch<'_, T>` decodes.
        type Msg;
    }

    /// Implemented by an app's queue table for each `[[queues.producers]] binding` of
    /// wrangler.toml, keyed by [`name_hash`] of the binding.
    #[diagnostic::on_unimplemented(
        message = "this route's `storage(Queue = …)` binding is not a `[[queues.producers]] binding` of wrangler's config",
        note = "declare the producer binding in wrangler's config (`[[queues.producers]] binding = \"…\"`, `queue = \"…\"`) or name a declared one"
    )]
    pub trait ProducerOf<const BINDING: u64> {
        /// [`Consumed`] when this Worker consumes the binding's queue, else [`Unconsumed`].
        type Check;
    }

    /// Whether a producer may send `T`.
    pub trait Accepts<T> {}

    /// The binding's queue is consumed in this app, decoding `U`; `W` names the binding and
    /// the queue (a type generated by `app!`, for the error message).
    pub struct Consumed<U, W>(PhantomData<(U, W)>);

    /// The binding's queue is consumed by another Worker: not checked here.
    pub struct Unconsumed;

    impl<T> Accepts<T> for Unconsumed {}
    impl<T, U, W> Accepts<T> for Consumed<U, W> where T: SameMessage<U, W> {}

    /// The producer's message type is the consumer's.
    #[diagnostic::on_unimplemented(
        message = "queue message type mismatch: this handler sends `{Self}` through `{W}`, but that queue's `#[queue]` consumer decodes `{U}`",
        label = "sends `{Self}`, the consumer takes `{U}`",
        note = "the binding → queue mapping is the `[[queues.producers]]` of wrangler's config; every message the consumer cannot decode as `{U}` is retried and then dead-lettered",
        note = "send what the consumer takes (`Queue<'_, {U}>`), change the consumer's `Batch<'_, …>`, or, to send another shape on purpose (a poison message), opt out with `Queue<'_, Unchecked<{Self}>>`"
    )]
    pub trait SameMessage<U, W> {}
    impl<T, W> SameMessage<T, W> for T {}

    /// The check of a route without a typed queue producer (or written by hand): nothing.
    /// A `#[route]` with `Queue<'_, T>` has an inherent `__layers_producer_check`, which
    /// takes precedence over this one.
    pub trait NoProducerCheck {
        /// Always satisfied.
        fn __layers_producer_check<A>() {}
    }
    impl<T: ?Sized> NoProducerCheck for T {}

    #[cfg(test)]
    mod tests {
        #[test]
        fn fnv1a_known_values() {
            assert_eq!(super::name_hash(""), 0xcbf2_9ce4_8422_2325);
            assert_eq!(super::name_hash("a"), 0xaf63_dc4c_8601_ec8c);
            assert_ne!(super::name_hash("REINDEX"), super::name_hash("reindex"));
        }
    }
}
