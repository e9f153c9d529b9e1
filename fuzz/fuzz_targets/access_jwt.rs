//! Cloudflare Access JWTs: the strict header check, jwt-compact's compact parsing, the strict
//! payload and the claim checks (signature skipped through the `fuzzing` hook), the full
//! verification against a real JWKS (which must never pass: nobody here holds the key), and
//! JWKS parsing.
//!
//! Input: byte 0 picks the mode, the rest is the token (or the JWKS document).

#![no_main]

use layers_core::__fuzz::fuzz_check_unsigned;
use layers_core::identity::{AccessClaims, AccessSettings, Jwks};
use libfuzzer_sys::fuzz_target;

const JWKS_A: &str = include_str!("../../tests/fixtures/access/jwks-a.json");
const NOW: u64 = 1_800_000_000;

thread_local! {
    static SETUP: (AccessSettings, Jwks) = (
        AccessSettings::new("layers-test.cloudflareaccess.com", "aud-1, aud-2", None, 60).expect("settings"),
        Jwks::parse(JWKS_A.as_bytes()).expect("fixture JWKS"),
    );
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    if mode % 4 == 3 {
        // JWKS documents: parse, and every kept key is findable by its kid.
        if let Ok(jwks) = Jwks::parse(rest) {
            assert!(!jwks.is_empty());
            let kids: Vec<String> = jwks.kids().map(str::to_owned).collect();
            for kid in &kids {
                assert!(jwks.get(kid).is_some());
            }
        }
        return;
    }
    let Ok(token) = std::str::from_utf8(rest) else { return };
    SETUP.with(|(settings, jwks)| {
        // Past the signature: whatever passes has the shape the handler relies on.
        if let Ok(claims) = fuzz_check_unsigned(settings, token, NOW) {
            match claims {
                AccessClaims::User { email, sub, .. } => assert!(!email.is_empty() && !sub.is_empty()),
                AccessClaims::Service { common_name, .. } => assert!(!common_name.is_empty()),
            }
        }
        // With the signature: a token the fuzzer made can never verify.
        let verified = settings.verify(token, jwks, NOW);
        assert!(verified.is_err(), "a forged token verified");
        assert_eq!(verified.unwrap_err().status(), 403);
    });
});
