//! Where a route's response goes: from the route's scope to the `fetch` handler that returns
//! it, without a task of its own.
//!
//! A scope that answers before it first waits on the runtime leaves its response here for the
//! `fetch` handler to take at once. One that waits (a key fetch, WebCrypto, storage) is handed
//! to `waitUntil` to run to its end; the `fetch` handler then returns a promise and leaves its
//! resolve function here, and the scope calls it the moment it answers — so a request costs
//! one task (the scope's), not a second one polling a channel for the answer.

use std::cell::RefCell;
use std::rc::Rc;

/// What happens to the response: kept, or delivered at once.
enum State<T> {
    /// Nobody has asked yet, and there is no answer.
    Waiting,
    /// The scope answered before anyone asked.
    Ready(T),
    /// The `fetch` handler is waiting: this delivers the response.
    Deliver(Box<dyn FnOnce(T)>),
    /// Answered and delivered (or taken).
    Done,
}

/// One request's answer (a `worker::Response` in dispatch), shared by the scope
/// ([`AnswerTx`]) and the `fetch` handler.
pub(crate) struct Answer<T = worker::Response>(RefCell<State<T>>);

impl<T: 'static> Answer<T> {
    /// A new, empty answer and the sender the route's scope answers through; `unanswered` is
    /// sent if that sender is dropped without sending.
    pub(crate) fn new(unanswered: fn() -> T) -> (Rc<Answer<T>>, AnswerTx<T>) {
        let answer = Rc::new(Answer(RefCell::new(State::Waiting)));
        (Rc::clone(&answer), AnswerTx { answer: Some(answer), unanswered })
    }

    /// The response, when the scope has answered and nobody took it yet.
    pub(crate) fn take(&self) -> Option<T> {
        let mut state = self.0.borrow_mut();
        match std::mem::replace(&mut *state, State::Done) {
            State::Ready(resp) => Some(resp),
            other => {
                *state = other;
                None
            }
        }
    }

    /// Delivers the response to `deliver`: now if the scope has answered, else when it does.
    pub(crate) fn on_answer(&self, deliver: Box<dyn FnOnce(T)>) {
        let ready = {
            let mut state = self.0.borrow_mut();
            match std::mem::replace(&mut *state, State::Done) {
                State::Ready(resp) => Some(resp),
                State::Waiting => {
                    *state = State::Deliver(deliver);
                    return;
                }
                // Already delivered or taken: a second taker gets nothing.
                other @ (State::Deliver(_) | State::Done) => {
                    *state = other;
                    return;
                }
            }
        };
        if let Some(resp) = ready {
            deliver(resp);
        }
    }

    fn send(&self, resp: T) {
        let deliver = {
            let mut state = self.0.borrow_mut();
            match std::mem::replace(&mut *state, State::Done) {
                State::Waiting => {
                    *state = State::Ready(resp);
                    return;
                }
                State::Deliver(f) => f,
                // The first answer stands.
                other @ (State::Ready(_) | State::Done) => {
                    *state = other;
                    return;
                }
            }
        };
        // Called with no borrow held: delivering may run JavaScript.
        deliver(resp);
    }
}

/// The scope's side of an [`Answer`]: [`send`](AnswerTx::send) once. Dropped without
/// sending (a scope that ended without a response), it sends its `unanswered` value (in
/// dispatch a plain 500), so the client is never left waiting.
pub(crate) struct AnswerTx<T: 'static = worker::Response> {
    answer: Option<Rc<Answer<T>>>,
    unanswered: fn() -> T,
}

impl<T: 'static> AnswerTx<T> {
    /// Answers the request with `resp`.
    pub(crate) fn send(mut self, resp: T) {
        if let Some(answer) = self.answer.take() {
            answer.send(resp);
        }
    }
}

impl<T: 'static> Drop for AnswerTx<T> {
    fn drop(&mut self) {
        if let Some(answer) = self.answer.take() {
            answer.send((self.unanswered)());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    fn collect(answer: &Answer<u32>) -> Rc<Cell<Option<u32>>> {
        let got = Rc::new(Cell::new(None));
        let g = Rc::clone(&got);
        answer.on_answer(Box::new(move |v| g.set(Some(v))));
        got
    }

    #[test]
    fn an_answer_before_anyone_asks_is_kept_for_take() {
        let (answer, tx) = Answer::new(|| 500);
        assert_eq!(answer.take(), None);
        tx.send(200);
        assert_eq!(answer.take(), Some(200));
        assert_eq!(answer.take(), None, "taken once");
        assert_eq!(collect(&answer).get(), None, "nothing left to deliver");
    }

    #[test]
    fn an_answer_after_someone_asks_is_delivered_at_once() {
        let (answer, tx) = Answer::new(|| 500);
        let got = collect(&answer);
        assert_eq!(got.get(), None);
        tx.send(201);
        assert_eq!(got.get(), Some(201));
        assert_eq!(answer.take(), None);
    }

    #[test]
    fn asking_after_the_answer_delivers_it_then() {
        let (answer, tx) = Answer::new(|| 500);
        tx.send(204);
        assert_eq!(collect(&answer).get(), Some(204));
    }

    #[test]
    fn a_sender_dropped_unsent_answers_its_fallback() {
        let (answer, tx) = Answer::new(|| 500);
        let got = collect(&answer);
        drop(tx);
        assert_eq!(got.get(), Some(500));
        let (answer, tx) = Answer::new(|| 503);
        drop(tx);
        assert_eq!(answer.take(), Some(503));
    }
}
