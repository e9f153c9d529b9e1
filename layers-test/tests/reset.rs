//! `Worker::reset` against the reference app: what a request wrote to D1, KV and R2 is gone
//! after a reset, the migrations are still applied, and the Worker answers (and logs) again.
//!
//! A binary of its own: a reset takes the state of every test sharing the Worker, so the tests
//! here hold `Worker::serial`.

use std::time::Duration;

mod common;

use common::ADMIN;

#[test]
fn a_reset_returns_d1_kv_and_r2_to_the_migrated_state() {
    let Some(app) = common::app() else { return };
    let _serial = app.serial();
    let flag = format!("reset_{}", std::process::id());
    let file = format!("files/{flag}.txt");
    app.post(&format!("/admin/flags/{flag}"))
        .as_access(ADMIN)
        .json(&serde_json::json!({"on": true}))
        .send()
        .assert_status(200);
    app.put(&format!("/api/{file}"))
        .with_api_key()
        .body("text/plain", "kept until the reset")
        .send()
        .assert_status(201);
    let audit = format!("SELECT COUNT(*) FROM admin_audit WHERE action = 'flag {flag} on'");
    assert_eq!(app.d1("DB").scalar(&audit), 1);
    assert_eq!(app.kv("KV").get(&format!("flag:{flag}")).as_deref(), Some("on"));
    assert_eq!(app.r2("BUCKET").get_text(&file).as_deref(), Some("kept until the reset"));
    let (port, mark) = (app.port(), app.log_mark());

    let took = app.reset();
    eprintln!("reset took {:.1} s", took.as_secs_f64());
    assert!(took < Duration::from_secs(60));

    assert_eq!(app.port(), port);
    // Gone from all three, and the schema is still there (the query runs).
    assert_eq!(app.d1("DB").scalar(&audit), 0);
    assert_eq!(app.kv("KV").get(&format!("flag:{flag}")), None);
    assert_eq!(app.r2("BUCKET").get(&file), None);
    // The Worker answers with the same credentials, and its log is still read from the mark.
    let resp = app.get("/admin/").as_access(ADMIN).send();
    resp.assert_status(200);
    assert!(resp.log().identity_allowed());
    assert!(app.wait_for_event(mark, Duration::from_secs(5), |e| e.ray() == resp.ray()).is_some());
    // The same write works again on the fresh state.
    app.post(&format!("/admin/flags/{flag}"))
        .as_access(ADMIN)
        .json(&serde_json::json!({"on": true}))
        .send()
        .assert_status(200);
    assert_eq!(app.d1("DB").scalar(&audit), 1);
}
