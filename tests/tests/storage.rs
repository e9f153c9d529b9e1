//! End-to-end tests of storage handles, in real workerd (run through `cargo xtask test`, see
//! tests/tests/common/run.rs for the setup): the Cache API (miss, hit, purge), Analytics Engine data
//! points, and R2 — objects of 5 and 25 MB streamed in and out byte for byte, the API key on
//! every route, bodies of missing or oversized length refused before they are read. (The
//! Durable Object rate limiter's test stays in `e2e.rs`: see there.)

mod common;

use std::time::Duration;

use common::*;

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn storage_cache_misses_then_hits() {
    let k = key();
    let slug = unique("cache").replace(['@', '.'], "-");
    let path = format!("/api/cached/{slug}");
    assert_eq!(get(&path).status, 401);
    let first = send("GET", &path, &[("x-api-key", &k)], None);
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.header("x-cache"), Some("miss"));
    let second = send("GET", &path, &[("x-api-key", &k)], None);
    assert_eq!(second.status, 200, "{}", second.body);
    assert_eq!(second.header("x-cache"), Some("hit"));
    // The same rendering, served from the cache.
    assert_eq!(second.body, first.body);
    let v: serde_json::Value = serde_json::from_str(&second.body).unwrap();
    assert_eq!(v["slug"], slug.as_str());
    let r = send("DELETE", &path, &[("x-api-key", &k)], None);
    assert_eq!(r.status, 200);
    assert_eq!(r.body, r#"{"purged":true}"#);
    let third = send("GET", &path, &[("x-api-key", &k)], None);
    assert_eq!(third.header("x-cache"), Some("miss"));
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn storage_analytics_engine_writes_a_data_point() {
    let k = key();
    assert_eq!(send("POST", "/api/track/signup", &[], Some("")).status, 401);
    let r = send("POST", "/api/track/signup", &[("x-api-key", &k)], Some(""));
    assert_eq!(r.status, 204, "{}", r.body);
    let line = storage_log_line(|v| {
        v["layer"] == "storage" && v["kind"] == "AnalyticsEngine" && v["route"] == "/api/track/:event"
    })
    .expect("an Analytics Engine storage log line");
    assert_eq!(line["binding"], "ANALYTICS");
    assert_eq!(line["op"], "write");
    assert_eq!(line["outcome"], "ok");
    // Past the platform's limit of one index per data point: refused before writing, logged.
    let long = "x".repeat(97);
    let r = send("POST", &format!("/api/track/{long}"), &[("x-api-key", &k)], Some(""));
    assert_eq!(r.status, 500);
    assert!(storage_log_line(|v| v["kind"] == "AnalyticsEngine" && v["outcome"] == "error").is_some());
}

// ---- R2 --------------------------------------------------------------------------------------------

/// `n` pseudo-random bytes covering every byte value (so a truncated, shuffled or
/// text-mangled round-trip cannot pass).
fn binary(n: usize, seed: u32) -> Vec<u8> {
    let mut x: u32 = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 7) as u8
        })
        .collect()
}

fn sha256_hex(b: &[u8]) -> String {
    use sha2::{Digest as _, Sha256};
    Sha256::digest(b).iter().map(|x| format!("{x:02x}")).collect()
}

/// PUTs `body` to `/api/files/:name` (streamed into R2), GETs it back (streamed out), and
/// checks size, bytes (SHA-256), content type, etag and note; returns the GET's time.
fn r2_round_trip(name: &str, body: &[u8], note: &str) -> Duration {
    let k = key();
    let path = format!("/api/files/{name}");
    let h = [("x-api-key", k.as_str()), ("content-type", "application/octet-stream"), ("x-file-note", note)];
    let r = send_bytes("PUT", &path, &h, Some(body));
    assert_eq!(r.status, 201, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["size"], body.len());
    let t0 = std::time::Instant::now();
    let r = send("GET", &path, &[("x-api-key", &k)], None);
    let took = t0.elapsed();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/octet-stream"));
    assert_eq!(r.header("x-file-note"), Some(note));
    assert!(r.header("etag").is_some_and(|e| e.starts_with('"')));
    assert_eq!(r.bytes.len(), body.len());
    assert_eq!(sha256_hex(&r.bytes), sha256_hex(body), "the body came back different");
    took
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn storage_r2_round_trips_a_5mb_object_with_metadata() {
    let k = key();
    let name = unique("r2-big").replace(['@', '.'], "-");
    let path = format!("/api/files/{name}");
    let body = binary(5 * 1024 * 1024, 0x2545_f491);
    r2_round_trip(&name, &body, "five megabytes");
    let r = send("GET", &format!("/api/files?prefix={name}"), &[("x-api-key", &k)], None);
    assert_eq!(r.status, 200, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["files"], serde_json::json!([{ "name": name, "size": 5 * 1024 * 1024 }]));
    // Both directions were streamed (the storage lines name the streaming ops).
    let lines = wait_log("R2 streaming ops", |ls| {
        let op = |o: &str| ls.iter().any(|l| l["layer"] == "storage" && l["kind"] == "R2" && l["op"] == o);
        op("put_stream") && op("get_stream")
    });
    assert!(!lines.iter().any(|l| l.to_string().contains(&k)));
    let r = send("DELETE", &path, &[("x-api-key", &k)], None);
    assert_eq!(r.status, 204);
    let r = send("GET", &path, &[("x-api-key", &k)], None);
    assert_eq!(r.status, 404);
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn storage_r2_routes_need_the_api_key() {
    let name = unique("r2-anon").replace(['@', '.'], "-");
    let path = format!("/api/files/{name}");
    let r = send("PUT", &path, &[("content-type", "text/plain")], Some("sneaky"));
    assert_eq!(r.status, 401);
    let r = get(&path);
    assert_eq!(r.status, 401);
    let r = send("DELETE", &path, &[], None);
    assert_eq!(r.status, 401);
    let r = get("/api/files");
    assert_eq!(r.status, 401);
    // Nothing was stored by the refused PUT.
    let r = send("GET", &path, &[("x-api-key", &key())], None);
    assert_eq!(r.status, 404);
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn storage_r2_streams_a_25mb_binary_object() {
    let name = unique("r2-25mb").replace(['@', '.'], "-");
    let body = binary(25 * 1024 * 1024, 0x9e37_79b9);
    let t0 = std::time::Instant::now();
    let get = r2_round_trip(&name, &body, "twenty-five megabytes");
    eprintln!("25 MB: PUT+GET {:?} (GET {get:?})", t0.elapsed());
    let r = send("DELETE", &format!("/api/files/{name}"), &[("x-api-key", &key())], None);
    assert_eq!(r.status, 204);
}

/// Writes `wire` as is and returns the response's status and body (read as far as its
/// `content-length`), without waiting for the server to read the whole request.
fn raw_exchange(wire: &[u8]) -> (u16, String) {
    use std::io::{Read as _, Write as _};
    let mut s = std::net::TcpStream::connect(addr()).expect("connect to wrangler");
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(wire).unwrap();
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = s.read(&mut buf).expect("read response");
        assert!(n > 0, "connection closed before the response");
        raw.extend_from_slice(&buf[..n]);
        if let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&raw[..split]).into_owned();
            let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("status line");
            let len: usize = head
                .lines()
                .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("content-length")))
                .and_then(|(_, v)| v.trim().parse().ok())
                .unwrap_or(0);
            while raw.len() < split + 4 + len {
                let n = s.read(&mut buf).expect("read body");
                if n == 0 {
                    break;
                }
                raw.extend_from_slice(&buf[..n]);
            }
            return (status, String::from_utf8_lossy(&raw[split + 4..]).into_owned());
        }
    }
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn storage_r2_stream_refuses_missing_and_oversized_lengths() {
    let k = key();
    let host = addr();
    let name = unique("r2-refused").replace(['@', '.'], "-");
    let path = format!("/api/files/{name}");
    // No content-length (a chunked body): R2 cannot store a stream of unknown length.
    let chunked = format!(
        "PUT {path} HTTP/1.1\r\nHost: {host}\r\nx-api-key: {k}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    );
    let (status, body) = raw_exchange(chunked.as_bytes());
    assert_eq!(status, 411, "{body}");
    // A declared 200 MB: refused from the header, before any of the body is read. (The
    // Worker answers at once; wrangler's local proxy holds the response until the request body
    // is complete, so the refusal is checked in the Worker's own log line, then the client
    // gives up without sending the rest.)
    let big = format!(
        "PUT {path} HTTP/1.1\r\nHost: {host}\r\nx-api-key: {k}\r\nContent-Length: {}\r\nConnection: close\r\n\r\nfirst bytes",
        200 * 1024 * 1024
    );
    {
        use std::io::Write as _;
        let mut s = std::net::TcpStream::connect(addr()).expect("connect to wrangler");
        s.write_all(big.as_bytes()).unwrap();
        let lines = wait_log("the 413 refusal", |ls| {
            ls.iter().any(|l| l["layer"] == "request" && l["route"] == "/api/files/:name" && l["status"] == 413)
        });
        let refusal = lines.iter().find(|l| l["route"] == "/api/files/:name" && l["status"] == 413).unwrap();
        assert!(refusal["ms"].as_u64().unwrap() < 5000, "{refusal}");
        assert!(!lines
            .iter()
            .any(|l| l["route"] == "/api/files/:name" && l["op"] == "put_stream" && l["outcome"] == "error"));
    }
    // Nothing was stored by either.
    let r = send("GET", &path, &[("x-api-key", &k)], None);
    assert_eq!(r.status, 404);
}
