//! The issue's yardstick: a user test of ten lines checks "non-admin gets 403 and nothing was
//! written to D1", against the reference app (`app/`) running in workerd. Its own test binary,
//! so `time cargo test -p layers-test --test admin_403` measures one such test warm (the
//! Worker's start included).

mod common;

#[test]
fn non_admin_gets_403_and_nothing_was_written_to_d1() {
    let Some(app) = common::app() else { return };
    let resp = app.post("/admin/flags/beta").as_access("ada@example.com").json(&serde_json::json!({"on": true})).send();
    resp.assert_status(403);
    resp.log().assert_denied_before_storage();
    assert_eq!(app.d1("DB").scalar("SELECT COUNT(*) FROM admin_audit"), 0);
    assert_eq!(app.kv("KV").get("flag:beta"), None);
}
