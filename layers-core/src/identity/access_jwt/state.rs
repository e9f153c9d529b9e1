//! What [`AccessJwt`](super::AccessJwt) remembers between requests: fetched key sets, tokens
//! that verified, header segments that passed the strict check, and (in Workers) imported
//! `CryptoKey`s. It is kept in a [`VerifierState`](crate::identity::VerifierState) — the
//! isolate's for the contexts dispatch builds, a private one for built contexts — never in a
//! global, so a verification run by hand (its own fetcher, its own clock) cannot change what
//! dispatch's verification sees.
//!
//! Each part is kept and read by the module of its concern: `key_cache` (key sets and their
//! fetches), `token_cache` (tokens that verified), `header` (header segments that passed).

use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use super::key_cache::{CacheEntry, Fetched};
use super::token_cache::Verified;

/// How many distinct [`SettingsInputs`] keep their settings.
pub(super) const SETTINGS_KEPT: usize = 8;

/// What [`AccessSettings`](super::AccessSettings) are made from: the team domain, AUD and JWKS
/// URL vars as read, and the leeway.
#[derive(PartialEq, Eq)]
pub(super) struct SettingsInputs {
    pub(super) team: Option<String>,
    pub(super) aud: Option<String>,
    pub(super) certs: Option<String>,
    pub(super) leeway: u64,
}

/// Everything `AccessJwt` keeps in one [`VerifierState`](crate::identity::VerifierState).
#[derive(Default)]
pub(super) struct AccessState {
    /// Key sets by JWKS URL (`key_cache`).
    pub(super) jwks: RefCell<HashMap<String, CacheEntry>>,
    /// The JWKS URLs being fetched right now: one fetch per key set at a time, however many
    /// requests need it; the others wait for it to end (see `AccessJwt::jwks_for`).
    pub(super) inflight: RefCell<std::collections::HashSet<String>>,
    /// How the last fetch of each URL ended, for the requests that waited on it.
    pub(super) last_fetch: RefCell<HashMap<String, Fetched>>,
    /// Tokens that verified: a short list, found by tag, then confirmed by comparing the whole
    /// token in constant time (`token_cache`).
    pub(super) verified: RefCell<Vec<Rc<Verified>>>,
    /// The SipHash key of the tags: random per state, so that nobody outside can predict a
    /// token's tag, and a lookup's timing tells nothing about remembered tokens (another user's
    /// token is a credential). `None` when no randomness was available: then nothing is
    /// remembered.
    pub(super) tag_key: OnceCell<Option<(u64, u64)>>,
    /// Header segments that passed the strict check, with the kid each names, oldest first
    /// (`header`).
    pub(super) checked_headers: RefCell<Vec<(String, Option<String>)>>,
    /// Settings made from vars, with the var values they were made from (the vars do not
    /// change while an isolate lives, so this is one entry per configuration; a request whose
    /// values differ from every entry makes its own). At most [`SETTINGS_KEPT`] entries.
    pub(super) settings: RefCell<Vec<(SettingsInputs, Rc<super::AccessSettings>)>>,
    /// Imported `CryptoKey`s (Workers only).
    #[cfg(target_arch = "wasm32")]
    pub(super) crypto_keys: crate::identity::webcrypto::KeyCache,
}
