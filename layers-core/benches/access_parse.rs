//! The Rust side of a first-time Access JWT verification, without the RS256 check: the strict
//! header, the payload and the claim checks ([`fuzz_check_unsigned`], feature `fuzzing`). In
//! Workers the signature is checked by WebCrypto, so this is what layers' own wasm spends per
//! uncached token (natively, `verify/AccessJwt` in `tests/benches/verify.rs` is dominated by
//! pure-Rust RSA instead). Id: `access/parse-and-claims`.
//!
//! `cargo bench -p layers-core --features fuzzing --bench access_parse`

#![allow(missing_docs)]

use std::hint::black_box;

use base64ct::{Base64UrlUnpadded, Encoding as _};
use criterion::{criterion_group, criterion_main, Criterion};
use layers_core::__fuzz::fuzz_check_unsigned;
use layers_core::identity::AccessSettings;

const NOW: u64 = 1_800_000_000;
const TEAM: &str = "layers-bench.cloudflareaccess.com";
const AUD: &str = "4714c1358e65fe4b408ad6d432a5f878f08194bdb4752441fd56faefa9b2b6f2";

/// A token shaped like Access's (header, claims and a 256-byte signature); never verified.
fn access_token() -> String {
    let header =
        r#"{"alg":"RS256","kid":"a6673b437eddbf0439ef37ee6cea1ece3b7ac98662f0a32e98480ef1a7a7201b","typ":"JWT"}"#;
    let payload = format!(
        r#"{{"aud":["{AUD}"],"email":"ada@example.com","exp":{},"iat":{},"nbf":{},"iss":"https://{TEAM}","type":"app","identity_nonce":"6ei69kawdKzMIAPF","sub":"7335d417-61da-459d-899c-0a01c76a2f94","country":"NL"}}"#,
        NOW + 300,
        NOW - 10,
        NOW - 10
    );
    let sig = [0x5au8; 256];
    format!(
        "{}.{}.{}",
        Base64UrlUnpadded::encode_string(header.as_bytes()),
        Base64UrlUnpadded::encode_string(payload.as_bytes()),
        Base64UrlUnpadded::encode_string(&sig)
    )
}

fn bench(c: &mut Criterion) {
    let settings = AccessSettings::new(TEAM, AUD, None, 60).unwrap();
    let token = access_token();
    fuzz_check_unsigned(&settings, &token, NOW).unwrap();
    let mut group = c.benchmark_group("access");
    group.bench_function("parse-and-claims", |b| {
        b.iter(|| black_box(fuzz_check_unsigned(black_box(&settings), black_box(&token), NOW).unwrap()));
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
