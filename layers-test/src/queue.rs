//! Queues, from the test: a message is sent by the Worker's own producer (a route of yours),
//! and the harness waits for the consumer's batch in the Worker's log.
//!
//! `wrangler dev` has no way to put a message on a local queue from outside the Worker: no
//! `wrangler queues` command works on local queues, and Miniflare's `getQueueProducer` exists
//! only in its JavaScript API. So the harness does not send messages itself; it watches the
//! consumer. Each batch the consumer handles is one wide log event (`event` `"queue"`, `route`
//! the queue's name, `request.messages` the batch size), logged when the handler has finished,
//! so whatever the batch wrote to D1, KV or R2 can be read once its event is seen. A batch holds
//! up to `max_batch_size` messages and waits up to `max_batch_timeout` seconds to fill: expect
//! about a second between the send and the event.

use std::time::{Duration, Instant};

use crate::logs::{LogEvent, LogMark};
use crate::Worker;

/// The consumer of one queue, watched from the moment [`Worker::watch_queue`] was called.
#[derive(Debug, Clone)]
pub struct QueueWatch<'w> {
    worker: &'w Worker,
    queue: String,
    mark: LogMark,
}

impl Worker {
    /// Watches the consumer of `queue` (the queue's name, as in `[[queues.consumers]]`, not the
    /// producer's binding) from now on. Call it *before* the request whose handler sends to the
    /// queue, then wait with [`QueueWatch::next_batch`] or [`QueueWatch::until`]:
    ///
    /// ```no_run
    /// # let app = layers_test::Worker::shared();
    /// # use std::time::Duration;
    /// let reindex = app.watch_queue("reindex");
    /// app.post("/api/reindex").with_api_key().json(&serde_json::json!({"slug": "hello", "reason": "test"}))
    ///     .send().assert_status(202);
    /// let batch = reindex.next_batch(Duration::from_secs(30));
    /// assert_eq!(batch.outcome(), Some("handled"));
    /// ```
    ///
    /// Tests running in parallel may send to the same queue: a batch may hold their messages
    /// too, and yours may come in a later batch. Then wait for *your* effect with
    /// [`until`](QueueWatch::until) rather than for the first batch.
    #[must_use]
    pub fn watch_queue(&self, queue: &str) -> QueueWatch<'_> {
        QueueWatch { worker: self, queue: queue.to_owned(), mark: self.log_mark() }
    }
}

impl QueueWatch<'_> {
    /// The queue's name.
    #[must_use]
    pub fn queue(&self) -> &str {
        &self.queue
    }

    /// The consumer's batch events logged since the watch began, oldest first.
    #[must_use]
    pub fn batches(&self) -> Vec<LogEvent> {
        crate::logs::since(self.worker.log_path(), self.mark).into_iter().filter(|e| self.is_batch(e)).collect()
    }

    fn is_batch(&self, e: &LogEvent) -> bool {
        e.event() == "queue" && e.route() == self.queue
    }

    /// The first batch the consumer handled since the watch began, waiting up to `timeout`.
    ///
    /// # Panics
    /// When no batch of this queue is logged in time (with the end of the log).
    #[must_use]
    pub fn next_batch(&self, timeout: Duration) -> LogEvent {
        self.worker.wait_for_event(self.mark, timeout, |e| self.is_batch(e)).unwrap_or_else(|| {
            panic!("no batch of queue `{}` within {} s\n{}", self.queue, timeout.as_secs(), self.worker.log_tail(30))
        })
    }

    /// Waits until `done` holds — checked now, then again after each new batch of this queue —
    /// and returns the batches seen since the watch began. `done` is where a test reads its
    /// own effect (a D1 row of its own), so other tests' batches do not fool it.
    ///
    /// # Panics
    /// When `done` does not hold within `timeout`.
    pub fn until(&self, timeout: Duration, mut done: impl FnMut() -> bool) -> Vec<LogEvent> {
        let start = Instant::now();
        let mut checked = usize::MAX;
        loop {
            let batches = self.batches();
            if batches.len() != checked {
                checked = batches.len();
                if done() {
                    return batches;
                }
            }
            if start.elapsed() >= timeout {
                panic!(
                    "queue `{}`: not done within {} s ({checked} batches seen)\n{}",
                    self.queue,
                    timeout.as_secs(),
                    self.worker.log_tail(30)
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}
