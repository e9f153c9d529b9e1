//! End-to-end test of the Worker's log, in real workerd (run through `cargo xtask test`, see
//! tests/tests/common/run.rs for the setup): a signed-token write and an API-key refusal walk the
//! three layers (request, identity, storage), a refusal's event holds no storage operation,
//! routes are logged by pattern, and no secret, token or address reaches the log.

mod common;

use std::time::Duration;

use common::*;

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn logs_walk_the_three_layers_and_hold_no_secret() {
    let email = unique("logs");
    assert_eq!(add_subscriber(&email).status, 201);
    let token = unsub_token(&email, now() + 3600);
    assert_eq!(send("POST", &format!("/api/unsubscribe/{token}"), &[], Some("")).status, 200);
    let k = key();
    assert_eq!(send("GET", "/api/subscribers", &[("x-api-key", &format!("{k}-wrong"))], None).status, 403);
    let path = log_path();
    let secrets = [key(), old_key(), signing_key()];
    let mut lines: Vec<serde_json::Value> = Vec::new();
    for _ in 0..40 {
        let text = std::fs::read_to_string(&path).expect("wrangler log");
        // Secrets appear nowhere in the output, not even wrangler's own lines.
        for s in &secrets {
            assert!(!text.contains(s.as_str()), "a secret appears in the log");
        }
        // The framework's layer lines carry neither the token nor the email. (wrangler's own
        // dev access log prints raw URLs; that line is not ours and not printed in production.)
        for l in text.lines().filter(|l| l.trim_start().starts_with('{')) {
            assert!(!l.contains(&token), "a token appears in a JSON log line: {l}");
            assert!(!l.contains(&email), "an email appears in a JSON log line: {l}");
        }
        lines = log_values(&text);
        let unsub = |layer: &str| {
            lines
                .iter()
                .any(|v| v["layer"] == layer && v["route"] == "/api/unsubscribe/:token" && v["method"] == "POST")
        };
        // The refusal was sent last: wait for its line too (this Worker's log holds only this
        // target's requests, so no other target's refusal can stand in for it).
        let refused = lines.iter().any(|v| {
            v["layer"] == "identity"
                && v["verifier"] == "ApiKey"
                && v["outcome"] == "deny"
                && v["route"] == "/api/subscribers"
        });
        if unsub("request") && unsub("identity") && unsub("storage") && refused {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let find = |pred: &dyn Fn(&serde_json::Value) -> bool| lines.iter().any(pred);
    assert!(find(&|v| v["layer"] == "identity"
        && v["verifier"] == "SignedToken<Unsubscribe>"
        && v["outcome"] == "allow"));
    assert!(find(&|v| v["layer"] == "storage"
        && v["binding"] == "DB"
        && v["op"] == "run"
        && v["route"] == "/api/unsubscribe/:token"));
    assert!(find(&|v| v["layer"] == "storage" && v["kind"] == "KV" && v["op"] == "put"));
    assert!(find(&|v| v["layer"] == "identity"
        && v["verifier"] == "ApiKey"
        && v["outcome"] == "deny"
        && v["status"] == 403));
    // The refusal's event: identity denied, and not one storage operation after it.
    let events = log_events(&std::fs::read_to_string(&path).expect("wrangler log"));
    let denied: Vec<_> =
        events.iter().filter(|e| e["route"] == "/api/subscribers" && e["identity"]["outcome"] == "deny").collect();
    assert!(!denied.is_empty(), "the refusal has its event");
    for e in denied {
        assert_eq!(e["request"]["outcome"], "denied", "{e}");
        assert_eq!(e["storage"], serde_json::json!([]), "storage after a denial: {e}");
    }
    // Routes are logged by pattern, never by the raw path (which held the token).
    assert!(!find(&|v| v["route"].as_str().is_some_and(|r| r.contains("v1."))));
}
