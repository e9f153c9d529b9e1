//! `BENCHMARKS.md`: the figures of a run ([`Figures`]) rendered as Markdown, one section per
//! part of the bench, then the Targets table ([`super::targets`]). The same inputs give the
//! same bytes.

use std::fmt::Write as _;
use std::process::Command;

use super::load::median;
use super::targets;
use super::workers::{load_routes, plain_routes, wi, WORKERS};
use super::{Figures, Options};
use crate::cold::ColdStart;
use crate::util::output;
use crate::Ctx;

/// `BENCHMARKS.md` (or, for a smoke run, `target/bench-smoke.md`): how the figures were
/// measured, each section's table, then the targets met or not.
#[allow(clippy::too_many_lines)]
pub(super) fn render(ctx: &Ctx, opts: &Options, fig: &Figures, secs: u64) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Benchmarks\n");
    let cmd = if opts.smoke {
        "cargo xtask bench --smoke (CI smoke: figures are not meaningful)".to_owned()
    } else {
        format!(
            "cargo xtask bench --seconds {} --connections {} --rounds {} --warmup {} --compile-routes {}",
            opts.seconds, opts.connections, opts.rounds, opts.warmup, opts.compile_routes
        )
    };
    let _ = writeln!(s, "Command: `{cmd}` — took {} min.  ", secs / 60);
    let _ = writeln!(s, "Machine: {}.  ", machine());
    let head = output(Command::new("git").args(["rev-parse", "--short", "HEAD"]).current_dir(&ctx.root));
    let _ = writeln!(s, "Commit: {}.\n", head.unwrap_or_default().trim());
    let _ = writeln!(
        s,
        "Every ratio compares two figures measured in this run. Absolute numbers drift on a shared machine.\n"
    );

    let _ = writeln!(s, "## Router (native, criterion, matchit's 130 GitHub routes × 130 paths)\n");
    if let Some((l, m)) = fig.router_ns {
        let _ = writeln!(s, "| router | time for 130 lookups | per lookup |\n|---|---|---|");
        let _ = writeln!(s, "| layers | {:.1} µs | {:.0} ns |", l / 1000.0, l / 130.0);
        let _ = writeln!(s, "| matchit 0.9 | {:.1} µs | {:.0} ns |\n", m / 1000.0, m / 130.0);
    }
    if let Some((la, ma, n)) = fig.allocs {
        let _ = writeln!(s, "Allocations for {n} lookups (dhat): layers {la}, matchit {ma}.\n");
    }
    if !fig.verify_ns.is_empty() {
        let _ = writeln!(s, "## Verifiers (native, criterion, one verification)\n");
        let _ = writeln!(s, "| verifier | time |\n|---|---|");
        for (id, ns) in &fig.verify_ns {
            let _ = writeln!(s, "| {id} | {:.2} µs |", ns / 1000.0);
        }
        let _ = writeln!(
            s,
            "\nAccessJwt: a token seen for the first time (RS256 with jwt-compact here; WebCrypto in Workers). \
             AccessJwt-repeat: the same token again, remembered by the verified-token cache (key set and clock still checked).\n"
        );
    }

    if !fig.load.is_empty() {
        let _ = writeln!(
            s,
            "## workerd (wrangler dev --local --log-level error, loopback; autocannon {} s × {} connections after a {} s warm-up, {} alternating round(s), median)\n",
            opts.seconds, opts.connections, opts.warmup, opts.rounds
        );
        let _ = writeln!(
            s,
            "| route | Worker | req/s | p50 | p99 | layers ÷ this | layers (errors-only logs) ÷ this |\n|---|---|---|---|---|---|---|"
        );
        let (layers_i, quiet_i) = (wi("layers"), wi("layers-quiet"));
        for (ri, r) in load_routes(opts).iter().enumerate() {
            let (layers, quiet) = (fig.load[layers_i][ri].rps, fig.load[quiet_i][ri].rps);
            for (i, w) in WORKERS.iter().enumerate() {
                let l = fig.load[i][ri];
                let ratio =
                    |x: f64| if i == layers_i || i == quiet_i { "—".to_owned() } else { format!("{:.2}", x / l.rps) };
                let _ = writeln!(
                    s,
                    "| {} | {} | {:.0} | {:.2} ms | {:.2} ms | {} | {} |",
                    r.label,
                    w.label,
                    l.rps,
                    l.p50_ms,
                    l.p99_ms,
                    ratio(layers),
                    ratio(quiet)
                );
            }
        }
        let _ = writeln!(s);
        if !fig.rss.is_empty() {
            let _ =
                writeln!(s, "workerd RSS over all load runs (memory growth is the same question for every Worker):\n");
            let _ = writeln!(
                s,
                "| Worker | requests | RSS before | RSS after | KiB per 1000 requests |\n|---|---|---|---|---|"
            );
            for (w, (before, after, served)) in WORKERS.iter().zip(&fig.rss) {
                #[allow(clippy::cast_precision_loss)]
                let per_k = after.saturating_sub(*before) as f64 * 1000.0 / (*served).max(1) as f64;
                let _ = writeln!(
                    s,
                    "| {} | {served} | {:.1} MiB | {:.1} MiB | {per_k:.0} |",
                    w.label,
                    *before as f64 / 1024.0,
                    *after as f64 / 1024.0
                );
            }
            let _ = writeln!(s);
        }
    }

    if !fig.plain.is_empty() {
        render_plain(&mut s, opts, fig);
    }

    if !fig.cold.is_empty() {
        render_cold(&mut s, fig);
    }

    if !fig.wasm.is_empty() {
        let _ = writeln!(s, "## wasm size (worker-build --release, same wasm-opt)\n");
        let _ = writeln!(s, "| Worker | raw | gzip -9 |\n|---|---|---|");
        for (label, raw, gz) in &fig.wasm {
            let _ = writeln!(s, "| {label} (bench/) | {raw} B | {gz} B |");
        }
        if let Some((raw, gz)) = fig.app_wasm {
            let _ = writeln!(s, "| reference app (app/) | {raw} B | {gz} B |");
        }
        let _ = writeln!(s);
    }

    if let Some(c) = &fig.compile {
        let _ = writeln!(
            s,
            "## Compile time ({} generated routes, wasm32, dependencies prebuilt; median of {} alternating round(s))\n",
            c.routes, c.rounds
        );
        let _ =
            writeln!(s, "| app | cold release | cold dev | incremental dev (one handler touched) |\n|---|---|---|---|");
        for (label, f) in [("layers", &c.layers), ("hand-written", &c.hand)] {
            let _ = writeln!(
                s,
                "| {label} | {:.1} s | {:.1} s | {:.2} s |",
                f.cold_release_s, f.cold_dev_s, f.incremental_dev_s
            );
        }
        let _ = writeln!(s);
    }

    if opts.smoke {
        let _ = writeln!(
            s,
            "## Targets\n\nNot judged in a smoke run (1-s loads, one route each; see `cargo xtask bench`)."
        );
        return s;
    }
    let _ = writeln!(s, "## Targets\n\n| target | figure | |\n|---|---|---|");
    for (name, figure, ok) in &targets::judge(fig) {
        let _ = writeln!(s, "| {name} | {figure} | {} |", verdict(*ok));
    }
    s
}

/// The plain-workerd section: the same Workers without wrangler's dev machinery.
fn render_plain(s: &mut String, opts: &Options, fig: &Figures) {
    let _ = writeln!(
        s,
        "## workerd alone (plain `workerd serve`, no wrangler: no dev proxy, no inspector, console lines to a file; autocannon {} s × {} connections after a {} s warm-up, {} alternating round(s), median)\n",
        opts.seconds, opts.connections, opts.warmup, opts.rounds
    );
    let _ = writeln!(
        s,
        "Under `wrangler dev` every request also crosses wrangler's proxy workerd, and every console line is shipped to wrangler's Node.js process and source-mapped there; on a 2-core machine those compete with the Worker. Here workerd runs the Worker alone (routes without local storage only), and its own CPU time per request is measured as well.\n"
    );
    let _ = writeln!(
        s,
        "| route | Worker | req/s | p50 | p99 | workerd CPU per request | layers ÷ this (req/s) | layers (errors-only logs) ÷ this (req/s) |\n|---|---|---|---|---|---|---|---|"
    );
    let (layers_i, quiet_i) = (wi("layers"), wi("layers-quiet"));
    for (ri, r) in plain_routes(opts).iter().enumerate() {
        let (layers, quiet) = (fig.plain[layers_i][ri].load.rps, fig.plain[quiet_i][ri].load.rps);
        for (i, w) in WORKERS.iter().enumerate() {
            let p = fig.plain[i][ri];
            let ratio = |x: f64| {
                if i == layers_i || i == quiet_i {
                    "—".to_owned()
                } else {
                    format!("{:.2}", x / p.load.rps)
                }
            };
            let _ = writeln!(
                s,
                "| {} | {} | {:.0} | {:.2} ms | {:.2} ms | {:.0} µs | {} | {} |",
                r.label,
                w.label,
                p.load.rps,
                p.load.p50_ms,
                p.load.p99_ms,
                p.cpu_us,
                ratio(layers),
                ratio(quiet)
            );
        }
    }
    let _ = writeln!(s);
    if !fig.plain_rss.is_empty() {
        let _ = writeln!(s, "workerd RSS (MiB) after the warm-up, then after each round:\n");
        let _ = writeln!(s, "| Worker | RSS |\n|---|---|");
        for (w, samples) in WORKERS.iter().zip(&fig.plain_rss) {
            #[allow(clippy::cast_precision_loss)]
            let curve: Vec<String> = samples.iter().map(|kb| format!("{:.0}", *kb as f64 / 1024.0)).collect();
            let _ = writeln!(s, "| {} | {} |", w.label, curve.join(" → "));
        }
        let _ = writeln!(s);
    }
}

/// The cold-start section: medians per Worker.
fn render_cold(s: &mut String, fig: &Figures) {
    let n = fig.cold.first().map_or(0, |(_, r)| r.len());
    let _ = writeln!(
        s,
        "## Cold start (plain workerd, a new process per sample, median of {n})\n\n\
         *startup*: spawning workerd until its socket accepts (it loads the Worker — glue, wasm compile and \
         instantiation — before it listens); *first response*: from then to the first request's complete answer \
         (everything the Worker builds on first use). The first `console.log` of a workerd isolate loads Node's \
         `inspect` formatter, which a Worker that logs pays on its first request: hence the rows with and without \
         a log line.\n"
    );
    let _ = writeln!(s, "| Worker | startup | first response | total |\n|---|---|---|---|");
    let med = |runs: &[ColdStart], f: fn(&ColdStart) -> f64| f(&median(runs, f));
    for (label, runs) in &fig.cold {
        let _ = writeln!(
            s,
            "| {label} | {:.1} ms | {:.1} ms | {:.1} ms |",
            med(runs, |c| c.startup_ms),
            med(runs, |c| c.first_ms),
            med(runs, |c| c.total_ms())
        );
    }
    let _ = writeln!(s);
}

/// A target's cell in the Targets table.
fn verdict(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "**not met**"
    }
}

/// The machine the figures were measured on: CPU, cores, RAM, OS, rustc, node.
fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| t.lines().next().and_then(|l| l.split_whitespace().nth(1)).and_then(|k| k.parse::<u64>().ok()))
        .map_or_else(String::new, |kb| format!(", {} GiB RAM", kb / 1024 / 1024));
    let os = output(Command::new("uname").args(["-sr"])).unwrap_or_default();
    let rustc = output(Command::new("rustc").arg("--version")).unwrap_or_default();
    let node = output(Command::new("node").arg("--version")).unwrap_or_default();
    format!("{cpu}, {cores} cores{mem}; {}; {}; node {}", os.trim(), rustc.trim(), node.trim())
}
