//! layers-test against the reference app (`app/`) in workerd: every credential the harness
//! mints is accepted (or refused) by the app's real verifiers, the storage behind a request is
//! read back from local D1 and KV, a cron trigger runs, and each request's log event is found.
//!
//! The tests share one Worker and run in parallel: each uses data of its own (a unique email,
//! flag name or client address) and asserts on that.

use std::time::Duration;

mod common;

use common::ADMIN;
use layers_test::AccessToken;
use serde::Deserialize;

/// A value no other test (or earlier run) uses.
fn unique(prefix: &str) -> String {
    let n = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("{prefix}-{n}")
}

#[test]
fn an_admin_reads_the_dashboard_and_a_stranger_cannot() {
    let Some(app) = common::app() else { return };
    #[derive(Deserialize)]
    struct Dashboard {
        admin: String,
        page: String,
    }
    let resp = app.get("/admin/").as_access(ADMIN).send();
    resp.assert_status(200);
    let d: Dashboard = resp.json();
    assert_eq!((d.admin.as_str(), d.page.as_str()), (ADMIN, ""));
    let ev = resp.log();
    assert!(ev.identity_allowed(), "{:?}", ev.raw());
    assert_eq!(ev.route(), "/admin/*");
    assert!(ev.storage_on("DB").iter().any(|s| s["op"] == "first"), "{:?}", ev.raw());

    // No token: 401; someone else's email, an expired token, another AUD: 403.
    app.get("/admin/").send().assert_status(401);
    app.get("/admin/").as_access("ada@example.com").send().assert_status(403);
    app.get("/admin/").access(&AccessToken::user(ADMIN).expired()).send().assert_status(403);
    app.get("/admin/").access(&AccessToken::user(ADMIN).audience("another-app")).send().assert_status(403);
    // A service token has no email: the allowlist refuses it.
    app.get("/admin/").access(&AccessToken::service("robot.access")).send().assert_status(403);
    // The browser's cookie works as the header does.
    app.get("/admin/").access_cookie(&AccessToken::user(ADMIN).groups(["staff"])).send().assert_status(200);
}

#[test]
fn an_admin_write_lands_in_d1_and_kv() {
    let Some(app) = common::app() else { return };
    let flag = unique("f").replace('-', "_");
    let resp = app.post(&format!("/admin/flags/{flag}")).as_access(ADMIN).json(&serde_json::json!({"on": true})).send();
    resp.assert_status(200);
    #[derive(Deserialize, Debug, PartialEq)]
    struct Audit {
        actor: String,
        action: String,
    }
    let rows: Vec<Audit> =
        app.d1("DB").query(&format!("SELECT actor, action FROM admin_audit WHERE action = 'flag {flag} on'"));
    assert_eq!(rows, [Audit { actor: ADMIN.into(), action: format!("flag {flag} on") }]);
    assert_eq!(app.kv("KV").get(&format!("flag:{flag}")).as_deref(), Some("on"));
    let ev = resp.log();
    let ops: Vec<(&str, &str)> =
        ev.storage().iter().map(|s| (s["binding"].as_str().unwrap(), s["op"].as_str().unwrap())).collect();
    assert_eq!(ops, [("KV", "put"), ("DB", "run")], "{:?}", ev.raw());
}

#[test]
fn the_api_key_opens_the_subscriber_api() {
    let Some(app) = common::app() else { return };
    let email = format!("{}@example.com", unique("sub"));
    app.post("/api/subscribers").json(&serde_json::json!({ "email": email })).send().assert_status(401);
    app.post("/api/subscribers")
        .header("x-api-key", "not-the-key-at-all")
        .json(&serde_json::json!({ "email": email }))
        .send()
        .assert_status(403);
    app.post("/api/subscribers").with_api_key().json(&serde_json::json!({ "email": email })).send().assert_status(201);
    let n = app.d1("DB").scalar(&format!("SELECT COUNT(*) FROM subscribers WHERE email = '{email}'"));
    assert_eq!(n, 1);
    let list: serde_json::Value =
        app.get("/api/subscribers?limit=1000").with_api_key().send().assert_status(200).json();
    assert!(list.to_string().contains(&email));
    // A typed body the handler cannot read: problem+json naming the field.
    app.post("/api/subscribers/typed")
        .with_api_key()
        .json(&serde_json::json!({ "mail": email }))
        .send()
        .assert_problem(400, "email");
}

#[test]
fn a_signed_token_unsubscribes_its_own_email() {
    let Some(app) = common::app() else { return };
    let email = format!("{}@example.com", unique("unsub"));
    app.post("/api/subscribers").with_api_key().json(&serde_json::json!({ "email": email })).send().assert_status(201);
    let token = app.signed_token::<app::Unsubscribe>(&email, Duration::from_secs(600));
    app.post(&format!("/api/unsubscribe/{token}")).send().assert_status(200);
    let status: Vec<serde_json::Value> =
        app.d1("DB").query(&format!("SELECT status FROM subscribers WHERE email = '{email}'"));
    assert_eq!(status[0]["status"], "unsubscribed");
    // A token for another purpose (the confirmation link) is refused here.
    let confirm = app.signed_token::<app::blog::Confirm>(&email, Duration::from_secs(600));
    app.post(&format!("/api/unsubscribe/{confirm}")).send().assert_status(403);
}

#[test]
fn a_signed_webhook_is_stored_and_a_forged_one_is_not() {
    let Some(app) = common::app() else { return };
    let id = unique("msg");
    let body = serde_json::json!({"type": "email.received", "data": {"message_id": id, "from": "Ada <ada@example.com>", "subject": "hi"}}).to_string();
    let resp = app.post("/api/email-inbound").webhook(body.clone()).send();
    resp.assert_status(200);
    assert_eq!(resp.json::<serde_json::Value>()["stored"], true);
    // A signature the secret did not make: 403, and no storage touched.
    let forged = app
        .post("/api/email-inbound")
        .header("svix-id", "msg_forged")
        .header("svix-timestamp", &layers_now().to_string())
        .header("svix-signature", "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
        .body("application/json", "{}")
        .send();
    forged.assert_status(403);
    forged.log().assert_denied_before_storage();
    // Redelivered (a new svix-id, the same message id): verified, not stored twice.
    let again = app.post("/api/email-inbound").webhook(body).send();
    assert_eq!(again.assert_status(200).json::<serde_json::Value>()["stored"], false);
}

fn layers_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

#[test]
fn turnstile_passes_once_and_fails_when_refused() {
    let Some(app) = common::app() else { return };
    let ip = format!("198.51.100.{}", layers_now() % 250);
    let name = unique("contact");
    let form = [("name", name.as_str()), ("email", "ada@example.com"), ("message", "hello")];
    let pass = app.turnstile_pass();
    let send = |token: &str| {
        app.post("/api/contact")
            .header("cf-connecting-ip", &ip)
            .header("cf-turnstile-response", token)
            .form(&form)
            .send()
    };
    send(&pass).assert_status(201);
    // Single use: the same token again is refused by siteverify.
    send(&pass).assert_status(403);
    let failed = app.post("/api/contact").header("cf-connecting-ip", &ip).turnstile_fail().form(&form).send();
    failed.assert_status(403);
    failed.log().assert_denied_before_storage();
    assert_eq!(app.d1("DB").scalar(&format!("SELECT COUNT(*) FROM contacts WHERE name = '{name}'")), 1);
}

#[test]
fn the_weekly_cron_runs_as_system() {
    let Some(app) = common::app() else { return };
    let ev = app.cron("0 2 * * SUN");
    assert_eq!(ev.event(), "scheduled");
    assert_eq!(ev.verifier(), Some("System"));
    assert!(ev.identity_allowed(), "{:?}", ev.raw());
    assert!(!ev.storage_on("DB").is_empty(), "{:?}", ev.raw());
    assert!(app.d1("DB").scalar("SELECT COUNT(*) FROM digest_runs") >= 1);
}

#[test]
fn requests_can_be_awaited_on_any_executor() {
    let Some(app) = common::app() else { return };
    futures::executor::block_on(async {
        let resp = app.get("/admin/").as_access(ADMIN).await;
        resp.assert_status(200);
    });
}

#[test]
fn an_uploaded_file_is_read_back_from_r2() {
    let Some(app) = common::app() else { return };
    let name = unique("file");
    let bytes: Vec<u8> = (0..=255u8).chain(*b"\r\nend").collect();
    let resp =
        app.put(&format!("/api/files/{name}")).with_api_key().body("application/octet-stream", bytes.clone()).send();
    resp.assert_status(201);
    assert!(!resp.log().storage_on("BUCKET").is_empty(), "{:?}", resp.log().raw());
    assert_eq!(app.r2("BUCKET").get(&format!("files/{name}")), Some(bytes));
    assert_eq!(app.r2("BUCKET").get(&format!("files/{name}-missing")), None);
}

#[test]
fn a_queued_job_is_consumed_and_its_effect_read_back() {
    let Some(app) = common::app() else { return };
    let slug = unique("post");
    let reindex = app.watch_queue("reindex");
    app.post("/api/reindex")
        .with_api_key()
        .json(&serde_json::json!({"slug": slug, "reason": "harness"}))
        .send()
        .assert_status(202);
    let batch = reindex.next_batch(Duration::from_secs(30));
    assert_eq!(batch.verifier(), Some("System"), "{:?}", batch.raw());
    // Another test's message could share (or precede) the batch: wait for this job's own row.
    let sql = format!("SELECT COUNT(*) FROM reindexed WHERE slug = '{slug}' AND reason = 'harness'");
    let batches = reindex.until(Duration::from_secs(30), || app.d1("DB").scalar(&sql) == 1);
    assert!(batches.iter().all(|b| b.identity_allowed()), "{batches:?}");
    assert!(batches.iter().any(|b| !b.storage_on("DB").is_empty()), "{batches:?}");
}
