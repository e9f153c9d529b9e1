//! The load: one client thread's requests, one after another (writes of fresh addresses
//! mixed with reads), and what it saw ([`Tally`]).

use std::time::{Duration, Instant};

use super::http::Conn;

/// What one client thread saw.
#[derive(Default)]
pub(super) struct Tally {
    /// Responses by class: 1xx/other, 2xx, 3xx, 4xx, 5xx.
    pub(super) classes: [u64; 5],
    /// Writes sent.
    pub(super) writes: u64,
    /// Reads sent.
    pub(super) reads: u64,
    /// Emails whose write was answered 2xx.
    pub(super) written: Vec<String>,
    /// Transport errors (no complete response), with what was being sent.
    pub(super) errors: Vec<String>,
    /// Latencies in microseconds.
    pub(super) micros: Vec<u64>,
    /// The Worker's linear memory as responses reported it: each new size seen (time since
    /// the soak started, bytes).
    pub(super) wasm: Vec<(Duration, u64)>,
}

impl Tally {
    fn count(&mut self, status: u16) {
        let class = match status {
            200..=299 => 1,
            300..=399 => 2,
            400..=499 => 3,
            500..=599 => 4,
            _ => 0,
        };
        self.classes[class] += 1;
    }
}

/// One client thread: requests one after another until `until`. Two in four are writes of a
/// fresh address `<prefix><n>@example.com`, one `GET /`, one `GET /api/subscribers`.
pub(super) fn client(mut conn: Conn, api_key: &str, prefix: &str, started: Instant, until: Instant) -> Tally {
    let mut tally = Tally::default();
    let mut n = 0u64;
    while Instant::now() < until {
        let start = Instant::now();
        let (what, outcome) = match n % 4 {
            0 | 2 => {
                tally.writes += 1;
                let email = format!("{prefix}{n}@example.com");
                let body = format!("{{\"email\":\"{email}\"}}");
                let headers = [("x-api-key", api_key), ("content-type", "application/json")];
                let outcome = conn.request("POST", "/api/subscribers", &headers, Some(&body));
                if outcome.as_ref().is_ok_and(|r| (200..300).contains(&r.status)) {
                    tally.written.push(email);
                }
                ("POST /api/subscribers", outcome)
            }
            1 => {
                tally.reads += 1;
                ("GET /", conn.request("GET", "/", &[], None))
            }
            _ => {
                tally.reads += 1;
                ("GET /api/subscribers", conn.request("GET", "/api/subscribers", &[("x-api-key", api_key)], None))
            }
        };
        match outcome {
            Ok(reply) => {
                tally.count(reply.status);
                tally.micros.push(start.elapsed().as_micros() as u64);
                if let Some(bytes) = reply.wasm_memory {
                    if tally.wasm.last().is_none_or(|&(_, b)| b != bytes) {
                        tally.wasm.push((started.elapsed(), bytes));
                    }
                }
            }
            Err(e) => tally.errors.push(format!("{what}: {e}")),
        }
        n += 1;
    }
    tally
}
