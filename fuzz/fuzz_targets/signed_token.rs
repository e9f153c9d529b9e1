//! `SignedToken`: decoding and verification of arbitrary strings. The only tokens that verify
//! are the ones `mint` makes (the format is canonical), so a pass that `mint` would not have
//! produced byte for byte is a forgery.

#![no_main]

use layers_core::identity::{mint, DefaultToken, SignedToken, TokenError};
use libfuzzer_sys::fuzz_target;

const KEY: &[u8] = b"fuzzing-key-0123456789abcdef-0123456789";
const NOW: u64 = 1_800_000_000;

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else { return };
    match SignedToken::<DefaultToken>::verify_token(KEY, "token", token, NOW) {
        Ok(claims) => {
            assert!(claims.expires_at > NOW);
            assert_eq!(mint(KEY, "token", &claims.payload, claims.expires_at), token, "non-canonical token verified");
        }
        Err(TokenError::Malformed | TokenError::BadSignature | TokenError::Expired) => {}
    }
    // The token as a payload: minting anything round-trips.
    let t = mint(KEY, "token", token, NOW + 1);
    let back = SignedToken::<DefaultToken>::verify_token(KEY, "token", &t, NOW);
    if t.len() <= layers_core::identity::MAX_TOKEN_LEN {
        assert_eq!(back.expect("minted token verifies").payload, token);
    } else {
        assert_eq!(back, Err(TokenError::Malformed));
    }
});
