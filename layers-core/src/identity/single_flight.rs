//! One outbound exchange per key at a time, within an isolate.
//!
//! When many requests of one isolate need the same remote answer at once (a cold cache, an
//! expiry), the first takes the *turn* and makes the call; the others *wait* for its answer
//! instead of calling too, each on its own timer (the Workers runtime cancels a request that
//! waits only on another request's I/O, so a waiter must keep its own I/O going: it sleeps
//! in short steps and looks again). The answer is shared by the waiters of that turn only:
//! the slot is gone as soon as the turn ended and its last waiter took the answer, so
//! nothing is remembered here beyond the calls in flight.
//!
//! Used by [`Federation`](super::Federation) (one STS exchange per role) and
//! [`Turnstile`](super::Turnstile) (one siteverify call per token). `AccessJwt` keeps
//! its own equivalent in its key-set state, where the answer is also the cache.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use super::cx::Pause;

/// The calls in flight, by key, and their answers until every waiter took one.
pub(crate) struct Flights<T> {
    slots: RefCell<HashMap<String, Slot<T>>>,
}

impl<T> Default for Flights<T> {
    fn default() -> Self {
        Flights { slots: RefCell::new(HashMap::new()) }
    }
}

struct Slot<T> {
    /// The turn's answer, once it has one.
    answer: Option<T>,
    /// The turn ended without an answer (its future was dropped).
    abandoned: bool,
    /// Waiters that have not taken the answer yet.
    waiting: usize,
}

/// Whether a caller makes the call or waits for another's.
pub(crate) enum Entry<T> {
    /// Make the call, then [`Turn::finish`] with its answer.
    Lead(Turn<T>),
    /// Another caller is making it: [`Wait::answer`].
    Follow(Wait<T>),
}

impl<T: Clone> Flights<T> {
    /// Takes the turn for `key`, or joins the one in flight.
    pub(crate) fn enter(self: &Rc<Self>, key: &str) -> Entry<T> {
        let mut slots = self.slots.borrow_mut();
        if let Some(slot) = slots.get_mut(key) {
            slot.waiting += 1;
            return Entry::Follow(Wait { flights: Rc::clone(self), key: key.to_owned() });
        }
        slots.insert(key.to_owned(), Slot { answer: None, abandoned: false, waiting: 0 });
        Entry::Lead(Turn { flights: Rc::clone(self), key: key.to_owned(), done: false })
    }

    /// How many keys have a slot (calls in flight, or answers not taken yet).
    #[cfg(test)]
    pub(crate) fn slots(&self) -> usize {
        self.slots.borrow().len()
    }
}

/// The caller whose call the others wait for. Dropped without [`finish`](Turn::finish), its
/// waiters are told the call was abandoned.
pub(crate) struct Turn<T> {
    flights: Rc<Flights<T>>,
    key: String,
    done: bool,
}

impl<T> Turn<T> {
    /// Hands `answer` to this turn's waiters (if any) and ends the turn.
    pub(crate) fn finish(mut self, answer: T) {
        self.done = true;
        let mut slots = self.flights.slots.borrow_mut();
        match slots.get_mut(&self.key) {
            Some(slot) if slot.waiting > 0 => slot.answer = Some(answer),
            _ => {
                slots.remove(&self.key);
            }
        }
    }
}

impl<T> Drop for Turn<T> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let mut slots = self.flights.slots.borrow_mut();
        match slots.get_mut(&self.key) {
            Some(slot) if slot.waiting > 0 => slot.abandoned = true,
            _ => {
                slots.remove(&self.key);
            }
        }
    }
}

/// A caller waiting for another's call.
pub(crate) struct Wait<T> {
    flights: Rc<Flights<T>>,
    key: String,
}

/// Why a wait ended without an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NoAnswer {
    /// The caller making the call dropped it.
    Abandoned,
    /// No answer within the time allowed.
    TimedOut,
}

impl<T: Clone> Wait<T> {
    /// The turn's answer: looked for every `step_ms` (each look after this caller's own
    /// `pause`), for at most `max_ms`.
    pub(crate) async fn answer(self, pause: &Pause, step_ms: u32, max_ms: u32) -> Result<T, NoAnswer> {
        let mut waited = 0;
        loop {
            {
                let slots = self.flights.slots.borrow();
                match slots.get(&self.key) {
                    Some(Slot { answer: Some(a), .. }) => return Ok(a.clone()),
                    Some(Slot { abandoned: true, .. }) | None => return Err(NoAnswer::Abandoned),
                    Some(_) => {}
                }
            }
            if waited >= max_ms {
                return Err(NoAnswer::TimedOut);
            }
            pause(step_ms).await;
            waited = waited.saturating_add(step_ms);
        }
    }
}

impl<T> Drop for Wait<T> {
    /// This waiter is done (answered, timed out or dropped): the last one out of an ended
    /// turn clears its slot.
    fn drop(&mut self) {
        let mut slots = self.flights.slots.borrow_mut();
        if let Some(slot) = slots.get_mut(&self.key) {
            slot.waiting = slot.waiting.saturating_sub(1);
            if slot.waiting == 0 && (slot.answer.is_some() || slot.abandoned) {
                slots.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::cx::yield_once;
    use futures::executor::block_on;
    use futures::future::join;

    fn lead(e: Entry<u32>) -> Turn<u32> {
        match e {
            Entry::Lead(t) => t,
            Entry::Follow(_) => panic!("expected the turn"),
        }
    }

    fn follow(e: Entry<u32>) -> Wait<u32> {
        match e {
            Entry::Follow(w) => w,
            Entry::Lead(_) => panic!("expected to wait"),
        }
    }

    #[test]
    fn waiters_get_the_turns_answer_and_the_slot_goes() {
        let f: Rc<Flights<u32>> = Rc::default();
        let turn = lead(f.enter("a"));
        let (w1, w2) = (follow(f.enter("a")), follow(f.enter("a")));
        // Another key is its own turn.
        let other = lead(f.enter("b"));
        let pause = yield_once();
        let waiting = async { (w1.answer(&pause, 10, 1000).await, w2.answer(&pause, 10, 1000).await) };
        let (answers, ()) = block_on(join(waiting, async {
            yield_once()(0).await;
            turn.finish(7);
        }));
        assert_eq!(answers, (Ok(7), Ok(7)));
        assert_eq!(f.slots(), 1, "only b's turn is left");
        other.finish(1);
        assert_eq!(f.slots(), 0);
        // The next caller takes a new turn.
        drop(lead(f.enter("a")));
        assert_eq!(f.slots(), 0);
    }

    #[test]
    fn an_abandoned_turn_or_a_late_answer_ends_the_wait() {
        let f: Rc<Flights<u32>> = Rc::default();
        let pause = yield_once();
        let turn = lead(f.enter("a"));
        let w = follow(f.enter("a"));
        drop(turn);
        assert_eq!(block_on(w.answer(&pause, 10, 1000)), Err(NoAnswer::Abandoned));
        assert_eq!(f.slots(), 0);

        let turn = lead(f.enter("a"));
        let w = follow(f.enter("a"));
        assert_eq!(block_on(w.answer(&pause, 10, 30)), Err(NoAnswer::TimedOut));
        // The waiter left before the answer: finishing clears the slot.
        turn.finish(3);
        assert_eq!(f.slots(), 0);
    }
}
