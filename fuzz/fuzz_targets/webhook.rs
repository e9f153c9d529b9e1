//! Svix / Standard Webhooks: header picking (both spellings, duplicates), id/timestamp/signature
//! parsing and the constant-time signature check, driven through the real `Verifier` with a
//! hand-built `VerifyCx`. A delivery the fuzzer made passes only when its signature header
//! carries the signature `sign_webhook` computes for it.
//!
//! Input: `\n`-separated header lines `name: value` (at most 8), then a blank line, then the body.

#![no_main]

use futures::executor::block_on;
use layers_core::identity::{sign_webhook, webhook_key, Verifier, VerifyCx, Webhook};
use libfuzzer_sys::fuzz_target;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const NOW: u64 = 1_614_265_330;

fuzz_target!(|data: &[u8]| {
    let (head, body) = match data.windows(2).position(|w| w == b"\n\n") {
        Some(i) => (&data[..i], &data[i + 2..]),
        None => (data, &[][..]),
    };
    let Ok(head) = std::str::from_utf8(head) else { return };
    let mut cx = VerifyCx::builder()
        .method("POST")
        .now(NOW)
        .secrets(|n| (n == "WEBHOOK_SECRET").then(|| SECRET.to_owned()))
        .body(body);
    let mut sent: Vec<(String, String)> = Vec::new();
    for line in head.lines().take(8) {
        if let Some((k, v)) = line.split_once(':') {
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().to_owned());
            cx = cx.header(&k, &v);
            sent.push((k, v));
        }
    }
    let cx = cx.build();
    let result = block_on(<Webhook as Verifier>::verify(&cx));
    if let Ok(claims) = result {
        let ts = claims.timestamp.to_string();
        let expected = sign_webhook(SECRET, &claims.id, claims.timestamp, body).expect("secret decodes");
        let sig = sent.iter().find(|(k, _)| k == "svix-signature" || k == "webhook-signature").map(|(_, v)| v);
        let sig = sig.expect("a signature header was sent");
        assert!(sig.split(' ').any(|e| e == expected), "a delivery without the right signature passed");
        assert!(sent.iter().any(|(k, v)| k.ends_with("-timestamp") && *v == ts));
    }
    // The secret parser on the same text.
    let _ = webhook_key(head);
});
