use super::{Deny, Verifier, VerifyCx};

/// The identity of platform events: a cron trigger (`#[scheduled]`) or a queue batch
/// (`#[queue]`). No request carries it.
///
/// * Only the Worker's `scheduled` / `queue` entry points make a `Claims<'_, System>`, after the
///   platform invoked them; like every `Claims`, it has no public constructor.
/// * A fetch route cannot use it: `#[route(…, identity = System)]` fails to compile, and even
///   called directly, [`System::verify`] refuses every request.
#[derive(Debug, Clone, Copy)]
pub struct System;

/// What a platform event proves: which trigger ran the handler.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SystemClaims {
    /// `"scheduled"` or `"queue"`.
    pub event: &'static str,
    /// The cron expression (as in wrangler.toml) or the queue's name.
    pub source: String,
    /// For a cron, the time it was scheduled for (ms since the epoch); for a queue, when the
    /// batch arrived.
    pub time_ms: u64,
}

impl SystemClaims {
    pub(crate) fn new(event: &'static str, source: String, time_ms: u64) -> SystemClaims {
        SystemClaims { event, source, time_ms }
    }
}

impl Verifier for System {
    type Claims = SystemClaims;
    const NAME: &'static str = "System";
    #[doc(hidden)]
    const PLATFORM_ONLY: bool = true;
    async fn verify(_cx: &VerifyCx<'_>) -> Result<SystemClaims, Deny> {
        Err(Deny::invalid(
            "System claims are made only by the platform's scheduled/queue entry points, never for a request",
        ))
    }
}
