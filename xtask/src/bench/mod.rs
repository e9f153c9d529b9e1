//! `cargo xtask bench`: layers against what a user would pick instead, in one run on this
//! machine, every figure a ratio against a baseline measured in the same run (issue 6).
//!
//! 1. **Router** (criterion, native): layers' router vs matchit on matchit's GitHub data set
//!    (`tests/benches/router.rs`), and allocations per lookup (`tests/tests/router_alloc.rs`).
//! 2. **Verifiers** (criterion, native): ApiKey, SignedToken, Webhook, AccessJwt (warm keys).
//! 3. **workerd**: the three Workers of `bench/` (layers — twice, the second time with `LAYERS_LOG=errors` —,
//!    hand-written workers-rs — twice, the second time writing one JSON line per request —, Hono), each
//!    under its own `wrangler dev` on loopback, loaded by autocannon (`bench/load/`) for a fixed
//!    duration and connection count; routes and Workers alternate round by round and the
//!    median round is reported. The Access token is signed with a fixture key; the JWKS comes
//!    from the loopback stubs and is cached by all of them after the warm-up request.
//!    Then the same Workers again under plain `workerd serve` ([`crate::plain`]: no wrangler
//!    proxy, no inspector, no Node.js log pipeline) on the routes without storage, with
//!    workerd's CPU time per request and its RSS after every round.
//! 4. **wasm size** of the layers Worker vs the hand-written one (same worker-build/wasm-opt).
//! 5. **Compile time** of a generated 200-route app, layers vs hand-written (`bench_compile/`).
//!
//! `--smoke` (part of `cargo xtask test`) runs every part that is cheap enough for CI — the
//! criterion benches in test mode, every Worker's answers on every route checked, then one 1-s
//! load per Worker under `wrangler dev` (Access + D1) and one in plain workerd (Access, token
//! cache off), no warm-up — judges no targets, and writes `target/bench-smoke.md` instead of
//! `BENCHMARKS.md`.
//!
//! Here: the options, the steps of a run and the figures they collect ([`Figures`]). The rest,
//! one concern per module:
//!
//! * `workers`: the Workers of `bench/` and the routes they all answer;
//! * `load`: the load runs under `wrangler dev` and in plain workerd, in alternating rounds;
//! * `autocannon`: one run of the load generator and what it measured;
//! * `http`: one GET over loopback (the answers checked before any load);
//! * `report`: the figures rendered as `BENCHMARKS.md`;
//! * `targets`: the targets judged against the figures (the report's last table).

mod autocannon;
pub(crate) mod http;
mod load;
mod report;
mod targets;
mod workers;

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use load::{load_workers, median, PlainLoad};
use workers::WORKERS;

use crate::util::{self, log, option_values, output, run, Result};
use crate::{bench_compile, ensure, plain, Ctx};

/// Options of `cargo xtask bench`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Options {
    /// A few seconds of everything, for CI.
    pub(crate) smoke: bool,
    /// Seconds per load run.
    pub(crate) seconds: u64,
    /// Concurrent connections of the load generator.
    pub(crate) connections: u32,
    /// Alternating rounds (the median is reported).
    pub(crate) rounds: u32,
    /// Seconds of unrecorded load per Worker and route before the first round (V8 tiers the
    /// wasm up from its baseline compiler while it runs hot; the first seconds are slower).
    pub(crate) warmup: u64,
    /// Routes of the generated compile-time app (0 skips that part).
    pub(crate) compile_routes: usize,
}

impl Options {
    /// What `cargo xtask test` runs.
    pub(crate) const SMOKE: Options =
        Options { smoke: true, seconds: 1, connections: 4, rounds: 1, warmup: 0, compile_routes: 0 };
}

pub(crate) fn parse_options(rest: &[String]) -> Result<Options> {
    let mut opts = Options {
        smoke: false,
        seconds: 10,
        connections: 16,
        rounds: 3,
        warmup: 5,
        compile_routes: bench_compile::DEFAULT_ROUTES,
    };
    let (flags, values): (Vec<String>, Vec<String>) = rest.iter().cloned().partition(|a| a == "--smoke");
    if !flags.is_empty() {
        opts = Options::SMOKE;
    }
    let known = ["--seconds", "--connections", "--rounds", "--warmup", "--compile-routes"];
    for (name, v) in option_values(&values, &known, "bench")? {
        match name.as_str() {
            "--seconds" => opts.seconds = util::number_in(&name, &v, 1..=600, "1–600")?,
            "--connections" => opts.connections = util::number_in(&name, &v, 1..=512, "1–512")?,
            "--rounds" => opts.rounds = util::number_in(&name, &v, 1..=20, "1–20")?,
            "--warmup" => opts.warmup = util::number_in(&name, &v, 0..=120, "0–120")?,
            _ => opts.compile_routes = util::number_in(&name, &v, 0..=2000, "0–2000 (0 skips it)")?,
        }
    }
    Ok(opts)
}

/// Everything measured, for the table.
#[derive(Default)]
struct Figures {
    /// criterion's mean for the 130 lookups, ns: layers, matchit.
    router_ns: Option<(f64, f64)>,
    /// Allocations (dhat): layers, matchit, and the lookups they were counted over.
    allocs: Option<(u64, u64, usize)>,
    /// criterion's mean per verifier, ns.
    verify_ns: Vec<(String, f64)>,
    /// `[worker][route]` medians.
    load: Vec<Vec<autocannon::Load>>,
    /// Per Worker: workerd RSS (KiB) before and after its load runs, and the requests served.
    rss: Vec<(u64, u64, u64)>,
    /// Plain `workerd serve` (no wrangler): `[worker][route]` medians for
    /// [`workers::PLAIN_ROUTES`].
    plain: Vec<Vec<PlainLoad>>,
    /// Plain workerd, per Worker: RSS (KiB) after the warm-up and after each round.
    plain_rss: Vec<Vec<u64>>,
    /// The bench Workers' wasm (label, raw bytes, gzip -9 bytes).
    wasm: Vec<(String, u64, u64)>,
    /// The reference app's wasm (raw bytes, gzip -9 bytes).
    app_wasm: Option<(u64, u64)>,
    compile: Option<bench_compile::CompileFigures>,
    /// Cold starts in plain workerd, per Worker (label, samples).
    cold: Vec<(String, Vec<crate::cold::ColdStart>)>,
}

pub(crate) fn bench(ctx: &mut Ctx, opts: &Options) -> Result<()> {
    let tools = ensure::ensure(ctx)?;
    let mut fig = Figures::default();
    let t0 = Instant::now();

    // 1–2: criterion.
    if opts.smoke {
        ctx.step("bench: criterion benches, test mode (one iteration each)", |ctx| {
            run(ctx.cargo_cmd().args(["test", "-p", "layers-tests", "--bench", "router", "--bench", "verify"]))
        })?;
    } else {
        for bench in ["router", "verify"] {
            ctx.step(&format!("bench: criterion `{bench}`"), |ctx| {
                run(ctx.cargo_cmd().args(["bench", "-p", "layers-tests", "--bench", bench, "--"]).args([
                    "--warm-up-time",
                    "2",
                    "--measurement-time",
                    "5",
                ]))
            })?;
        }
        let crit = ctx.root.join("target").join("criterion");
        fig.router_ns = Some((mean_ns(&crit, "router", "layers")?, mean_ns(&crit, "router", "matchit")?));
        for id in ["ApiKey", "SignedToken", "Webhook", "AccessJwt", "AccessJwt-repeat"] {
            fig.verify_ns.push((id.to_owned(), mean_ns(&crit, "verify", id)?));
        }
    }
    fig.allocs = Some(ctx.step("bench: allocations per lookup (dhat)", |ctx| {
        let mut cmd = ctx.cargo_cmd();
        cmd.args(["test", "-p", "layers-tests", "--test", "router_alloc", "--", "--nocapture"]);
        let out = output(&mut cmd).ok_or_else(|| format!("`{}` failed", util::describe(&cmd)))?;
        parse_allocs(&out).ok_or_else(|| format!("no allocation figures in the output of `{}`", util::describe(&cmd)))
    })?);

    // 3–4: the Workers.
    let bench_dir = ctx.root.join("bench");
    // The layers Worker is built twice: as compared for size (the routes the hand-written
    // Worker has), into `build-size/`; and as served, into `build/`, with the extra
    // token-cache-off route (feature `uncached-route`) the load runs also measure.
    let builds: [(&str, &str, &str, Option<&str>); 3] = [
        ("layers", "layers-worker", "build-size", None),
        ("layers", "layers-worker", "build", Some("uncached-route")),
        ("hand", "hand-worker", "build", None),
    ];
    for (key, dir_name, out_dir, features) in builds {
        let dir = bench_dir.join(dir_name);
        let what = match features {
            Some(f) => format!("bench: worker-build --release bench/{dir_name} --features {f} (served)"),
            None => format!("bench: worker-build --release bench/{dir_name} into {out_dir}/"),
        };
        let (raw, gz) = ctx.step(&what, |ctx| {
            let mut cmd = Command::new(&tools.worker_build);
            cmd.args(["--release", "--out-dir", out_dir]);
            if let Some(f) = features {
                cmd.args([".", "--features", f]);
            }
            cmd.current_dir(&dir)
                .env("WASM_BINDGEN_BIN", &tools.wasm_bindgen)
                .env("WASM_OPT_BIN", ctx.node_bin("wasm-opt"))
                .env("ESBUILD_BIN", ctx.node_bin("esbuild"));
            run(&mut cmd)?;
            wasm_size(&dir.join(out_dir).join("index_bg.wasm"))
        })?;
        if features.is_none() {
            let label = WORKERS.iter().find(|w| w.key == key).map_or(key, |w| w.label);
            fig.wasm.push((label.to_owned(), raw, gz));
        }
    }
    fig.app_wasm = wasm_size(&ctx.app.join("build").join("index_bg.wasm")).ok();
    let load_dir = bench_dir.join("load");
    let hono_dir = bench_dir.join("hono-worker");
    ctx.step("bench: npm packages (autocannon, hono)", |ctx| {
        ensure::npm_ci(ctx, &load_dir, "autocannon", &load_dir.join("node_modules").join(".bin").join("autocannon"))?;
        ensure::npm_ci(ctx, &hono_dir, "hono", &hono_dir.join("node_modules").join("hono").join("package.json"))
    })?;
    (fig.load, fig.rss, fig.plain, fig.plain_rss) =
        ctx.step("bench: load the Workers in workerd", |ctx| load_workers(ctx, opts, &bench_dir))?;

    // Cold starts: a new workerd per sample.
    fig.cold = ctx.step("bench: cold starts in plain workerd", |ctx| cold_starts(ctx, opts, &bench_dir))?;

    // 5: compile time.
    if opts.compile_routes > 0 {
        fig.compile = Some(ctx.step(&format!("bench: compile time, {} routes", opts.compile_routes), |ctx| {
            bench_compile::run(ctx, opts.compile_routes, false, opts.rounds)
        })?);
    }

    let report = report::render(ctx, opts, &fig, t0.elapsed().as_secs());
    println!("\n{report}");
    let path = if opts.smoke { ctx.root.join("target").join("bench-smoke.md") } else { ctx.root.join("BENCHMARKS.md") };
    std::fs::write(&path, &report).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    log(format!("wrote {}", path.display()));
    Ok(())
}

/// Labels of the cold-start rows (the targets find them by these).
pub(crate) mod cold_label {
    pub(crate) const APP: &str = "reference app (app/)";
    pub(crate) const LAYERS: &str = "layers (bench/)";
    pub(crate) const LAYERS_QUIET: &str = "layers, LAYERS_LOG=errors (bench/)";
    pub(crate) const HAND: &str = "hand-written workers-rs (bench/)";
    pub(crate) const HAND_LOG: &str = "hand-written, one JSON line per request (bench/)";
}

/// Cold starts of the reference app, the bench layers Worker and the hand-written one, each
/// with and without its log line (the first `console.log` of an isolate has a cost of its own):
/// a new plain workerd per sample (10, or 3 in a smoke run), the Workers taking turns sample by
/// sample, each answering one public request.
fn cold_starts(ctx: &mut Ctx, opts: &Options, bench_dir: &Path) -> Result<Vec<(String, Vec<crate::cold::ColdStart>)>> {
    let samples = if opts.smoke { 3 } else { 10 };
    let root = ctx.root.join("target").join("bench-cold");
    let (layers, hand) = (bench_dir.join("layers-worker").join("build"), bench_dir.join("hand-worker").join("build"));
    // (label, build, path, state directory, vars)
    type ColdWorker<'a> = (&'a str, &'a Path, &'a str, &'a str, &'a [(&'a str, &'a str)]);
    let workers: [ColdWorker<'_>; 5] = [
        (cold_label::APP, &ctx.app.join("build"), "/hello/cold", "app", &[]),
        (cold_label::LAYERS, &layers, "/hello", "layers", &[]),
        (cold_label::LAYERS_QUIET, &layers, "/hello", "layers-quiet", &[("LAYERS_LOG", "errors")]),
        (cold_label::HAND, &hand, "/hello", "hand", &[]),
        (cold_label::HAND_LOG, &hand, "/hello", "hand-log", &[("HAND_LOG", "wide")]),
    ];
    let mut runs: Vec<Vec<crate::cold::ColdStart>> = vec![Vec::with_capacity(samples); workers.len()];
    for _ in 0..samples {
        for (i, (_, build, path, key, vars)) in workers.iter().enumerate() {
            let (js, wasm) = (build.join("index.js"), build.join("index_bg.wasm"));
            let modules = [plain::Module::Es("index.js", &js), plain::Module::Wasm("index_bg.wasm", &wasm)];
            runs[i].extend(crate::cold::measure(ctx, &root.join(key), &modules, vars, path, 1)?);
        }
    }
    let mut out = Vec::new();
    for ((label, ..), runs) in workers.iter().zip(runs) {
        let med = |f: fn(&crate::cold::ColdStart) -> f64| f(&median(&runs, f));
        log(format!(
            "cold start {label}: startup {:.1} ms, first response {:.1} ms, total {:.1} ms (medians of {samples})",
            med(|c| c.startup_ms),
            med(|c| c.first_ms),
            med(|c| c.total_ms())
        ));
        out.push(((*label).to_owned(), runs));
    }
    let _ = std::fs::remove_dir_all(&root);
    Ok(out)
}

/// criterion's mean estimate for `group/id`, in ns.
fn mean_ns(crit: &Path, group: &str, id: &str) -> Result<f64> {
    let path = crit.join(group).join(id).join("new").join("estimates.json");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", path.display()))?;
    v["mean"]["point_estimate"].as_f64().ok_or_else(|| format!("{} has no mean.point_estimate", path.display()))
}

/// `(layers allocations, matchit allocations, lookups)` from the alloc test's output.
fn parse_allocs(out: &str) -> Option<(u64, u64, usize)> {
    let grab = |prefix: &str| -> Option<(u64, usize)> {
        let line = out.lines().find(|l| l.starts_with(prefix))?;
        let mut nums = line.split(|c: char| !c.is_ascii_digit()).filter(|s| !s.is_empty());
        Some((nums.next()?.parse().ok()?, nums.next()?.parse().ok()?))
    };
    let (l, n) = grab("layers: ")?;
    let (m, _) = grab("matchit: ")?;
    Some((l, m, n))
}

fn wasm_size(path: &Path) -> Result<(u64, u64)> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let gz = util::gzip_best_len(&bytes).map_err(|e| format!("gzip of {} failed: {e}", path.display()))?;
    Ok((bytes.len() as u64, gz))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options() {
        let o = parse_options(&[]).unwrap();
        assert!(!o.smoke && o.seconds == 10 && o.rounds == 3);
        let o = parse_options(&["--smoke".into()]).unwrap();
        assert_eq!(o, Options::SMOKE);
        let o = parse_options(&["--seconds".into(), "5".into(), "--rounds=2".into()]).unwrap();
        assert!(o.seconds == 5 && o.rounds == 2);
        assert!(parse_options(&["--seconds".into(), "0".into()]).is_err());
        assert!(parse_options(&["--bogus".into()]).is_err());
    }

    #[test]
    fn alloc_lines() {
        let out = "running 1 test\nlayers: 0 allocations for 265 lookups\nmatchit: 1 allocations for 130 lookups\n";
        assert_eq!(parse_allocs(out), Some((0, 1, 265)));
        assert_eq!(parse_allocs("nothing"), None);
    }
}
