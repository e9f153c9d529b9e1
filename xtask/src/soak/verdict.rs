//! The verdict: the run's figures printed (requests, statuses, latency, rows, the Worker's wasm
//! memory and JS heap, workerd's RSS), then the checks it must pass: D1 rows == 2xx writes, no
//! 5xx, no transport error, the Worker's memory level, workerd's RSS within its guard.

use std::collections::BTreeSet;
use std::time::Duration;

use super::load::Tally;
use super::rss::Rss;
use super::RSS_EVERY;
use crate::devtools::Drained;
use crate::util::{log, Result};

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

/// What a soak run measured, for the verdict.
pub(super) struct Run {
    /// Every client thread's tally, summed.
    pub(super) total: Tally,
    /// Requests sent: responses and transport errors.
    pub(super) requests: u64,
    /// The addresses whose write was answered 2xx.
    pub(super) written: BTreeSet<String>,
    /// The addresses of this run that D1 holds, read back through the app.
    pub(super) rows: BTreeSet<String>,
    /// How long the load ran.
    pub(super) elapsed: Duration,
    /// What the DevTools stand-in drained (`None`: detached).
    pub(super) drained: Option<Result<Drained>>,
    /// workerd's RSS when the load started.
    pub(super) first: Rss,
    /// workerd's RSS samples (every [`RSS_EVERY`]).
    pub(super) samples: Vec<Rss>,
}

/// Prints the figures of `run` and checks rows, statuses and memory; the problems found fail it.
pub(super) fn judge(run: Run) -> Result<()> {
    let Run { mut total, requests, written, rows, elapsed, drained, first, samples } = run;
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
fn report_heap(d: &Drained, elapsed: Duration) -> Option<String> {
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

/// KiB in MiB.
fn mib(kb: u64) -> f64 {
    kb as f64 / 1024.0
}
