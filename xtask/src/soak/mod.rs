//! `cargo xtask soak`: load with no lost writes. Drives the reference app in real workerd (the
//! e2e setup: fresh state and secrets, `wrangler dev` on 127.0.0.1) for a fixed time with a
//! bounded number of client threads, each sending one request at a time over its own kept-alive
//! loopback connection (`--connections fresh`: a new one per request): unique writes
//! (`POST /api/subscribers` with the API key) mixed with reads (`GET /`, `GET /api/subscribers`,
//! one bounded page). Afterwards it requires
//!
//! - the D1 rows this run created to be exactly the writes answered 2xx (none lost, none extra),
//! - no 5xx and no transport error (a request without a response),
//! - the Worker's own memory to stay level: its wasm linear memory (from the test build's
//!   `x-layers-wasm-memory` header) not to grow by more than 4 MiB after the first quarter of
//!   the run, and its isolate's JavaScript heap after a full GC (sampled through the inspector
//!   by the DevTools stand-in, [`crate::devtools`]) to end below twice the first half's peak
//!   plus 16 MiB (the live heap includes the requests in flight: 1–9 MiB over a 10-minute soak),
//! - the resident memory (`VmRSS`, sampled every 250 ms) of the workerd that runs the app to
//!   stay under a loose guard (128 MiB + 512 KiB per request over the first sample; a run where
//!   it did not level off is flagged with a warning). Much of it is not the Worker's: local
//!   D1/KV/R2 and the inspector's buffers live there too. wrangler's proxy workerd (no app
//!   code) is sampled and reported, not guarded.
//!
//! The DevTools stand-in is attached by default (`--devtools detached` leaves it out): without a
//! DevTools client, wrangler's inspector proxy keeps every inspector event of the run in memory.
//!
//! It prints requests, req/s, status classes, latency, rows and all the memory figures. `cargo
//! xtask test` runs a 10-second soak on the e2e server after the e2e targets ([`IN_TEST`]).
//!
//! Here: the options and the run ([`drive`]): the client threads, the RSS sampler and the
//! DevTools stand-in side by side, then the run's rows read back from D1. The rest, one concern
//! per module:
//!
//! * `load`: one client thread's loop of writes and reads, and what it saw;
//! * `http`: its HTTP/1.1 connection to the app (kept alive or fresh), one request at a time;
//! * `rss`: the resident memory of the workerd processes `wrangler dev` runs;
//! * `verdict`: the figures printed, and the checks the run must pass.

mod http;
mod load;
pub(crate) mod rss;
mod verdict;

use std::collections::BTreeSet;
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use http::Conn;
use load::{client, Tally};
use rss::{workerd_rss, Rss};

use crate::util::{self, log, number_in, option_values, Result};

/// `--seconds N`, `--concurrency C`, `--connections keep-alive|fresh`, `--devtools
/// attached|detached` and `--log all|errors` of `cargo xtask soak`.
pub(crate) struct Options {
    seconds: u64,
    concurrency: usize,
    /// `--connections fresh`: every request on a new TCP connection (`Connection: close`)
    /// instead of one kept-alive connection per client thread (the default, what load
    /// generators and browsers do).
    fresh_connections: bool,
    /// `--devtools detached`: no DevTools stand-in drains wrangler's inspector proxy, whose
    /// buffer of inspector events then grows with every request (see [`crate::devtools`]).
    detached: bool,
    /// `--log errors`: the Worker runs with `LAYERS_LOG=errors` (no line for requests that
    /// went well), to tell what its console output costs from what the Worker itself keeps.
    pub(crate) quiet_logs: bool,
}

/// The soak `cargo xtask test` runs at the end of its e2e phase.
pub(crate) const IN_TEST: Options =
    Options { seconds: 10, concurrency: 4, fresh_connections: false, detached: false, quiet_logs: false };

/// More client threads than this only measure the client (the machine has few cores).
const MAX_CONCURRENCY: usize = 64;
/// How long the soak waits for the DevTools stand-in to take wrangler's backlog.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(60);
/// How often workerd's RSS is sampled.
const RSS_EVERY: Duration = Duration::from_millis(250);

/// Parses the options of `cargo xtask soak`.
pub(crate) fn parse_options(rest: &[String]) -> Result<Options> {
    let mut opts =
        Options { seconds: 60, concurrency: 4, fresh_connections: false, detached: false, quiet_logs: false };
    let names = ["--seconds", "-s", "--concurrency", "-c", "--connections", "--devtools", "--log"];
    for (name, v) in option_values(rest, &names, "soak")? {
        if name == "--connections" {
            opts.fresh_connections = match v.as_str() {
                "keep-alive" => false,
                "fresh" => true,
                _ => return Err(format!("invalid `--connections {v}` (expected `keep-alive` or `fresh`)")),
            };
        } else if name == "--devtools" {
            opts.detached = match v.as_str() {
                "attached" => false,
                "detached" => true,
                _ => return Err(format!("invalid `--devtools {v}` (expected `attached` or `detached`)")),
            };
        } else if name == "--log" {
            opts.quiet_logs = match v.as_str() {
                "all" => false,
                "errors" => true,
                _ => return Err(format!("invalid `--log {v}` (expected `all` or `errors`)")),
            };
        } else if matches!(name.as_str(), "--seconds" | "-s") {
            opts.seconds = number_in("--seconds", &v, 1..=u64::MAX, "a positive number")?;
        } else {
            let expected = format!("1–{MAX_CONCURRENCY}");
            opts.concurrency = number_in("--concurrency", &v, 1..=MAX_CONCURRENCY, &expected)?;
        }
    }
    Ok(opts)
}

/// Runs the soak against the app on 127.0.0.1:`port` whose `wrangler dev` leads process group
/// `pgid` (its inspector proxy on `inspector`, where the DevTools stand-in attaches), then
/// checks rows, statuses and RSS. The emails it wrote are appended to `sensitive` (the leak
/// check's list of values that must not reach the log).
pub(crate) fn drive(
    port: u16,
    inspector: Option<u16>,
    api_key: &str,
    pgid: u32,
    opts: &Options,
    sensitive: &Path,
) -> Result<()> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let run = util::random_hex(4)?;
    let prefix = format!("soak-{run}-");
    let duration = Duration::from_secs(opts.seconds);
    log(format!(
        "soak: {} s, {} client threads ({}), writes `POST /api/subscribers` ({prefix}…@example.com) mixed with \
         reads `GET /`, `GET /api/subscribers` on http://{addr}",
        opts.seconds,
        opts.concurrency,
        if opts.fresh_connections { "a new connection per request" } else { "one kept-alive connection each" }
    ));

    let drain = match (opts.detached, inspector) {
        (true, _) => {
            log("soak: no DevTools attached: wrangler's inspector proxy keeps every inspector event");
            None
        }
        (false, None) => return Err("soak: wrangler dev was started without a known --inspector-port".into()),
        (false, Some(inspector)) => {
            let drain = crate::devtools::Drain::connect(inspector)?;
            log(format!("soak: DevTools stand-in attached to wrangler's inspector proxy on 127.0.0.1:{inspector}"));
            Some(drain)
        }
    };
    let stop_drain = AtomicBool::new(false);
    let settled = AtomicBool::new(false);
    let done = AtomicBool::new(false);
    let (first, started, tallies, samples, drained) = std::thread::scope(|s| {
        let drainer = drain.map(|d| s.spawn(|| d.run(&stop_drain, &settled)));
        if drainer.is_some() {
            // Let the stand-in take what wrangler buffered before it attached (the e2e
            // targets' events) so that neither the flush nor its cost is counted as the run's.
            let waiting = Instant::now();
            while !settled.load(Ordering::Relaxed) && waiting.elapsed() < SETTLE_TIMEOUT {
                std::thread::sleep(Duration::from_millis(50));
            }
            log(format!(
                "soak: wrangler's buffered inspector events drained in {}",
                util::fmt_duration(waiting.elapsed())
            ));
        }
        let first = workerd_rss(pgid);
        let started = Instant::now();
        let (done, pgid) = (&done, pgid);
        let sampler = s.spawn(move || {
            let mut samples: Vec<Rss> = first.into_iter().collect();
            while !done.load(Ordering::Relaxed) {
                std::thread::sleep(RSS_EVERY);
                if let Some(rss) = workerd_rss(pgid) {
                    samples.push(rss);
                }
            }
            samples
        });
        let workers: Vec<_> = (0..opts.concurrency)
            .map(|w| {
                let prefix = &prefix;
                let conn = Conn::new(addr, opts.fresh_connections);
                s.spawn(move || client(conn, api_key, &format!("{prefix}{w}-"), started, started + duration))
            })
            .collect();
        let tallies: Vec<Option<Tally>> = workers.into_iter().map(|h| h.join().ok()).collect();
        done.store(true, Ordering::Relaxed);
        stop_drain.store(true, Ordering::Relaxed);
        let drained = drainer.map(|d| d.join().unwrap_or_else(|_| Err("DevTools stand-in panicked".into())));
        (first, started, tallies, sampler.join().unwrap_or_default(), drained)
    });
    let first = first.ok_or_else(|| format!("no workerd process in process group {pgid}"))?;
    let elapsed = started.elapsed();
    let tallies: Vec<Tally> = tallies.into_iter().collect::<Option<_>>().ok_or("soak: a client thread panicked")?;

    let mut total = Tally::default();
    for t in tallies {
        for (sum, n) in total.classes.iter_mut().zip(t.classes) {
            *sum += n;
        }
        total.writes += t.writes;
        total.reads += t.reads;
        total.written.extend(t.written);
        total.errors.extend(t.errors);
        total.micros.extend(t.micros);
        total.wasm.extend(t.wasm);
    }
    let requests: u64 = total.classes.iter().sum::<u64>() + total.errors.len() as u64;
    let written: BTreeSet<String> = total.written.iter().cloned().collect();
    // Register the addresses for the leak check before anything can fail.
    let mut list = String::new();
    for email in &written {
        list.push_str(email);
        list.push('\n');
    }
    append(sensitive, &list)?;

    // What D1 holds for this run, read back through the app (ApiKey route, D1 `SELECT`), page
    // by page from the first address after the run's prefix.
    let rows = rows_with_prefix(addr, api_key, &prefix)?;
    append(sensitive, &rows.iter().map(|e| format!("{e}\n")).collect::<String>())?;

    verdict::judge(verdict::Run { total, requests, written, rows, elapsed, drained, first, samples })
}

/// The subscribers whose email starts with `prefix`, read through `GET /api/subscribers` one
/// page after another from the cursor `prefix` (every such email sorts after it).
fn rows_with_prefix(addr: SocketAddr, api_key: &str, prefix: &str) -> Result<BTreeSet<String>> {
    let mut rows = BTreeSet::new();
    let mut cursor = prefix.to_owned();
    let mut conn = Conn::new(addr, false);
    loop {
        let path = format!("/api/subscribers?limit=1000&cursor={}", util::percent_encode(&cursor));
        let reply = conn
            .request("GET", &path, &[("x-api-key", api_key)], None)
            .map_err(|e| format!("soak: listing subscribers failed: {e}"))?;
        if reply.status != 200 {
            return Err(format!("soak: GET {path} answered {} after the run", reply.status));
        }
        let doc: serde_json::Value =
            serde_json::from_slice(&reply.body).map_err(|e| format!("soak: GET {path} is not JSON: {e}"))?;
        let page = doc["subscribers"].as_array().ok_or_else(|| format!("soak: GET {path} has no `subscribers`"))?;
        let before = rows.len();
        let mut past_prefix = false;
        for email in page.iter().filter_map(|s| s["email"].as_str()) {
            if email.starts_with(prefix) {
                rows.insert(email.to_owned());
            } else {
                past_prefix = true;
            }
        }
        match doc["next"].as_str() {
            Some(next) if !past_prefix && next > cursor.as_str() && rows.len() > before => cursor = next.to_owned(),
            _ => return Ok(rows),
        }
    }
}

/// Appends `text` to `path` (which exists, created 0600 by the e2e setup).
fn append(path: &Path, text: &str) -> Result<()> {
    std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| format!("cannot append to {}: {e}", path.display()))
}
