//! Read-only access to the Worker's plain vars.

use std::marker::PhantomData;

/// The Worker's non-secret vars — only those listed under `[vars]` in `wrangler.toml`.
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

    /// The names that can be read (the keys of `[vars]` in `wrangler.toml`).
    #[must_use]
    pub fn names(&self) -> &'static [&'static str] {
        self.allowed
    }

    /// The value of var `name`, or `None` when it is unset or not a `[vars]` entry.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<String> {
        if !self.allowed.contains(&name) {
            return None;
        }
        self.env.var(name).ok().map(|v| v.to_string())
    }

    /// Signs a token for [`Claims::mint_token`](crate::Claims::mint_token), which holds the
    /// permission checks; the key never leaves this function.
    pub(crate) fn mint<C: crate::identity::TokenConfig>(
        &self,
        payload: &str,
        expires_at: u64,
    ) -> Result<String, crate::Error> {
        let key = self.env.secret(C::SECRET).ok().map(|k| k.to_string());
        match key {
            Some(key) if key.len() >= crate::identity::MIN_KEY_LEN => {
                Ok(crate::identity::mint(key.as_bytes(), C::PURPOSE, payload, expires_at))
            }
            _ => Err(crate::Error::new(503, "service unavailable")
                .with_detail(format!("signing secret {} is unset or too short", C::SECRET))),
        }
    }
}
