//! The Access tokens that verified, remembered per [`AccessState`] so that the next request with
//! the same token skips the parse and the signature check (what is remembered, and for how long:
//! [`AccessJwt`](super::AccessJwt)'s "Repeated tokens").
//!
//! A token is found by a keyed SipHash tag (the key random per state), then confirmed by
//! comparing the whole string in constant time, so a lookup's timing tells nothing about the
//! tokens of others. Only tokens that passed every check are remembered; a full list is emptied
//! before the next one is added.
//!
//! # Why that is equivalent to verifying again
//! A full verification is a function of (the token's bytes, the settings, the key its `kid` maps
//! to now, the clock). The remembered entry is keyed by the exact bytes and the settings; the key
//! lookup is redone and must give the same key; the clock checks are redone. What is skipped —
//! the strict header and payload parse, the RS256 check, `iss`/`aud` and the identity claims —
//! depends on nothing else, so it cannot answer differently. Still, a verified identity is not
//! kept long (seed gotcha ④): an entry lives at most
//! [`AccessConfig::VERIFIED_TOKEN_SECS`](super::AccessConfig::VERIFIED_TOKEN_SECS) (60 s by
//! default, never more than [`MAX_VERIFIED_TOKEN_SECS`](super::MAX_VERIFIED_TOKEN_SECS)) from the
//! verification that made it, then the token is verified in full again. A clock that went back
//! past the verification also ends the entry.
//!
//! The lookup and the redone steps are in `AccessJwt`'s `Verifier::verify` (`access_jwt/mod.rs`).

use std::rc::Rc;

use jwt_compact::alg::RsaPublicKey;

use super::settings::Times;
use super::state::AccessState;
use super::{AccessClaims, AccessSettings};

/// A token that passed every check that does not depend on the clock or on the current key
/// set — the strict header, the RS256 signature with `key`, the strict payload, `iss`, `aud`
/// and the identity claims under `settings` — with what those checks depended on.
pub(super) struct Verified {
    /// [`AccessState::tag_of`] the token.
    pub(super) tag: u64,
    pub(super) token: String,
    pub(super) settings: std::rc::Rc<AccessSettings>,
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
fn is_token(e: &Verified, tag: u64, token: &str) -> bool {
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
            let b = crate::identity::webcrypto::random_16()?;
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
            self.verified.borrow().iter().find(|e| is_token(e, tag, token) && *e.settings == *settings).cloned()?;
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
    #[cfg(feature = "test-support")]
    fn remembered_count(&self) -> usize {
        self.verified.borrow().len()
    }

    /// How many remembered tokens could still stand in for a verification at `now`, with the
    /// longest life a configuration can give them.
    #[cfg(feature = "test-support")]
    fn fresh_count(&self, now: u64) -> usize {
        self.verified.borrow().iter().filter(|e| e.fresh(now, super::MAX_VERIFIED_TOKEN_SECS)).count()
    }
}

/// Test hooks (feature `test-support`, not API): what this cache holds, for the tests of the
/// `tests` crate, which verify through [`VerifyCx`](crate::identity::VerifyCx) and cannot see
/// inside.
#[cfg(feature = "test-support")]
impl crate::identity::VerifierState {
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

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine as _;
    use jwt_compact::alg::RsaPrivateKey;
    use rsa::pkcs8::DecodePrivateKey as _;

    use super::*;

    const KEY_A: &str = include_str!("../../../../tests/fixtures/access/key-a.pem");

    fn private(pem: &str) -> RsaPrivateKey {
        let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        RsaPrivateKey::from_pkcs8_der(&STANDARD.decode(b64).unwrap()).unwrap()
    }

    #[test]
    fn remembered_tokens_are_found_by_keyed_tag_and_whole_string() {
        let (a, b) = ("aaaa.bbbb.cccc", "aaaa.bbbb.cccd");
        let state = AccessState::default();
        let (ta, tb) = (state.tag_of(a).unwrap(), state.tag_of(b).unwrap());
        assert_eq!(ta, state.tag_of(a).unwrap(), "one key per state");
        assert_ne!(ta, tb);
        let settings = AccessSettings::new("t.cloudflareaccess.com", "aud", None, 60).unwrap();
        let key = private(KEY_A).to_public_key();
        let claims = AccessClaims::Service { common_name: "c".into(), sub: String::new() };
        let times = Times { exp: Some(1), nbf: None, iat: None };
        let e = Verified {
            tag: ta,
            token: a.into(),
            settings: settings.into(),
            kid: "k".into(),
            key,
            times,
            claims,
            at: 0,
        };
        assert!(is_token(&e, ta, a));
        // A token with the same tag (a collision) but other bytes, or another length, is not it.
        assert!(!is_token(&e, ta, b));
        assert!(!is_token(&e, ta, "aaaa.bbbb.ccc"));
        assert!(!is_token(&e, tb, a));
    }
}
