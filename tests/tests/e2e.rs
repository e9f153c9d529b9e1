//! End-to-end tests against the reference app running in real workerd (`wrangler dev`).
//!
//! Like every e2e target here, this one gets a Worker of its own (the test build, fresh local
//! state and secrets, its own loopback stubs) from `layers-test` on its first request
//! (`common/run.rs`); `cargo xtask e2e` runs it with `--ignored`, or `cargo xtask e2e --target
//! e2e` alone. Its tests run one at a time in name order against that Worker, and some rely on
//! it: the Access tests start with the Worker's key cache empty and leave the JWKS stub serving
//! key b, which `any_of_api_key_or_access` and the federation test rely on.
//!
//! Requests go through the harness's client, which writes them by hand over TCP so that the
//! path reaches the server byte for byte (no client-side normalization of `//`, `%2f` or dot
//! segments).

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::*;

// ---------------------------------------------------------------------------------------------
// Identity layer: Cloudflare Access (the JWKS of this target's `layers-stubs`, `stubs_url()`;
// the Worker's AUD, `access_aud()`). (The other identity schemes: identity_schemes.rs.)

/// Runs first (tests run in name order): the key cache of this target's Worker starts empty here.
#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn access_a_keys_unreachable_fail_closed_then_rotate() {
    let good = access_token("a", &kid("a"), &user_claims("admin@example.com"));
    // JWKS unreachable and nothing cached: 503, never 200.
    jwks_mode("down");
    assert_eq!(admin(&good).status, 503);
    // Garbage keys: still 503.
    wait_refetch_interval();
    jwks_mode("garbage");
    assert_eq!(admin(&good).status, 503);
    // Keys back: the same token passes, without restarting the Worker.
    wait_refetch_interval();
    jwks_mode("a");
    let r = admin(&good);
    assert_eq!(r.status, 200, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["admin"], "admin@example.com");
    assert_eq!(v["page"], "dashboard");
    // Rotation, step 1: the server publishes a and b; a token from b (unknown kid) refetches once.
    wait_refetch_interval();
    jwks_mode("ab");
    let new = access_token("b", &kid("b"), &user_claims("admin@example.com"));
    let before = jwks_fetches();
    assert_eq!(admin(&new).status, 200);
    assert_eq!(admin(&good).status, 200);
    assert_eq!(jwks_fetches(), before + 1, "one refetch for the new kid");
    // Unknown kids inside the interval cause no further fetch: rate-limited, then 403.
    let stranger = access_token("b", "zz", &user_claims("admin@example.com"));
    assert_eq!(admin(&stranger).status, 403);
    assert_eq!(admin(&stranger).status, 403);
    assert_eq!(jwks_fetches(), before + 1, "unknown kids must not hammer the JWKS endpoint");
    // Rotation, step 2: a is withdrawn. The next unknown kid refetches; a's tokens then fail.
    wait_refetch_interval();
    jwks_mode("b");
    assert_eq!(admin(&stranger).status, 403);
    assert_eq!(jwks_fetches(), before + 2);
    assert_eq!(admin(&good).status, 403, "tokens of a withdrawn key must be rejected");
    assert_eq!(admin(&new).status, 200);
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn access_b_attacks_are_refused() {
    // Runs after the rotation test: the stub serves key b (kid "b").
    let ok = access_token("b", &kid("b"), &user_claims("admin@example.com"));
    assert_eq!(admin(&ok).status, 200);
    assert_eq!(send("GET", "/admin/dashboard", &[], None).status, 401);
    let t = now();
    let with = |patch: serde_json::Value| {
        let mut c = user_claims("admin@example.com");
        for (k, v) in patch.as_object().unwrap() {
            if v.is_null() {
                c.as_object_mut().unwrap().remove(k);
            } else {
                c[k] = v.clone();
            }
        }
        access_token("b", &kid("b"), &c)
    };
    let b64 = |s: &str| {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
    };
    let parts: Vec<String> = ok.split('.').map(str::to_owned).collect();
    let payload = parts[1].clone();
    let mut flipped = parts[2].clone().into_bytes();
    flipped[10] = if flipped[10] == b'A' { b'B' } else { b'A' };
    let attacks: Vec<(&str, String)> = vec![
        ("expired", with(serde_json::json!({ "exp": t - 3600 }))),
        ("not yet valid", with(serde_json::json!({ "nbf": t + 3600 }))),
        ("issued in the future", with(serde_json::json!({ "iat": t + 3600 }))),
        ("no exp", with(serde_json::json!({ "exp": null }))),
        ("wrong aud", with(serde_json::json!({ "aud": ["someone-else"] }))),
        ("wrong iss", with(serde_json::json!({ "iss": "https://evil.cloudflareaccess.com" }))),
        ("iss over http", with(serde_json::json!({ "iss": "http://layers-e2e.cloudflareaccess.com" }))),
        ("alg none", format!("{}.{payload}.", b64(&format!(r#"{{"alg":"none","kid":"{}","typ":"JWT"}}"#, kid("b"))))),
        (
            "alg HS256",
            format!(
                "{}.{payload}.{}",
                b64(&format!(r#"{{"alg":"HS256","kid":"{}","typ":"JWT"}}"#, kid("b"))),
                parts[2]
            ),
        ),
        (
            "duplicate alg",
            format!(
                "{}.{payload}.{}",
                b64(&format!(r#"{{"alg":"HS256","alg":"RS256","kid":"{}"}}"#, kid("b"))),
                parts[2]
            ),
        ),
        ("kid path", access_token("b", "../../etc/passwd", &user_claims("admin@example.com"))),
        ("kid sql", access_token("b", "' OR 1=1 --", &user_claims("admin@example.com"))),
        ("signed by a, claims kid b", access_token("a", &kid("b"), &user_claims("admin@example.com"))),
        ("bit-flipped signature", format!("{}.{}.{}", parts[0], parts[1], String::from_utf8(flipped).unwrap())),
        ("truncated", ok[..ok.len() - 20].to_owned()),
        ("two parts", format!("{}.{}", parts[0], parts[1])),
        ("not base64", format!("{}.{payload}.%%%", parts[0])),
        ("oversized", format!("{}.{}.{}", parts[0], "A".repeat(9000), parts[2])),
        ("not allowlisted", access_token("b", &kid("b"), &user_claims("intruder@example.com"))),
        (
            "service token",
            with(serde_json::json!({ "email": null, "common_name": "svc.access", "sub": "", "type": "app" })),
        ),
    ];
    for (name, token) in &attacks {
        let r = admin(token);
        assert!(matches!(r.status, 401 | 403), "{name}: {} {}", r.status, r.body);
        assert!(!r.body.contains("admin"), "{name} leaked data");
    }
    // Allowlist matches case-insensitively (ADMIN_EMAILS holds `Ops@Example.com`).
    assert_eq!(admin(&access_token("b", &kid("b"), &user_claims("ops@example.COM"))).status, 200);
    // Cookie fallback, and the header wins over the cookie.
    let cookie = format!("CF_Authorization={ok}");
    sensitive(&cookie);
    assert_eq!(send("GET", "/admin/x", &[("cookie", &cookie)], None).status, 200);
    let bad_cookie = format!("CF_Authorization={}", attacks[0].1);
    assert_eq!(send("GET", "/admin/x", &[("cookie", &bad_cookie), ("cf-access-jwt-assertion", &ok)], None).status, 200);
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn access_c_admin_writes_flags_with_an_audit_row() {
    let ok = access_token("b", &kid("b"), &user_claims("admin@example.com"));
    let h = [("cf-access-jwt-assertion", ok.as_str()), ("content-type", "application/json")];
    let r = send("POST", "/admin/flags/new-editor", &h, Some("{\"on\":true}"));
    assert_eq!(r.status, 200, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&admin(&ok).body).unwrap();
    assert!(v["flags"].as_array().unwrap().iter().any(|f| f == "new-editor"), "{v}");
    assert_eq!(
        send("POST", "/admin/flags/x", &[("content-type", "application/json")], Some("{\"on\":true}")).status,
        401
    );
    let r = send("POST", "/admin/flags/new-editor", &h, Some("{\"on\":false}"));
    assert_eq!(r.status, 200);
    let v: serde_json::Value = serde_json::from_str(&admin(&ok).body).unwrap();
    assert!(!v["flags"].as_array().unwrap().iter().any(|f| f == "new-editor"), "{v}");
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn any_of_api_key_or_access() {
    let k = key();
    let r = send("GET", "/api/whoami", &[("x-api-key", &k)], None);
    assert_eq!(r.status, 200);
    assert!(r.body.contains("api-key"), "{}", r.body);
    // Any valid Access user (no allowlist on this route).
    let t = access_token("b", &kid("b"), &user_claims("reader@example.com"));
    let r = send("GET", "/api/whoami", &[("cf-access-jwt-assertion", &t)], None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("reader@example.com"));
    assert_eq!(get("/api/whoami").status, 401);
    assert_eq!(send("GET", "/api/whoami", &[("x-api-key", "nope-nope-nope-nope")], None).status, 403);
}

// ---------------------------------------------------------------------------------------------
// Outbound identity: OIDC federation against the STS stub (`POST /sts` on `stubs_url()`).
// The Worker signs with fixture key a (secret FEDERATION_KEY); the stub trusts its public half.

fn sts_count() -> u64 {
    stub("GET", "/__control/sts-count", None).trim().parse().expect("sts count")
}

fn sts_mode(mode: &str) {
    assert_eq!(stub("POST", "/__control/sts", Some(mode)), "ok");
}

fn backup_credentials(token: Option<&str>) -> Resp {
    match token {
        Some(t) => send("GET", "/admin/backup-credentials", &[("cf-access-jwt-assertion", t)], None),
        None => get("/admin/backup-credentials"),
    }
}

/// Runs after the `access_*` tests (name order): the JWKS stub serves key b by now.
#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn federation_exchanges_once_then_caches() {
    let ok = access_token("b", &kid("b"), &user_claims("admin@example.com"));
    // No identity, or a non-admin: the route's verifier decides before any STS call.
    let before = sts_count();
    assert_eq!(backup_credentials(None).status, 401);
    let outsider = access_token("b", &kid("b"), &user_claims("intruder@example.com"));
    assert_eq!(backup_credentials(Some(&outsider)).status, 403);
    assert_eq!(sts_count(), before);

    // The STS refuses: 502, no detail to the client, and nothing is cached.
    sts_mode("refuse");
    let r = backup_credentials(Some(&ok));
    sts_mode("ok");
    assert_eq!(r.status, 502, "{}", r.body);
    assert_eq!(r.body, "internal error\n");
    assert_eq!(sts_count(), before);

    // First call: a fresh exchange.
    let r = backup_credentials(Some(&ok));
    assert_eq!(r.status, 200, "{}", r.body);
    let first: serde_json::Value = serde_json::from_str(&r.body).expect("json");
    assert_eq!(first["from_cache"], false, "{first}");
    assert!(first["access_key_id"].as_str().is_some_and(|k| k.starts_with("ASIA")), "{first}");
    let exp = first["expiration"].as_u64().expect("expiration");
    assert!(exp > now() + 3000 && exp <= now() + 3700, "expires in about an hour: {exp}");
    assert_eq!(sts_count(), before + 1, "one exchange");

    // Second call: from the KV cache, no exchange.
    let r = backup_credentials(Some(&ok));
    assert_eq!(r.status, 200, "{}", r.body);
    let second: serde_json::Value = serde_json::from_str(&r.body).expect("json");
    assert_eq!(second["from_cache"], true, "{second}");
    assert_eq!(second["access_key_id"], first["access_key_id"]);
    assert_eq!(second["expiration"], first["expiration"]);
    assert_eq!(sts_count(), before + 1, "served from the cache");
    assert_eq!(backup_credentials(None).status, 401, "the cache is behind the identity too");

    // A route with its own handle on the same KV namespace can neither read, overwrite, delete
    // nor list the cached credentials (keys under `layers:` belong to layers; test build only).
    let attack = send("POST", "/__attack/federation-cache", &[("x-api-key", &key())], Some(""));
    assert_eq!(attack.status, 200, "{}", attack.body);
    let a: serde_json::Value = serde_json::from_str(&attack.body).expect("json");
    for refused in ["read_refused", "write_refused", "delete_refused", "list_reserved_refused"] {
        assert_eq!(a[refused], true, "{refused}: {a}");
    }
    assert_eq!(a["listed_reserved"], false, "{a}");
    let r = backup_credentials(Some(&ok));
    let third: serde_json::Value = serde_json::from_str(&r.body).expect("json");
    assert_eq!(third["access_key_id"], first["access_key_id"], "the cache was not overwritten");
    assert_eq!(third["from_cache"], true);

    // Only the key id and expiry leave the Worker: no secret key, no session token, and
    // neither they, the assertion nor the signing key reach the log.
    for body in [&r.body, &serde_json::to_string(&first).unwrap()] {
        for secret in ["stubsecret", "stubsession", "SecretAccessKey", "SessionToken", "secret_access_key"] {
            assert!(!body.contains(secret), "response leaks {secret}: {body}");
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    let log = std::fs::read_to_string(log_path()).expect("wrangler log");
    let pem = std::fs::read_to_string(format!("{}/fixtures/access/key-a.pem", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let key_line = pem.lines().nth(5).expect("a PEM body line");
    for secret in ["stubsecret", "stubsession", key_line] {
        assert!(!log.contains(secret), "the log holds secret material ({secret})");
    }
    assert!(!log.contains("WebIdentityToken="), "the log holds the assertion");
    assert!(
        log_values(&log)
            .iter()
            .any(|v| v["layer"] == "storage" && v["route"] == "/admin/backup-credentials" && v["op"] == "put"),
        "the cache write is logged as a storage event"
    );
}

// ---- platform events: cron triggers and queues ------------------------------------------
// These look for their log lines in the whole log of this target's Worker: admin.rs fires the
// same cron (`0 2 * * SUN`) and consumes the same `reindex` queue, but on a Worker (and a log)
// of its own.

fn events_now() -> serde_json::Value {
    let k = key();
    let r = send("GET", "/api/events", &[("x-api-key", &k)], None);
    assert_eq!(r.status, 200, "{}", r.body);
    serde_json::from_str(&r.body).expect("json")
}

/// Polls `/api/events` until `done` holds (queues deliver in the background).
fn wait_events(what: &str, done: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
    for _ in 0..120 {
        let v = events_now();
        if done(&v) {
            return v;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    panic!("timed out waiting for {what}: {}", events_now());
}

fn unique_slug(prefix: &str) -> String {
    let n = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    format!("{prefix}-{n}")
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn event_cron_runs_as_system_and_writes_d1() {
    let before = events_now()["digest_runs"].as_array().unwrap().len();
    let r = get("/__scheduled?cron=0+2+*+*+SUN");
    assert_eq!(r.status, 200, "{}", r.body);
    let v = wait_events("the digest run", |v| v["digest_runs"].as_array().unwrap().len() > before);
    let run = v["digest_runs"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(run["cron"], "0 2 * * SUN");
    assert!(run["scheduled_at"].as_i64().unwrap() > 0);
    let lines = wait_log("the cron's three layers", |ls| {
        let cron = |layer: &str| {
            ls.iter().any(|l| l["layer"] == layer && l["event"] == "scheduled" && l["route"] == "0 2 * * SUN")
        };
        cron("request") && cron("identity") && cron("storage")
    });
    assert!(lines.iter().any(|l| l["layer"] == "identity"
        && l["event"] == "scheduled"
        && l["verifier"] == "System"
        && l["outcome"] == "allow"));
    assert!(lines
        .iter()
        .any(|l| l["layer"] == "storage" && l["event"] == "scheduled" && l["binding"] == "DB" && l["op"] == "run"));
    assert!(lines.iter().any(|l| l["layer"] == "request"
        && l["event"] == "scheduled"
        && l["route"] == "0 2 * * SUN"
        && l["outcome"] == "handled"));
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn event_cron_without_a_handler_is_logged() {
    let before = events_now()["digest_runs"].as_array().unwrap().len();
    assert_eq!(get("/__scheduled?cron=5+4+*+*+*").status, 200);
    wait_log("the unhandled cron", |ls| {
        ls.iter().any(|l| l["event"] == "scheduled" && l["outcome"] == "no_handler" && l["cron"] == "5 4 * * *")
    });
    // Nothing ran: no digest row for it (the cron handler test may add its own, never this one's).
    let runs = events_now()["digest_runs"].as_array().unwrap().clone();
    assert!(runs.iter().skip(before).all(|r| r["cron"] == "0 2 * * SUN"));
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn event_queue_message_is_consumed_into_d1() {
    let k = key();
    let one = unique_slug("post");
    let r = send(
        "POST",
        "/api/reindex",
        &[("x-api-key", &k), ("content-type", "application/json")],
        Some(&format!("{{\"slug\":\"{one}\",\"reason\":\"edited: «ü»\"}}")),
    );
    assert_eq!(r.status, 202, "{}", r.body);
    let (a, b) = (unique_slug("batch-a"), unique_slug("batch-b"));
    let r = send(
        "POST",
        "/api/reindex",
        &[("x-api-key", &k), ("content-type", "application/json")],
        Some(&format!("[{{\"slug\":\"{a}\",\"reason\":\"bulk\"}},{{\"slug\":\"{b}\",\"reason\":\"bulk\"}}]")),
    );
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(serde_json::from_str::<serde_json::Value>(&r.body).unwrap()["queued"], 2);
    let v = wait_events("three reindexed posts", |v| {
        let rows = v["reindexed"].as_array().unwrap();
        [&one, &a, &b].iter().all(|s| rows.iter().any(|r| r["slug"] == s.as_str()))
    });
    let row = v["reindexed"].as_array().unwrap().iter().find(|r| r["slug"] == one.as_str()).unwrap().clone();
    // The typed message arrived intact, non-ASCII included.
    assert_eq!(row["reason"], "edited: «ü»");
    // Sending is a storage operation of the route; consuming runs as System.
    let lines = wait_log("producer and consumer lines", |ls| {
        ls.iter().any(|l| l["layer"] == "storage" && l["kind"] == "Queue" && l["op"] == "send_batch")
            && ls.iter().any(|l| l["layer"] == "identity" && l["event"] == "queue" && l["route"] == "reindex")
    });
    assert!(lines.iter().any(|l| l["layer"] == "storage"
        && l["kind"] == "Queue"
        && l["binding"] == "REINDEX"
        && l["op"] == "send"
        && l["route"] == "/api/reindex"));
    assert!(lines.iter().any(|l| l["layer"] == "identity" && l["event"] == "queue" && l["verifier"] == "System"));
    // The producer needs the key like any other storage.
    let r = send(
        "POST",
        "/api/reindex",
        &[("content-type", "application/json")],
        Some("{\"slug\":\"x\",\"reason\":\"y\"}"),
    );
    assert_eq!(r.status, 401);
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn event_queue_poison_messages_are_retried_then_dead_lettered() {
    let k = key();
    // A message the consumer cannot decode as a ReindexJob: a bare string.
    let poison = unique_slug("poison");
    let r = send("POST", "/api/reindex/raw", &[("x-api-key", &k)], Some(&poison));
    assert_eq!(r.status, 202, "{}", r.body);
    // A well-formed job the consumer explicitly retries.
    let failing = unique_slug("fail");
    let r = send(
        "POST",
        "/api/reindex",
        &[("x-api-key", &k), ("content-type", "application/json")],
        Some(&format!("{{\"slug\":\"{failing}\",\"reason\":\"always retried\"}}")),
    );
    assert_eq!(r.status, 202, "{}", r.body);
    let v = wait_events("both messages in the dead-letter table", |v| {
        let dead = v["dead_letters"].as_array().unwrap();
        let has = |s: &str| dead.iter().any(|d| d.as_str().is_some_and(|d| d.contains(s)));
        has(&poison) && has(&failing)
    });
    // Neither was ever processed as a job.
    assert!(!v["reindexed"].as_array().unwrap().iter().any(|r| r["slug"] == failing.as_str()));
    // The undecodable one was logged on each delivery (first try + max_retries = 1), with the
    // type it failed to decode into, and retried each time; never dropped silently.
    let lines = wait_log("undecodable-message lines", |ls| {
        ls.iter()
            .filter(|l| l["event"] == "queue" && l["route"] == "reindex" && l["outcome"] == "message_undecodable")
            .count()
            >= 2
            && ls.iter().any(|l| {
                l["layer"] == "request" && l["event"] == "queue" && l["route"] == "reindex" && l["attempts"] == 2
            })
    });
    let undecodable: Vec<_> =
        lines.iter().filter(|l| l["outcome"] == "message_undecodable" && l["route"] == "reindex").collect();
    assert!(undecodable.iter().all(|l| l["action"] == "retry" && l["type"].as_str().unwrap().ends_with("ReindexJob")));
    // Each delivery says which attempt it is: one message seen at attempt 1, then at 2.
    let mut by_id: std::collections::BTreeMap<String, Vec<u64>> = std::collections::BTreeMap::new();
    for l in &undecodable {
        by_id.entry(l["message_id"].as_str().unwrap().to_owned()).or_default().push(l["attempts"].as_u64().unwrap());
    }
    assert!(by_id.values().any(|a| a.as_slice() == [1, 2]), "attempts per message: {by_id:?}");
    // The batch's request lines carry the highest attempt too.
    let batches: Vec<_> = lines
        .iter()
        .filter(|l| l["layer"] == "request" && l["event"] == "queue" && l["route"] == "reindex" && l["status"].is_u64())
        .collect();
    assert!(batches.iter().any(|l| l["attempts"] == 1) && batches.iter().any(|l| l["attempts"] == 2), "{batches:?}");
    // The message body itself is not logged.
    assert!(!lines.iter().any(|l| l.to_string().contains(&poison)));
    // The dead-letter consumer ran as System too.
    assert!(lines.iter().any(|l| l["layer"] == "identity" && l["event"] == "queue" && l["route"] == "reindex-dlq"));
}

// ---- log lines other targets write too ---------------------------------------------------
// These find their wide events in the whole log: a `GET /blog/:slug` with `After` work, and a
// Durable Object's call, identity and storage. blog.rs (post pages; the abuse guard's
// `RateLimiter`) writes lines of the same shape, to the log of its own Worker.

fn views(body: &str) -> u64 {
    let end = body.find(" views</p>").expect("views counter");
    body[..end].rsplit('>').next().unwrap().parse().unwrap()
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn after_the_response_work_uses_the_request_scope() {
    let first = views(&get("/blog/hello-layers").body);
    // The counter is bumped after the first response went out; it must land shortly.
    let mut seen = first;
    for _ in 0..50 {
        seen = views(&get("/blog/hello-layers").body);
        if seen > first {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(seen > first, "views stayed at {first}");
    // One wide event per request holds the three layers, the `After` work's update included.
    let text = || std::fs::read_to_string(log_path()).expect("wrangler log");
    let is_post = |e: &serde_json::Value| e["route"] == "/blog/:slug" && e["request"]["status"] == 200;
    let mut events = Vec::new();
    for _ in 0..40 {
        events = log_events(&text()).into_iter().filter(is_post).collect();
        if events.iter().any(|e| e["storage"].as_array().unwrap().iter().any(|op| op["after"] == true)) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let e = events
        .iter()
        .find(|e| e["storage"].as_array().unwrap().iter().any(|op| op["after"] == true))
        .unwrap_or_else(|| panic!("no event of GET /blog/:slug with After work: {events:?}"));
    assert_eq!(e["event"], "fetch");
    assert_eq!(e["method"], "GET");
    assert_eq!(e["request"]["outcome"], "handled");
    assert!(e["request"]["ms"].is_u64() && e["request"]["scope_ms"].is_u64(), "{e}");
    assert_eq!(e["identity"]["verifier"], "Public");
    assert_eq!(e["identity"]["outcome"], "allow");
    let ops = e["storage"].as_array().unwrap();
    let (before, after): (Vec<_>, Vec<_>) = ops.iter().partition(|op| op["after"].is_null());
    // Before the answer: the post's D1 reads, and its related posts' lookups in POSTS_INDEX
    // (when the shared stand-in has a vector for it: another target may have embedded it).
    let page_op = |op: &serde_json::Value| op["kind"] == "D1" || op["binding"] == "POSTS_INDEX";
    assert!(before.iter().all(|op| page_op(op) && op["outcome"] == "ok"), "{e}");
    assert!(!before.is_empty(), "the page's read is in the event: {e}");
    assert!(after.iter().any(|op| op["kind"] == "D1" && op["op"] == "run" && op["binding"] == "DB"), "{e}");
    // After work comes after the answer, in order.
    let first_after = ops.iter().position(|op| op["after"] == true).unwrap();
    assert!(ops[first_after..].iter().all(|op| op["after"] == true), "{e}");
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn storage_durable_object_rate_limiter_returns_429_after_its_limit() {
    let k = key();
    let bucket = unique("do").replace(['@', '.'], "-");
    let path = format!("/api/limited/{bucket}");
    assert_eq!(send("POST", &path, &[], Some("")).status, 401);
    for n in 1..=3 {
        let r = send("POST", &path, &[("x-api-key", &k)], Some(""));
        assert_eq!(r.status, 200, "call {n}: {}", r.body);
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(v["count"], n);
    }
    let r = send("POST", &path, &[("x-api-key", &k)], Some(""));
    assert_eq!(r.status, 429, "{}", r.body);
    assert_eq!(r.header("retry-after"), Some("60"));
    // Another bucket is another object, with its own count.
    let other = send("POST", &format!("{path}-other"), &[("x-api-key", &k)], Some(""));
    assert_eq!(other.status, 200, "{}", other.body);
    // The route's typed call, and inside the object (written with `#[durable_object]`): the
    // call's identity, then its own storage, each logged as a layer of its own.
    assert!(storage_log_line(|v| v["kind"] == "DurableObject" && v["op"] == "call" && v["outcome"] == "ok").is_some());
    assert!(storage_log_line(|v| v["layer"] == "identity"
        && v["verifier"] == "DurableCaller"
        && v["outcome"] == "allow")
    .is_some());
    assert!(storage_log_line(|v| v["kind"] == "ObjectStorage" && v["binding"] == "RateLimiter" && v["op"] == "put")
        .is_some());
}
