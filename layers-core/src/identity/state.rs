//! What verifiers remember between requests (key sets, tokens that verified, replay sets), and
//! who may reach it.
//!
//! A Worker's isolate serves many requests, and some verifiers keep state across them: the JWKS
//! an [`AccessJwt`](super::AccessJwt) fetched, the tokens it verified. That state decides later
//! requests, so it belongs to dispatch alone. Every [`VerifyCx`](super::VerifyCx) carries the
//! state it may use:
//!
//! * dispatch gives each request's context **the isolate's** state, which nothing else can name;
//! * a context made with [`VerifyCx::builder`](super::VerifyCx::builder) gets a **fresh** one —
//!   or, with [`VerifyCxBuilder::state`](super::VerifyCxBuilder::state), one its caller made and
//!   shares between its own contexts (tests of caching) — never the isolate's.
//!
//! So a handler that runs a verifier by hand, with a fetcher serving keys of its choosing and a
//! clock of its choosing, fills only its own state: what a later request's verification sees is
//! unchanged.

use std::any::{Any, TypeId};
use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

/// The state verifiers keep between the requests of one context family: the isolate's in a
/// Worker (reachable only by dispatch), or one of your own in tests.
///
/// It holds one value per type, made with `Default` on first use and kept until
/// [`clear`](Self::clear). Built-in verifiers keep theirs under private types; a verifier of
/// your own keeps its own (a replay set, say) through [`VerifyCx::state`](super::VerifyCx::state).
///
/// ```
/// use std::rc::Rc;
/// use layers_core::identity::{VerifierState, VerifyCx};
///
/// // Two contexts of one test share what their verifiers remember; the isolate's state is
/// // untouched by either.
/// let state = Rc::new(VerifierState::new());
/// let first = VerifyCx::builder().state(Rc::clone(&state)).build();
/// let second = VerifyCx::builder().state(Rc::clone(&state)).build();
/// first.state::<std::cell::Cell<u32>>().set(7);
/// assert_eq!(second.state::<std::cell::Cell<u32>>().get(), 7);
/// assert_eq!(VerifyCx::builder().build().state::<std::cell::Cell<u32>>().get(), 0);
/// ```
#[derive(Default)]
pub struct VerifierState {
    slots: RefCell<Vec<(TypeId, Rc<dyn Any>)>>,
}

impl fmt::Debug for VerifierState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifierState").field("values", &self.slots.borrow().len()).finish()
    }
}

impl VerifierState {
    /// An empty state.
    #[must_use]
    pub fn new() -> VerifierState {
        VerifierState::default()
    }

    /// The value of type `T`, made with `Default` on first use.
    pub(crate) fn get<T: Default + 'static>(&self) -> Rc<T> {
        let id = TypeId::of::<T>();
        let found = self.slots.borrow().iter().find(|(t, _)| *t == id).map(|(_, v)| Rc::clone(v));
        if let Some(v) = found.and_then(|v| v.downcast::<T>().ok()) {
            return v;
        }
        let v = Rc::new(T::default());
        self.slots.borrow_mut().push((id, Rc::clone(&v) as Rc<dyn Any>));
        v
    }

    /// Forgets everything (the next use of each type starts from `Default`).
    pub fn clear(&self) {
        self.slots.borrow_mut().clear();
    }
}

thread_local! {
    // The isolate's state: one isolate runs one thread. Reachable only through `isolate()`,
    // which only dispatch calls.
    static ISOLATE: Rc<VerifierState> = Rc::new(VerifierState::new());
}

/// The isolate's state, for the contexts dispatch builds (and nothing else).
pub(crate) fn isolate() -> Rc<VerifierState> {
    ISOLATE.with(Rc::clone)
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    #[test]
    fn one_value_per_type_until_cleared() {
        let s = VerifierState::new();
        s.get::<Cell<u8>>().set(3);
        s.get::<Cell<u16>>().set(4);
        assert_eq!(s.get::<Cell<u8>>().get(), 3);
        assert_eq!(s.get::<Cell<u16>>().get(), 4);
        s.clear();
        assert_eq!(s.get::<Cell<u8>>().get(), 0);
    }

    #[test]
    fn the_isolate_state_is_not_a_fresh_one() {
        isolate().get::<Cell<u64>>().set(9);
        assert_eq!(isolate().get::<Cell<u64>>().get(), 9);
        assert_eq!(VerifierState::new().get::<Cell<u64>>().get(), 0);
    }
}
