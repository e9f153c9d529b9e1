//! What [`AccessJwt`](super::AccessJwt) remembers between requests: fetched key sets, tokens
//! that verified, header segments that passed the strict check, and (in Workers) imported
//! `CryptoKey`s. It is kept in a [`VerifierState`](super::VerifierState) — the isolate's for
//! the contexts dispatch builds, a private one for built contexts — never in a global, so a
//! verification run by hand (its own fetcher, its own clock) cannot change what dispatch's
//! verification sees.

use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use jwt_compact::alg::RsaPublicKey;

use super::access_jwt::{AccessClaims, AccessSettings, Jwks, Times};

/// Everything `AccessJwt` keeps in one [`VerifierState`](super::VerifierState).
#[derive(Default)]
pub(super) struct AccessState {
    /// Key sets by JWKS URL.
    pub(super) jwks: RefCell<HashMap<String, CacheEntry>>,
    /// The JWKS URLs being fetched right now: one fetch per key set at a time, however many
    /// requests need it; the others wait for it to end (see `AccessJwt::jwks_for`).
    pub(super) inflight: RefCell<std::collections::HashSet<String>>,
    /// How the last fetch of each URL ended, for the requests that waited on it.
    pub(super) last_fetch: RefCell<HashMap<String, Fetched>>,
    /// Tokens that verified: a short list, found by tag, then confirmed by comparing the whole
    /// token in constant time.
    verified: RefCell<Vec<Rc<Verified>>>,
    /// The SipHash key of the tags: random per state, so that nobody outside can predict a
    /// token's tag, and a lookup's timing tells nothing about remembered tokens (another user's
    /// token is a credential). `None` when no randomness was available: then nothing is
    /// remembered.
    tag_key: OnceCell<Option<(u64, u64)>>,
    /// Header segments that passed the strict check, with the kid each names, oldest first.
    checked_headers: RefCell<Vec<(String, Option<String>)>>,
    /// Imported `CryptoKey`s (Workers only).
    #[cfg(target_arch = "wasm32")]
    pub(super) crypto_keys: super::webcrypto::KeyCache,
}

// ---- the key cache ------------------------------------------------------------------------------

/// How a JWKS fetch ended: the fetched set, or why it failed.
pub(super) type Fetched = Result<Rc<Jwks>, String>;

/// One JWKS URL's cache entry.
#[derive(Default)]
pub(super) struct CacheEntry {
    /// Last good key set and when it was fetched.
    pub(super) jwks: Option<(Rc<Jwks>, u64)>,
    /// When a fetch was last started (in flight, done or failed): limits refetches for
    /// unknown kids.
    pub(super) last_attempt: Option<u64>,
    /// When a fetch last failed (cleared by a success): limits retries without usable keys.
    pub(super) last_failure: Option<u64>,
}

// ---- checked headers ----------------------------------------------------------------------------

/// How many checked header segments are kept. The check depends on the segment alone, and an
/// issuer signs every token of a key with the same header, so most tokens find theirs here.
/// Headers are not secret (a token carries its own, readable by anyone who holds it); only
/// segments that passed are kept.
pub(super) const MAX_CHECKED_HEADERS: usize = 8;

impl AccessState {
    /// The kid of header segment `h` if it passed the check before.
    pub(super) fn checked_header(&self, h: &str) -> Option<Option<String>> {
        self.checked_headers.borrow().iter().find(|(seg, _)| seg == h).map(|(_, k)| k.clone())
    }

    /// Remembers that header segment `h` passed, naming `kid`.
    pub(super) fn header_passed(&self, h: &str, kid: Option<String>) {
        let mut c = self.checked_headers.borrow_mut();
        if c.len() >= MAX_CHECKED_HEADERS {
            c.remove(0);
        }
        c.push((h.to_owned(), kid));
    }

    #[cfg(test)]
    pub(super) fn checked_headers(&self) -> Vec<(String, Option<String>)> {
        self.checked_headers.borrow().clone()
    }
}

// ---- tokens that verified -----------------------------------------------------------------------

/// A token that passed every check that does not depend on the clock or on the current key
/// set — the strict header, the RS256 signature with `key`, the strict payload, `iss`, `aud`
/// and the identity claims under `settings` — with what those checks depended on.
pub(super) struct Verified {
    /// [`AccessState::tag_of`] the token.
    pub(super) tag: u64,
    pub(super) token: String,
    pub(super) settings: AccessSettings,
    pub(super) kid: String,
    pub(super) key: RsaPublicKey,
    pub(super) times: Times,
    pub(super) claims: AccessClaims,
    /// When it verified (the context's clock, Unix seconds).
    pub(super) at: u64,
}

impl Verified {
    /// Whether the entry may still stand in for a verification at `now`: at most `secs` after
    /// it was made, and never when the clock went back past it.
    pub(super) fn fresh(&self, now: u64, secs: u64) -> bool {
        now >= self.at && now - self.at <= secs
    }
}

/// Whether `e` remembers exactly `token` (tag first, then the whole string in constant time).
pub(super) fn is_token(e: &Verified, tag: u64, token: &str) -> bool {
    use subtle::ConstantTimeEq as _;
    e.tag == tag && e.token.len() == token.len() && bool::from(e.token.as_bytes().ct_eq(token.as_bytes()))
}

impl AccessState {
    /// The keyed 64-bit tag a token is remembered under (SipHash-2-4 with this state's random
    /// key); `None` without randomness.
    pub(super) fn tag_of(&self, token: &str) -> Option<u64> {
        use std::hash::Hasher as _;
        let (k0, k1) = (*self.tag_key.get_or_init(|| {
            #[cfg(target_arch = "wasm32")]
            let b = super::webcrypto::random_16()?;
            #[cfg(not(target_arch = "wasm32"))]
            let b = {
                let mut b = [0u8; 16];
                getrandom::getrandom(&mut b).ok()?;
                b
            };
            let (lo, hi) = b.split_at(8);
            Some((u64::from_le_bytes(lo.try_into().ok()?), u64::from_le_bytes(hi.try_into().ok()?)))
        }))?;
        // The keyed SipHash-2-4 of std (deprecated only in favour of crates with other variants).
        #[allow(deprecated)]
        let mut h = std::hash::SipHasher::new_with_keys(k0, k1);
        h.write(token.as_bytes());
        Some(h.finish())
    }

    /// The remembered verification of exactly `token` under exactly `settings`, if it is no
    /// older than `secs` at `now` (an older one is forgotten).
    pub(super) fn remembered(
        &self,
        settings: &AccessSettings,
        token: &str,
        now: u64,
        secs: u64,
    ) -> Option<Rc<Verified>> {
        let tag = self.tag_of(token)?;
        let hit =
            self.verified.borrow().iter().find(|e| is_token(e, tag, token) && e.settings == *settings).cloned()?;
        if hit.fresh(now, secs) {
            Some(hit)
        } else {
            self.forget(token);
            None
        }
    }

    /// Forgets `token` (under any settings).
    pub(super) fn forget(&self, token: &str) {
        if let Some(tag) = self.tag_of(token) {
            self.verified.borrow_mut().retain(|e| !is_token(e, tag, token));
        }
    }

    /// Remembers a token that verified (replacing what was remembered of it), keeping at most
    /// `cap` tokens: a full list is emptied first.
    pub(super) fn remember(&self, cap: usize, verified: Verified) {
        if cap == 0 {
            return;
        }
        self.forget(&verified.token);
        let mut v = self.verified.borrow_mut();
        if v.len() >= cap {
            v.clear();
        }
        v.push(Rc::new(verified));
    }

    /// How many verified tokens are remembered.
    pub(super) fn remembered_count(&self) -> usize {
        self.verified.borrow().len()
    }

    /// How many remembered tokens could still stand in for a verification at `now`, with the
    /// longest life a configuration can give them.
    pub(super) fn fresh_count(&self, now: u64) -> usize {
        self.verified.borrow().iter().filter(|e| e.fresh(now, super::access_jwt::MAX_VERIFIED_TOKEN_SECS)).count()
    }
}

impl super::VerifierState {
    /// How many Access tokens that verified this state remembers (tests of the token cache).
    #[doc(hidden)]
    #[must_use]
    pub fn remembered_access_tokens(&self) -> usize {
        self.get::<AccessState>().remembered_count()
    }

    /// How many of them could still be used at `now` (Unix seconds): none is older than
    /// [`MAX_VERIFIED_TOKEN_SECS`](super::MAX_VERIFIED_TOKEN_SECS).
    #[doc(hidden)]
    #[must_use]
    pub fn usable_access_tokens_at(&self, now: u64) -> usize {
        self.get::<AccessState>().fresh_count(now)
    }
}
