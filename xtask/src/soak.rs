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

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

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
/// Per-request socket timeouts: a request still unanswered after this counts as an error.
const IO_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the soak waits for the DevTools stand-in to take wrangler's backlog.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(60);
/// How often workerd's RSS is sampled.
const RSS_EVERY: Duration = Duration::from_millis(250);
/// The RSS check. A run whose growth in its second half exceeds half the first half's plus
/// [`RSS_STABLE_SLACK_KB`] did not level off and says so. It fails when the growth passes
/// [`RSS_SLACK_KB`] plus [`RSS_PER_REQUEST_KB`] per request: a regression guard set well above
/// what `wrangler dev` shows today (30–80 KiB per request, most of it wrangler's dev proxy).
const RSS_STABLE_SLACK_KB: u64 = 64 * 1024;
const RSS_SLACK_KB: u64 = 128 * 1024;
const RSS_PER_REQUEST_KB: u64 = 512;
/// The Worker's own memory checks (see `report_wasm` and `report_heap`).
const WASM_LATE_GROWTH: u64 = 4 * 1024 * 1024;
const HEAP_SLACK: u64 = 16 * 1024 * 1024;

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

/// One response: its status and body.
struct Reply {
    status: u16,
    body: Vec<u8>,
    /// `x-layers-wasm-memory`: the Worker's linear memory in bytes (test builds only).
    wasm_memory: Option<u64>,
}

/// What one client thread saw.
#[derive(Default)]
struct Tally {
    /// Responses by class: 1xx/other, 2xx, 3xx, 4xx, 5xx.
    classes: [u64; 5],
    writes: u64,
    reads: u64,
    /// Emails whose write was answered 2xx.
    written: Vec<String>,
    /// Transport errors (no complete response), with what was being sent.
    errors: Vec<String>,
    /// Latencies in microseconds.
    micros: Vec<u64>,
    /// The Worker's linear memory as responses reported it: each new size seen (time since
    /// the soak started, bytes).
    wasm: Vec<(Duration, u64)>,
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

    total.micros.sort_unstable();
    let pct = |p: f64| -> f64 {
        let i = ((total.micros.len() as f64 - 1.0) * p).round() as usize;
        total.micros.get(i).copied().unwrap_or(0) as f64 / 1000.0
    };
    let [other, c2, c3, c4, c5] = total.classes;
    let secs = elapsed.as_secs_f64();
    log(format!(
        "soak: {requests} requests in {secs:.1} s ({:.1} req/s): 2xx {c2}, 3xx {c3}, 4xx {c4}, 5xx {c5}, \
         other {other}, transport errors {}",
        requests as f64 / secs,
        total.errors.len()
    ));
    log(format!(
        "soak: writes {} (2xx {}), reads {}; D1 rows of this run {}; latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        total.writes,
        written.len(),
        total.reads,
        rows.len(),
        pct(0.5),
        pct(0.99),
        pct(1.0)
    ));
    let mut problems = Vec::new();
    match drained {
        Some(Ok(d)) => {
            log(format!(
                "soak: the DevTools stand-in drained {} inspector messages, {:.1} MiB",
                d.messages,
                mib(d.bytes / 1024)
            ));
            problems.extend(report_heap(&d, elapsed));
            if d.closed_early {
                problems.push("wrangler's inspector proxy closed the DevTools connection during the run".to_owned());
            }
        }
        Some(Err(e)) => problems.push(e),
        None => {}
    }
    problems.extend(report_wasm(&mut total.wasm, elapsed));
    let last = samples.last().copied().unwrap_or(first);
    log(format!("soak: workerd RSS sampled {} times, every {} ms", samples.len(), RSS_EVERY.as_millis()));
    let samples = if samples.is_empty() { vec![first] } else { samples };
    let mid = samples[(samples.len() - 1) / 2];
    for (name, of) in Rss::ROLES {
        let max = samples.iter().map(of).max().unwrap_or(0);
        let curve = tenths(&samples, |r| format!("{:.0}", mib(of(r))));
        log(format!(
            "soak: {name}: first {:.1} MiB, last {:.1} MiB, max {:.1} MiB; growth in the first half {:+.1} MiB, \
             in the second {:+.1} MiB; each tenth: {}",
            mib(of(&first)),
            mib(of(&last)),
            mib(max),
            mib(of(&mid)) - mib(of(&first)),
            mib(of(&last)) - mib(of(&mid)),
            curve
        ));
    }
    if written.is_empty() {
        problems.push("no write was answered 2xx: the soak measured nothing".to_owned());
    }
    if c5 > 0 {
        problems.push(format!("{c5} responses were 5xx"));
    }
    if !total.errors.is_empty() {
        let shown: Vec<&str> = total.errors.iter().take(5).map(String::as_str).collect();
        problems.push(format!("{} requests got no response, e.g. {}", total.errors.len(), shown.join("; ")));
    }
    let lost = written.difference(&rows).count();
    let extra = rows.difference(&written).count();
    if lost > 0 || extra > 0 {
        problems.push(format!(
            "D1 rows ({}) != 2xx writes ({}): {lost} acknowledged writes missing, {extra} rows without a 2xx",
            rows.len(),
            written.len()
        ));
    }
    // The guard and the warning are on the app's workerd: wrangler's proxy workerd runs no app
    // code (its growth is reported above and is the same with a Worker written without layers).
    let (first_rss, last_rss) = (first.app, last.app);
    let growth = last_rss.saturating_sub(first_rss);
    log(format!(
        "soak: app workerd RSS growth {:.1} MiB, {:.1} KiB per request",
        mib(growth),
        growth as f64 / requests.max(1) as f64
    ));
    let (first_half, second_half) = (mid.app.saturating_sub(first_rss), last_rss.saturating_sub(mid.app));
    if second_half > first_half / 2 + RSS_STABLE_SLACK_KB {
        log(format!(
            "soak: WARNING: the app workerd's RSS did not level off during this run (second half {:+.1} MiB \
             after {:+.1} MiB)",
            mib(second_half),
            mib(first_half)
        ));
    }
    let bound = first_rss + RSS_SLACK_KB + RSS_PER_REQUEST_KB * requests;
    if last_rss > bound {
        problems.push(format!(
            "the app workerd's RSS grew from {:.1} MiB to {:.1} MiB (bound {:.1} MiB)",
            mib(first_rss),
            mib(last_rss),
            mib(bound)
        ));
    }
    if problems.is_empty() {
        log(format!(
            "soak: ok — D1 rows == 2xx writes ({}), 0 5xx, the Worker's memory level, app workerd RSS within {:.1} MiB",
            rows.len(),
            mib(bound)
        ));
        Ok(())
    } else {
        Err(format!("soak failed: {}", problems.join("; ")))
    }
}

/// One client thread: requests one after another until `until`. Two in four are writes of a
/// fresh address `<prefix><n>@example.com`, one `GET /`, one `GET /api/subscribers`.
fn client(mut conn: Conn, api_key: &str, prefix: &str, started: Instant, until: Instant) -> Tally {
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

/// A client thread's connection to the app: one kept-alive TCP connection, opened on first use
/// and again after the server closed it, or (`fresh`) a new connection for every request.
struct Conn {
    addr: SocketAddr,
    fresh: bool,
    stream: Option<TcpStream>,
}

impl Conn {
    fn new(addr: SocketAddr, fresh: bool) -> Conn {
        Conn { addr, fresh, stream: None }
    }

    /// One HTTP/1.1 request; the response is framed by its `content-length` or chunked
    /// encoding. A failure is never retried (a write whose response was lost must count as
    /// lost, not be sent twice); the connection is dropped with it.
    fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> std::io::Result<Reply> {
        let mut s = match self.stream.take() {
            Some(s) => s,
            None => {
                let s = TcpStream::connect_timeout(&self.addr, IO_TIMEOUT)?;
                s.set_read_timeout(Some(IO_TIMEOUT))?;
                s.set_write_timeout(Some(IO_TIMEOUT))?;
                s.set_nodelay(true)?;
                s
            }
        };
        let connection = if self.fresh { "close" } else { "keep-alive" };
        let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: {connection}\r\n", self.addr);
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        let body = body.unwrap_or("");
        if method != "GET" {
            req.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        req.push_str("\r\n");
        req.push_str(body);
        s.write_all(req.as_bytes())?;
        let (reply, reusable) = read_reply(&mut s, method)?;
        if reusable && !self.fresh {
            self.stream = Some(s);
        }
        Ok(reply)
    }
}

/// Reads one response from `s`; also says whether the connection can carry another request
/// (the response was framed by length, not by EOF, and did not say `connection: close`).
fn read_reply(s: &mut TcpStream, method: &str) -> std::io::Result<(Reply, bool)> {
    let eof = || std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "connection closed mid-response");
    let mut raw = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    let split = loop {
        let n = s.read(&mut buf)?;
        if n == 0 {
            return Err(eof());
        }
        raw.extend_from_slice(&buf[..n]);
        if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
    };
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "no HTTP status line"))?;
    let header = |name: &str| {
        head.lines()
            .skip(1)
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_owned())
    };
    let chunked = header("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let length: Option<usize> = header("content-length").and_then(|v| v.parse().ok());
    let no_body = method == "HEAD" || status == 204 || status == 304 || length == Some(0);
    let wasm_memory = header("x-layers-wasm-memory").and_then(|v| v.parse().ok());
    let mut reusable = (no_body || chunked || length.is_some())
        && !header("connection").is_some_and(|v| v.eq_ignore_ascii_case("close"));
    let mut body = raw.split_off(split + 4);
    let complete =
        |body: &[u8]| no_body || length.is_some_and(|l| body.len() >= l) || (chunked && body.ends_with(b"0\r\n\r\n"));
    while !complete(&body) {
        let n = s.read(&mut buf)?;
        if n == 0 {
            if length.is_none() && !chunked {
                reusable = false;
                break; // framed by EOF
            }
            return Err(eof());
        }
        body.extend_from_slice(&buf[..n]);
    }
    if no_body {
        body.clear();
    } else if chunked {
        body = dechunk(&body);
    } else if let Some(l) = length {
        // Bytes past the declared length would be a second response nobody asked for.
        reusable &= body.len() == l;
        body.truncate(l);
    }
    Ok((Reply { status, body, wasm_memory }, reusable))
}

/// The payload of a chunked body.
fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(nl) = b.windows(2).position(|w| w == b"\r\n") {
        let size_line = std::str::from_utf8(&b[..nl]).unwrap_or("0");
        let size = usize::from_str_radix(size_line.split(';').next().unwrap_or("0").trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = nl + 2;
        out.extend_from_slice(&b[start..(start + size).min(b.len())]);
        b = &b[(start + size + 2).min(b.len())..];
    }
    out
}

/// Resident memory (`VmRSS`, KiB) of the two workerd processes `wrangler dev` runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Rss {
    /// The workerd that runs the Worker (and its local D1, KV, R2): started with an inspector.
    pub(crate) app: u64,
    /// wrangler's own entry workerd: its proxy and inspector-proxy Workers, no app code.
    pub(crate) proxy: u64,
}

/// Reads one figure of an [`Rss`] sample.
type RssOf = fn(&Rss) -> u64;

impl Rss {
    const ROLES: [(&'static str, RssOf); 3] = [
        ("app workerd (the Worker, local D1/KV/R2)", |r| r.app),
        ("wrangler's proxy workerd", |r| r.proxy),
        ("both workerd", Rss::total),
    ];

    pub(crate) fn total(&self) -> u64 {
        self.app + self.proxy
    }
}

/// Prints how the Worker's linear memory grew, from the sizes responses reported; a problem
/// when none was reported or when it grew by more than [`WASM_LATE_GROWTH`] after the first
/// quarter of the run (a steady load keeps a leak-free Worker at its early high-water mark).
fn report_wasm(seen: &mut [(Duration, u64)], elapsed: Duration) -> Option<String> {
    seen.sort_unstable();
    let (Some(&(_, first)), Some(&max)) = (seen.first(), seen.iter().map(|(_, b)| b).max()) else {
        return Some("no response reported the Worker's wasm memory (`x-layers-wasm-memory`)".to_owned());
    };
    // When the memory last reached a size not seen before: after that it stayed within it.
    let mut high = 0;
    let mut last_growth = Duration::ZERO;
    for &(at, bytes) in seen.iter() {
        if bytes > high {
            high = bytes;
            last_growth = at;
        }
    }
    let mb = |b: u64| b as f64 / (1024.0 * 1024.0);
    log(format!(
        "soak: the Worker's wasm linear memory: {:.2} MiB at the first response, {:.2} MiB at most; last grew \
         {:.1} s into the {:.0} s run",
        mb(first),
        mb(max),
        last_growth.as_secs_f64(),
        elapsed.as_secs_f64()
    ));
    let quarter = elapsed / 4;
    let early = seen.iter().filter(|(at, _)| *at <= quarter).map(|(_, b)| *b).max().unwrap_or(first);
    (max > early + WASM_LATE_GROWTH).then(|| {
        format!(
            "the Worker's wasm memory grew from {:.2} MiB (first quarter) to {:.2} MiB: a leak in the Worker?",
            mb(early),
            mb(max)
        )
    })
}

/// Prints the heap samples of the Worker's isolate the DevTools stand-in took; a problem when
/// there are none or when the last exceeds twice the largest of the run's first half plus
/// [`HEAP_SLACK`] (what survives a full collection must not keep growing under steady load).
fn report_heap(d: &crate::devtools::Drained, elapsed: Duration) -> Option<String> {
    if let Some(e) = &d.heap_error {
        return Some(format!("the Worker's inspector answered a heap probe with an error: {e}"));
    }
    let (Some(first), Some(last)) = (d.heap.first(), d.heap.last()) else {
        return Some("no heap sample of the Worker's isolate was answered".to_owned());
    };
    let mb = |b: u64| b as f64 / (1024.0 * 1024.0);
    log(format!(
        "soak: the Worker's isolate after a full GC ({} samples, every {} s, the last at {:.0} s): JS heap used \
         {:.1} → {:.1} MiB (max {:.1}, reserved {:.1} → {:.1}); each tenth: {}",
        d.heap.len(),
        crate::devtools::HEAP_EVERY.as_secs(),
        last.at.as_secs_f64(),
        mb(first.used),
        mb(last.used),
        mb(d.heap.iter().map(|h| h.used).max().unwrap_or(0)),
        mb(first.total),
        mb(last.total),
        tenths(&d.heap, |h| format!("{:.1}", mb(h.used)))
    ));
    if let (Some(a), Some(b)) = (first.backing, last.backing) {
        log(format!(
            "soak: the Worker's array buffers (V8's backingStorageSize, outside the wasm memory): {:.1} → {:.1} \
             MiB; each tenth: {}",
            mb(a),
            mb(b),
            tenths(&d.heap, |h| format!("{:.1}", mb(h.backing.unwrap_or(0))))
        ));
    }
    let half = elapsed / 2;
    let early = d.heap.iter().filter(|h| h.at <= half).map(|h| h.used).max().unwrap_or(first.used);
    (last.used > 2 * early + HEAP_SLACK).then(|| {
        format!(
            "the Worker's JS heap after a full GC grew from at most {:.1} MiB in the first half to {:.1} MiB",
            mb(early),
            mb(last.used)
        )
    })
}

/// A series at the start of the run and after each tenth of it: `a → b → … → k` (11 values,
/// from evenly spaced samples; empty for no samples).
fn tenths<T>(samples: &[T], show: impl Fn(&T) -> String) -> String {
    if samples.is_empty() {
        return String::new();
    }
    (0..=10).map(|i| show(&samples[(samples.len() - 1) * i / 10])).collect::<Vec<_>>().join(" → ")
}

fn mib(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

/// Total `VmRSS` (KiB) of the `workerd` processes in process group `pgid`, if any.
pub(crate) fn workerd_rss_kb(pgid: u32) -> Option<u64> {
    workerd_rss(pgid).map(|r| r.total())
}

/// `VmRSS` (KiB) of the `workerd` processes in process group `pgid`, by role: the one started
/// with `--inspector-addr` runs the Worker; the others are wrangler's proxy.
pub(crate) fn workerd_rss(pgid: u32) -> Option<Rss> {
    let pgid = pgid.to_string();
    let mut rss: Option<Rss> = None;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ppid pgrp …`; comm may contain spaces and parentheses.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = &stat[open + 1..close];
        let pgrp = stat[close + 1..].split_whitespace().nth(2);
        if !comm.starts_with("workerd") || pgrp != Some(pgid.as_str()) {
            continue;
        }
        let Ok(status) = std::fs::read_to_string(entry.path().join("status")) else {
            continue;
        };
        let kb = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<u64>().ok());
        let Some(kb) = kb else { continue };
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let runs_app = cmdline.split(|b| *b == 0).any(|arg| arg.starts_with(b"--inspector-addr"));
        let r = rss.get_or_insert_with(Rss::default);
        if runs_app {
            r.app += kb;
        } else {
            r.proxy += kb;
        }
    }
    rss
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
