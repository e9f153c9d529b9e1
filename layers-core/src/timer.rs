//! A wait on the runtime's `setTimeout`, owned by the request that waits.
//!
//! `worker::Delay` keeps the waker of its first poll only; dispatch's first poll is made with a
//! no-op waker (see `fetch_export`), so a `Delay` started there would never wake its task. This
//! timer wakes whatever waker polled it last, as the `Future` contract asks.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use worker::js_sys::{Function, Reflect};
use worker::wasm_bindgen::closure::Closure;
use worker::wasm_bindgen::{JsCast as _, JsValue};

/// Whether the timer fired, and the waker to wake when it does.
type Shared = Rc<RefCell<(bool, Option<Waker>)>>;

/// Resolves after `ms` milliseconds (or at once, should `setTimeout` be unavailable).
pub(crate) struct Sleep {
    ms: u32,
    shared: Shared,
    callback: Option<Closure<dyn FnMut()>>,
    id: Option<JsValue>,
}

impl Sleep {
    pub(crate) fn new(ms: u32) -> Sleep {
        Sleep { ms, shared: Rc::new(RefCell::new((false, None))), callback: None, id: None }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        {
            let mut s = self.shared.borrow_mut();
            if s.0 {
                return Poll::Ready(());
            }
            s.1 = Some(cx.waker().clone());
        }
        if self.callback.is_none() {
            let shared = Rc::clone(&self.shared);
            let callback = Closure::<dyn FnMut()>::new(move || {
                let waker = {
                    let mut s = shared.borrow_mut();
                    s.0 = true;
                    s.1.take()
                };
                if let Some(w) = waker {
                    w.wake();
                }
            });
            let global = worker::js_sys::global();
            let set = Reflect::get(&global, &JsValue::from_str("setTimeout"))
                .ok()
                .and_then(|f| f.dyn_into::<Function>().ok());
            let Some(set) = set else { return Poll::Ready(()) };
            match set.call2(&global, callback.as_ref(), &JsValue::from(self.ms)) {
                Ok(id) => self.id = Some(id),
                Err(_) => return Poll::Ready(()),
            }
            self.callback = Some(callback);
        }
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let (Some(id), false) = (&self.id, self.shared.borrow().0) {
            let global = worker::js_sys::global();
            if let Some(clear) = Reflect::get(&global, &JsValue::from_str("clearTimeout"))
                .ok()
                .and_then(|f| f.dyn_into::<Function>().ok())
            {
                let _ = clear.call1(&global, id);
            }
        }
    }
}
