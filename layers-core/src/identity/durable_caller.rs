use super::{Deny, Verifier, VerifyCx};

/// The identity of a call into a Durable Object class written with layers
/// (`#[durable_object]`): the request came through the class's namespace binding, from code
/// that held a [`DurableObject`](crate::DurableObject) handle — which only a route, cron or queue
/// handler opens, with its own verified claims. A Durable Object has no public URL, so nothing
/// else reaches it.
///
/// It proves no one in particular (any route may call the object, `Public` ones included), so it
/// grants nothing beyond the object's declared storage: it cannot mint tokens or obtain cloud
/// credentials, and no fetch route can use it (`#[route(…, identity = DurableCaller)]` fails to
/// compile).
#[derive(Debug, Clone, Copy)]
pub struct DurableCaller;

/// What a Durable Object call proves: which class and object it reached.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DurableCallerClaims {
    /// The class (its JavaScript name, as in wrangler.toml's `class_name`).
    pub class: &'static str,
    /// The object's id (hex).
    pub object: String,
}

impl DurableCallerClaims {
    pub(crate) fn new(class: &'static str, object: String) -> DurableCallerClaims {
        DurableCallerClaims { class, object }
    }
}

impl Verifier for DurableCaller {
    type Claims = DurableCallerClaims;
    const NAME: &'static str = "DurableCaller";
    #[doc(hidden)]
    const PLATFORM_ONLY: bool = true;
    async fn verify(_cx: &VerifyCx<'_>) -> Result<DurableCallerClaims, Deny> {
        Err(Deny::invalid(
            "DurableCaller claims are made only by a Durable Object's own entry point, never for a request",
        ))
    }
}
