//! End-to-end: the `Ai` and `Vectorize` storage handles in real workerd. The app's `AI` and
//! `VECTORIZE` bindings are RPC service bindings to the loopback stand-in (tests/standin/,
//! started by `cargo xtask e2e` next to the app): these tests check our JS interop, the gating
//! and validation, and the logs — not a model or a real index.

mod common;

use common::*;
use serde_json::{json, Value};

const SUMMARY_MODEL: &str = "@cf/facebook/bart-large-cnn";

fn post_json(path: &str, body: &Value) -> Resp {
    let k = key();
    send("POST", path, &[("x-api-key", &k), ("content-type", "application/json")], Some(&body.to_string()))
}

fn json_of(r: &Resp) -> Value {
    serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", r.status, r.body))
}

fn assert_problem(r: &Resp, status: u16) -> Value {
    assert_eq!(r.status, status, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("application/problem+json"), "{}", r.body);
    let p = json_of(r);
    assert_eq!(p["status"], status);
    p
}

/// A fresh id that fits Vectorize's 64-byte limit.
fn fresh(prefix: &str) -> String {
    let n = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("{prefix}-{n}")
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn storage_ai_and_vectorize_routes_need_an_api_key() {
    // No key: 401; a wrong key: 403 (the `ApiKey` verifier's answers).
    let body = json!({"text": "hello"}).to_string();
    for (method, path) in [
        ("POST", "/api/ai/summarize"),
        ("POST", "/api/vectors"),
        ("POST", "/api/vectors/query"),
        ("GET", "/api/vectors"),
        ("GET", "/api/vectors/some-id"),
        ("DELETE", "/api/vectors/some-id"),
    ] {
        let r = send(method, path, &[("content-type", "application/json")], Some(&body));
        assert_eq!(r.status, 401, "{method} {path}: {}", r.body);
        let r = send(
            method,
            path,
            &[("x-api-key", "wrong-key-wrong-key-wrong"), ("content-type", "application/json")],
            Some(&body),
        );
        assert_eq!(r.status, 403, "{method} {path} with a wrong key: {}", r.body);
    }
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn storage_ai_run_returns_the_models_answer_and_logs_without_input() {
    let marker = fresh("private-prompt-marker");
    let text = format!("one two three four {marker}");
    let r = post_json("/api/ai/summarize", &json!({ "text": text }));
    assert_eq!(r.status, 200, "{}", r.body);
    let v = json_of(&r);
    assert_eq!(v["model"], SUMMARY_MODEL);
    // The stand-in's answer for this model: a word count and the model name it was called with.
    assert_eq!(v["summary"], format!("stand-in summary of 5 words by {SUMMARY_MODEL}"));

    let lines = wait_log("the Ai storage line", |ls| {
        ls.iter().any(|l| l["layer"] == "storage" && l["kind"] == "Ai" && l["route"] == "/api/ai/summarize")
    });
    let line = lines
        .iter()
        .rev()
        .find(|l| l["layer"] == "storage" && l["kind"] == "Ai" && l["route"] == "/api/ai/summarize")
        .unwrap();
    assert_eq!(line["binding"], "AI");
    assert_eq!(line["op"], "run");
    assert_eq!(line["model"], SUMMARY_MODEL);
    assert_eq!(line["outcome"], "ok");
    assert!(line["ms"].is_u64(), "{line}");
    // Never the prompt: not in any log line, not even the stand-in's.
    let log = std::fs::read_to_string(log_path()).unwrap();
    assert!(!log.contains(&marker), "the AI input reached the log");
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn storage_ai_rejects_empty_text_before_running() {
    let r = post_json("/api/ai/summarize", &json!({ "text": "   " }));
    let p = assert_problem(&r, 400);
    assert!(p["detail"].as_str().unwrap().contains("`text`"), "{p}");
    let r = post_json("/api/ai/summarize", &json!({ "prompt": "x" }));
    assert_problem(&r, 400);
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn storage_vectorize_round_trip_nearest_first() {
    let ns = fresh("ns");
    let (a, b, c) = (fresh("a"), fresh("b"), fresh("c"));
    let r = post_json(
        "/api/vectors",
        &json!({ "vectors": [
            { "id": a, "values": [1.0, 0.0, 0.0, 0.0], "namespace": ns, "metadata": { "kind": "post", "title": "A" } },
            { "id": b, "values": [0.0, 1.0, 0.0, 0.0], "namespace": ns, "metadata": { "kind": "page", "title": "B" } },
            { "id": c, "values": [0.6, 0.6, 0.1, 0.0], "namespace": ns },
        ] }),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let v = json_of(&r);
    assert_eq!(v["count"], 3);
    assert!(v["mutation_id"].as_str().is_some_and(|m| !m.is_empty()), "{v}");

    // Nearest to (0.1, 0.9, 0, 0): b, then c, then a.
    let r = post_json(
        "/api/vectors/query",
        &json!({ "vector": [0.1, 0.9, 0.0, 0.0], "top_k": 3, "namespace": ns, "metadata": true }),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let m = json_of(&r);
    let ids: Vec<&str> = m["matches"].as_array().unwrap().iter().map(|x| x["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [b.as_str(), c.as_str(), a.as_str()], "{m}");
    assert_eq!(m["count"], 3);
    let top = &m["matches"][0];
    assert!(top["score"].as_f64().unwrap() > 0.99, "{top}");
    assert_eq!(top["metadata"]["title"], "B");
    // top_k 1: only the nearest.
    let r = post_json("/api/vectors/query", &json!({ "vector": [1.0, 0.05, 0.0, 0.0], "top_k": 1, "namespace": ns }));
    let m = json_of(&r);
    assert_eq!(m["matches"].as_array().unwrap().len(), 1, "{m}");
    assert_eq!(m["matches"][0]["id"], a.as_str());
    assert!(m["matches"][0].get("metadata").is_none(), "{m}");

    // getByIds (the stand-in answers values as a Float32Array).
    let k = key();
    let r = send("GET", &format!("/api/vectors/{b}"), &[("x-api-key", &k)], None);
    assert_eq!(r.status, 200, "{}", r.body);
    let got = json_of(&r);
    assert_eq!(got["id"], b.as_str());
    assert_eq!(got["values"], json!([0.0, 1.0, 0.0, 0.0]));
    assert_eq!(got["metadata"]["kind"], "page");
    assert_eq!(got["namespace"], ns.as_str());

    // describe
    let r = send("GET", "/api/vectors", &[("x-api-key", &k)], None);
    assert_eq!(r.status, 200, "{}", r.body);
    let d = json_of(&r);
    assert_eq!(d["dimensions"], 4);
    assert!(d["vector_count"].as_u64().unwrap() >= 3, "{d}");

    // deleteByIds, then the vector is gone.
    let r = send("DELETE", &format!("/api/vectors/{b}"), &[("x-api-key", &k)], None);
    assert_eq!(r.status, 200, "{}", r.body);
    let r = send("GET", &format!("/api/vectors/{b}"), &[("x-api-key", &k)], None);
    assert_eq!(r.status, 404, "{}", r.body);
    let r = post_json("/api/vectors/query", &json!({ "vector": [0.0, 1.0, 0.0, 0.0], "top_k": 1, "namespace": ns }));
    assert_eq!(json_of(&r)["matches"][0]["id"], c.as_str());
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn storage_vectorize_rejects_invalid_vectors_as_problems() {
    let id = fresh("bad");
    let cases = [
        // Wrong dimensions (the index has 4).
        ("/api/vectors", json!({ "vectors": [{ "id": id, "values": [1.0, 0.0, 0.0] }] }), "dimensions"),
        ("/api/vectors/query", json!({ "vector": [1.0, 0.0], "top_k": 1 }), "dimensions"),
        // 1e39 does not fit an f32: infinity, which Vectorize refuses.
        ("/api/vectors", json!({ "vectors": [{ "id": id, "values": [1e39, 0.0, 0.0, 0.0] }] }), "finite"),
        ("/api/vectors/query", json!({ "vector": [0.0, -1e39, 0.0, 0.0] }), "finite"),
        // Empty vector, long id, top_k over the limit, empty batch.
        ("/api/vectors", json!({ "vectors": [{ "id": id, "values": [] }] }), "no values"),
        ("/api/vectors", json!({ "vectors": [{ "id": "x".repeat(65), "values": [1.0, 0.0, 0.0, 0.0] }] }), "64 bytes"),
        ("/api/vectors/query", json!({ "vector": [1.0, 0.0, 0.0, 0.0], "top_k": 101 }), "top_k"),
        ("/api/vectors/query", json!({ "vector": [1.0, 0.0, 0.0, 0.0], "top_k": 21, "metadata": true }), "top_k"),
        ("/api/vectors", json!({ "vectors": [] }), "no vectors"),
    ];
    for (path, body, says) in cases {
        let r = post_json(path, &body);
        let p = assert_problem(&r, 400);
        let detail = p["detail"].as_str().unwrap();
        assert!(detail.contains(says), "{path} {body}: {detail}");
        assert!(!detail.contains(&id) && !detail.contains("xxxxxxxx"), "the detail repeats the input: {detail}");
    }
    // A NaN is not JSON at all: the body extractor refuses it.
    let k = key();
    let r = send(
        "POST",
        "/api/vectors/query",
        &[("x-api-key", &k), ("content-type", "application/json")],
        Some(r#"{"vector":[NaN,0,0,0]}"#),
    );
    assert_problem(&r, 400);
    // Nothing invalid was written.
    let r = send("GET", &format!("/api/vectors/{id}"), &[("x-api-key", &k)], None);
    assert_eq!(r.status, 404, "{}", r.body);
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn storage_vectorize_logs_op_and_count_not_data() {
    let marker = fresh("secret-metadata-marker");
    sensitive(&marker);
    let id = fresh("logged");
    let r = post_json(
        "/api/vectors",
        &json!({ "vectors": [{ "id": id, "values": [0.5, 0.5, 0.5, 0.5], "metadata": { "note": marker } }] }),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let lines = wait_log("the Vectorize upsert line", |ls| {
        ls.iter().any(|l| l["layer"] == "storage" && l["kind"] == "Vectorize" && l["op"] == "upsert")
    });
    let line = lines.iter().rev().find(|l| l["kind"] == "Vectorize" && l["op"] == "upsert").unwrap();
    assert_eq!(line["binding"], "VECTORIZE");
    assert_eq!(line["route"], "/api/vectors");
    assert_eq!(line["outcome"], "ok");
    assert_eq!(line["count"], 1);
    // A refused query is logged as an error of its op, with no call made.
    let r = post_json("/api/vectors/query", &json!({ "vector": [1.0] }));
    assert_problem(&r, 400);
    wait_log("the refused query line", |ls| {
        ls.iter().any(|l| l["kind"] == "Vectorize" && l["op"] == "query" && l["outcome"] == "error")
    });
    let log = std::fs::read_to_string(log_path()).unwrap();
    assert!(!log.contains(&marker), "vector metadata reached the log");
}
