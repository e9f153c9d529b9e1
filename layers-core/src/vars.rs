//! Read-only access to the Worker's plain vars.

use std::marker::PhantomData;

/// The Worker's non-secret vars a handler reads — only those its attribute lists in `vars(…)`
/// (`#[route(GET "/", identity = Public, vars(SITE_NAME))]`), each of which `app!` checks is
/// under `[vars]` of wrangler's config in every deployment. Any other name reads as `None`.
/// Secrets are not readable here: they belong to verifiers.
#[derive(Clone)]
pub struct Vars<'r> {
    env: worker::Env,
    allowed: &'static [&'static str],
    scope: PhantomData<fn(&'r ()) -> &'r ()>,
}

impl std::fmt::Debug for Vars<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vars").field("names", &self.allowed).finish()
    }
}

impl<'r> Vars<'r> {
    pub(crate) fn new(env: worker::Env, allowed: &'static [&'static str]) -> Vars<'r> {
        Vars { env, allowed, scope: PhantomData }
    }

    /// The names that can be read (the handler's `vars(…)`).
    #[must_use]
    pub fn names(&self) -> &'static [&'static str] {
        self.allowed
    }

    /// The value of var `name`, or `None` when it is unset or not in the handler's `vars(…)`.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<String> {
        if !self.allowed.contains(&name) {
            return None;
        }
        self.env.var(name).ok().map(|v| v.to_string())
    }
}
