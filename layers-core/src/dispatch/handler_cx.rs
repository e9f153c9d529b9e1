//! What every handler's parameters are taken from, whoever calls it (a route, a cron, a queue
//! consumer, a Durable Object call): the proof of identity, handed out once, and the storage
//! handles opened with it. [`RouteCx`](super::route::RouteCx),
//! [`EventCx`](crate::events::EventCx) and [`ObjectCx`](crate::durable_object::ObjectCx) each
//! hold one and add what their caller has (the request, the batch, the object's own storage).

use crate::error::Error;
use crate::identity::{Claims, Verifier};
use crate::storage::open::Handles;

/// The claims (once) and the declared storage of one handler call; only dispatch makes one.
pub struct HandlerCx<'r, V: Verifier> {
    claims: Option<Claims<'r, V>>,
    storage: Handles<'r>,
}

impl<V: Verifier> std::fmt::Debug for HandlerCx<'_, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HandlerCx").finish_non_exhaustive()
    }
}

impl<'r, V: Verifier> HandlerCx<'r, V> {
    /// The claims `V` made for this call, and the handles opened with them.
    pub(crate) fn new(claims: Claims<'r, V>, storage: Handles<'r>) -> Self {
        HandlerCx { claims: Some(claims), storage }
    }

    /// The claims (once).
    ///
    /// # Errors
    /// When taken twice.
    pub fn claims(&mut self) -> Result<Claims<'r, V>, Error> {
        self.claims.take().ok_or_else(|| taken("the claims"))
    }

    /// The storage the handler declared, opened with its claims.
    pub fn storage(&mut self) -> &mut Handles<'r> {
        &mut self.storage
    }
}

/// A handler asked for something it had already taken (the expansion takes each once).
pub(crate) fn taken(what: &str) -> Error {
    Error::internal(format!("handler asked for {what} twice or undeclared"))
}
