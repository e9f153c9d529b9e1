//! Work after the response, inside the request's scope.

use std::cell::RefCell;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::rc::Rc;

type Task<'r> = Pin<Box<dyn Future<Output = ()> + 'r>>;

/// Schedules work to run after the response has been sent (analytics, cache fills…).
///
/// Unlike `ctx.waitUntil`, which wants `'static` futures, tasks here may hold the request's
/// claims and storage handles: the framework keeps the request's scope alive until every
/// task has finished, then ends it.
///
/// ```no_run
/// # use layers_core::prelude::*;
/// #[route(POST "/hit", identity = Public, storage(D1))]
/// async fn hit(_: Claims<'_, Public>, db: D1<'_>, after: After<'_>) -> Result<Response> {
///     after.spawn(async move {
///         let _ = db.prepare("UPDATE stats SET hits = hits + 1").run().await;
///     });
///     Ok(Response::ok("counted after the response")?)
/// }
/// # fn main() {}
/// ```
#[derive(Clone)]
pub struct After<'r> {
    tasks: Rc<RefCell<Vec<Task<'r>>>>,
    scope: PhantomData<fn(&'r ()) -> &'r ()>,
}

impl std::fmt::Debug for After<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("After").field("pending", &self.tasks.borrow().len()).finish()
    }
}

impl<'r> After<'r> {
    pub(crate) fn new() -> After<'r> {
        After { tasks: Rc::default(), scope: PhantomData }
    }

    /// Runs `task` after the response is sent. Tasks run one after another, in order.
    pub fn spawn(&self, task: impl Future<Output = ()> + 'r) {
        self.tasks.borrow_mut().push(Box::pin(task));
    }

    pub(crate) async fn run_all(&self) {
        loop {
            // Tasks may spawn further tasks; take them in batches.
            let batch: Vec<Task<'r>> = std::mem::take(&mut *self.tasks.borrow_mut());
            if batch.is_empty() {
                break;
            }
            for t in batch {
                t.await;
            }
        }
    }
}
