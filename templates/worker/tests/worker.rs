//! The Worker for real: built to wasm, served by workerd on 127.0.0.1 with fresh local state,
//! called with real credentials (layers-test). Run with `cargo test`.

use layers_test::Worker;
use serde_json::json;

#[test]
fn the_home_page_is_public() {
    let resp = Worker::shared().get("/").send();
    resp.assert_status(200);
    assert!(resp.text().starts_with("hello from"), "{}", resp.text());
}

#[test]
fn a_note_needs_an_api_key_and_is_written_to_d1() {
    let app = Worker::shared();
    let denied = app.post("/notes").json(&json!({ "body": "no key" })).send();
    denied.assert_status(401);
    denied.log().assert_denied_before_storage();

    app.post("/notes").with_api_key().json(&json!({ "body": "first note" })).send().assert_status(201);
    assert_eq!(app.d1("DB").scalar("SELECT COUNT(*) FROM notes WHERE body = 'first note'"), 1);
    assert_eq!(app.d1("DB").scalar("SELECT COUNT(*) FROM notes WHERE body = 'no key'"), 0);
}

#[test]
fn an_empty_note_is_a_problem() {
    let resp = Worker::shared().post("/notes").with_api_key().json(&json!({ "body": "  " })).send();
    resp.assert_problem(400, "field `body` must hold 1 to 10000 bytes");
}
