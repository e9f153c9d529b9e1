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
//! 5. **Compile time** of a generated 200-route app, layers vs hand-written (`bench_compile.rs`).
//!
//! `--smoke` (part of `cargo xtask test`) runs every part that is cheap enough for CI — the
//! criterion benches in test mode, every Worker's answers on every route checked, then one 1-s
//! load per Worker under `wrangler dev` (Access + D1) and one in plain workerd (Access, token
//! cache off), no warm-up — judges no targets, and writes `target/bench-smoke.md` instead of
//! `BENCHMARKS.md`.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::e2e::{free_port, Server, Stubs};
use crate::soak::workerd_rss_kb;
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

/// One Worker under load: a `bench/` directory served with extra vars.
struct Worker {
    key: &'static str,
    label: &'static str,
    dir: &'static str,
    /// Extra lines for its env file.
    vars: &'static str,
}

/// The three Workers, layers a second time with `LAYERS_LOG=errors` and the hand-written one a
/// second time with `HAND_LOG=wide` (the same wasms): layers' default log event is compared
/// with a hand-written Worker writing one comparable JSON line per request, and what logging
/// costs is a figure of its own.
const WORKERS: [Worker; 5] = [
    Worker { key: "layers", label: "layers", dir: "layers-worker", vars: "" },
    Worker {
        key: "layers-quiet",
        label: "layers, LAYERS_LOG=errors",
        dir: "layers-worker",
        vars: "LAYERS_LOG=errors\n",
    },
    Worker { key: "hand", label: "hand-written workers-rs", dir: "hand-worker", vars: "" },
    Worker {
        key: "hand-log",
        label: "hand-written, one JSON line per request",
        dir: "hand-worker",
        vars: "HAND_LOG=wide\n",
    },
    Worker { key: "hono", label: "Hono", dir: "hono-worker", vars: "" },
];

/// The index of `key` in [`WORKERS`].
fn wi(key: &str) -> usize {
    WORKERS.iter().position(|w| w.key == key).unwrap_or(0)
}

/// One benchmark route: path, whether it needs the Access token, the expected body prefix.
struct BenchRoute {
    label: &'static str,
    path: &'static str,
    token: bool,
    body: &'static str,
}

const ROUTES: [BenchRoute; 4] = [
    BenchRoute { label: "public hello", path: "/hello", token: false, body: "hello\n" },
    BenchRoute { label: "Access-JWT hello", path: "/access/hello", token: true, body: "hello bench@example.com\n" },
    // layers with its verified-token cache off (`VERIFIED_TOKENS = 0`): every request pays a
    // first-time verification; the same route in the other Workers (which never remember).
    BenchRoute {
        label: "Access-JWT hello, layers' token cache off",
        path: "/access-uncached/hello",
        token: true,
        body: "hello bench@example.com\n",
    },
    BenchRoute { label: "Access-JWT + D1 read", path: "/access/posts/2", token: true, body: "{\"id\":2,\"title\":" },
];

/// One autocannon run.
#[derive(Debug, Clone, Copy, Default)]
struct Load {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    requests: u64,
    bad: u64,
}

/// Runs `opts.rounds` alternating rounds over `routes` × [`WORKERS`]: in each round, each route
/// on each Worker once, the Worker order rotated per round and route so that no Worker always
/// runs first (or hot). `one(last_of_round, worker, route)` runs one load and returns it, what
/// to add to its log line, and what to keep; a load with a non-2xx response fails the bench.
/// Returns what was kept, by Worker, then route, then round. `setup` names the setup in lines
/// and errors (empty for `wrangler dev`).
fn alternate<T>(
    opts: &Options,
    routes: &[BenchRoute],
    setup: &str,
    mut one: impl FnMut(bool, usize, &BenchRoute) -> Result<(Load, String, T)>,
) -> Result<Vec<Vec<Vec<T>>>> {
    let mut kept: Vec<Vec<Vec<T>>> =
        (0..WORKERS.len()).map(|_| (0..routes.len()).map(|_| Vec::new()).collect()).collect();
    let prefix =
        if setup.is_empty() { String::new() } else { format!("{} ", setup.split(' ').next().unwrap_or(setup)) };
    for round in 0..opts.rounds {
        for (ri, r) in routes.iter().enumerate() {
            for k in 0..WORKERS.len() {
                let wi = (k + round as usize + ri) % WORKERS.len();
                let last_of_round = ri + 1 == routes.len() && k + 1 == WORKERS.len();
                let (l, extra, keep) = one(last_of_round, wi, r)?;
                log(format!(
                    "{prefix}round {}/{} {:<22} {:<24} {:>8.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms{extra} ({} requests, {} not 2xx)",
                    round + 1,
                    opts.rounds,
                    r.label,
                    WORKERS[wi].label,
                    l.rps,
                    l.p50_ms,
                    l.p99_ms,
                    l.requests,
                    l.bad
                ));
                if l.bad > 0 {
                    let setup = if setup.is_empty() { String::new() } else { format!(" ({setup})") };
                    return Err(format!(
                        "{}{setup} {}: {} responses were not 2xx under load",
                        WORKERS[wi].label, r.path, l.bad
                    ));
                }
                kept[wi][ri].push(keep);
            }
        }
    }
    Ok(kept)
}

/// The routes measured in plain workerd (no local D1 there): public hello and the two Access
/// hellos.
const PLAIN_ROUTES: usize = 3;

/// The routes loaded under `wrangler dev`: all of them, or in a smoke run only the one that
/// crosses all three layers (Access, then D1). Every route's answers are checked either way.
fn load_routes(opts: &Options) -> &'static [BenchRoute] {
    if opts.smoke {
        &ROUTES[3..]
    } else {
        &ROUTES
    }
}

/// The routes loaded in plain workerd: [`PLAIN_ROUTES`], or in a smoke run only the Access
/// route that verifies every token in full.
fn plain_routes(opts: &Options) -> &'static [BenchRoute] {
    if opts.smoke {
        &ROUTES[2..PLAIN_ROUTES]
    } else {
        &ROUTES[..PLAIN_ROUTES]
    }
}

/// One load run against plain workerd, with the CPU time workerd spent on it.
#[derive(Debug, Clone, Copy, Default)]
struct PlainLoad {
    load: Load,
    /// workerd's CPU time (user + system) per request, µs.
    cpu_us: f64,
}

/// Everything measured, for the table.
#[derive(Default)]
struct Figures {
    router_ns: Option<(f64, f64)>,
    allocs: Option<(u64, u64, usize)>,
    verify_ns: Vec<(String, f64)>,
    /// `[worker][route]` medians.
    load: Vec<Vec<Load>>,
    /// Per Worker: workerd RSS (KiB) before and after its load runs, and the requests served.
    rss: Vec<(u64, u64, u64)>,
    /// Plain `workerd serve` (no wrangler): `[worker][route]` medians for [`PLAIN_ROUTES`].
    plain: Vec<Vec<PlainLoad>>,
    /// Plain workerd, per Worker: RSS (KiB) after the warm-up and after each round.
    plain_rss: Vec<Vec<u64>>,
    wasm: Vec<(String, u64, u64)>,
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

    let report = render(ctx, opts, &fig, t0.elapsed().as_secs());
    println!("\n{report}");
    let path = if opts.smoke { ctx.root.join("target").join("bench-smoke.md") } else { ctx.root.join("BENCHMARKS.md") };
    std::fs::write(&path, &report).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    log(format!("wrote {}", path.display()));
    Ok(())
}

/// Cold starts of the reference app, the bench layers Worker and the hand-written one: a new
/// plain workerd per sample (10, or 3 in a smoke run), each answering one public request.
fn cold_starts(ctx: &mut Ctx, opts: &Options, bench_dir: &Path) -> Result<Vec<(String, Vec<crate::cold::ColdStart>)>> {
    let samples = if opts.smoke { 3 } else { 10 };
    let root = ctx.root.join("target").join("bench-cold");
    let workers = [
        ("reference app (app/)", ctx.app.join("build"), "/hello/cold", "app"),
        ("layers (bench/)", bench_dir.join("layers-worker").join("build"), "/hello", "layers"),
        ("hand-written workers-rs (bench/)", bench_dir.join("hand-worker").join("build"), "/hello", "hand"),
    ];
    let mut out = Vec::new();
    for (label, build, path, key) in workers {
        let (js, wasm) = (build.join("index.js"), build.join("index_bg.wasm"));
        let modules = [plain::Module::Es("index.js", &js), plain::Module::Wasm("index_bg.wasm", &wasm)];
        let runs = crate::cold::measure(ctx, &root.join(key), &modules, &[], path, samples)?;
        let med = |f: fn(&crate::cold::ColdStart) -> f64| f(&median(&runs, f));
        log(format!(
            "cold start {label}: startup {:.1} ms, first response {:.1} ms, total {:.1} ms (medians of {samples})",
            med(|c| c.startup_ms),
            med(|c| c.first_ms),
            med(|c| c.total_ms())
        ));
        out.push((label.to_owned(), runs));
    }
    let _ = std::fs::remove_dir_all(&root);
    Ok(out)
}

fn render_cold(s: &mut String, fig: &Figures, targets: &mut Vec<(String, String, bool)>) {
    let n = fig.cold.first().map_or(0, |(_, r)| r.len());
    let _ = writeln!(
        s,
        "## Cold start (plain workerd, a new process per sample, median of {n})\n\n\
         *startup*: spawning workerd until its socket accepts (it loads the Worker — glue, wasm compile and \
         instantiation — before it listens); *first response*: from then to the first request's complete answer \
         (everything the Worker builds on first use).\n"
    );
    let _ = writeln!(s, "| Worker | startup | first response | total |\n|---|---|---|---|");
    let med = |runs: &[crate::cold::ColdStart], f: fn(&crate::cold::ColdStart) -> f64| f(&median(runs, f));
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
    let find = |k: &str| fig.cold.iter().find(|(l, _)| l.starts_with(k)).map(|(_, r)| r.as_slice());
    if let (Some(l), Some(h)) = (find("layers"), find("hand-written")) {
        let r = med(l, |c| c.total_ms()) / med(h, |c| c.total_ms());
        targets.push(("cold start (total), layers ÷ hand-written ≤ 1.1".into(), format!("{r:.3}"), r <= 1.1));
    }
    if let (Some(a), Some(h)) = (find("reference app"), find("hand-written")) {
        let r = med(a, |c| c.total_ms()) / med(h, |c| c.total_ms());
        targets.push(("… reference app ÷ hand-written (reported, not a target)".into(), format!("{r:.3}"), true));
    }
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

/// Starts the stubs and the Workers, checks their answers, loads them in turn.
#[allow(clippy::type_complexity, clippy::too_many_lines)]
fn load_workers(
    ctx: &mut Ctx,
    opts: &Options,
    bench_dir: &Path,
) -> Result<(Vec<Vec<Load>>, Vec<(u64, u64, u64)>, Vec<Vec<PlainLoad>>, Vec<Vec<u64>>)> {
    run(ctx.cargo_cmd().args(["build", "-p", "layers-tests", "--bin", "layers-stubs", "--bin", "bench-token"]))?;
    let state = ctx.root.join("target").join(format!("bench-state-{}", std::process::id()));
    std::fs::create_dir_all(&state).map_err(|e| format!("cannot create {}: {e}", state.display()))?;
    let mut stubs = Stubs::start(ctx, &util::random_hex(16)?)?;
    let team = "bench.cloudflareaccess.com";
    let aud = util::random_hex(32)?;
    let token_bin = ctx.root.join("target").join("debug").join("bench-token");
    let mut cmd = Command::new(&token_bin);
    cmd.args(["--team", team, "--aud", &aud, "--email", "bench@example.com", "--ttl", "7200"]);
    let token = output(&mut cmd).map(|t| t.trim().to_owned()).filter(|t| t.split('.').count() == 3);
    let token = token.ok_or_else(|| format!("`{}` printed no token", util::describe(&cmd)))?;
    let base_env = format!(
        "ACCESS_TEAM_DOMAIN={team}\nACCESS_AUD={aud}\nACCESS_CERTS_URL=http://127.0.0.1:{}/cdn-cgi/access/certs\n",
        stubs.port
    );

    // The Workers share one migrations directory and database id: migrate once, then give each
    // Worker its own copy of that state.
    let migrated = state.join("migrated");
    let mut migrate = Command::new(ctx.node_bin("wrangler"));
    migrate
        .args(["d1", "migrations", "apply", "DB", "--local", "--persist-to"])
        .arg(&migrated)
        .current_dir(bench_dir.join(WORKERS[0].dir))
        .env("WRANGLER_SEND_METRICS", "false")
        .stdin(Stdio::null());
    run(&mut migrate)?;
    let mut servers: Vec<(Server, u16)> = Vec::new();
    for w in &WORKERS {
        let dir = bench_dir.join(w.dir);
        let persist = state.join(w.key);
        let env_file = state.join(format!("{}.env", w.key));
        util::write_private(&env_file, &format!("{base_env}{}", w.vars))?;
        util::copy_dir(&migrated, &persist)?;
        let port = free_port()?;
        // `--log-level error`: wrangler does not print (or ship to its own process) a line per
        // request, which would otherwise dominate what is measured. The same for all of them.
        let args: Vec<OsString> = vec![
            "--persist-to".into(),
            persist.into(),
            "--env-file".into(),
            env_file.into(),
            "--log-level".into(),
            "error".into(),
            "--inspector-port".into(),
            free_port()?.to_string().into(),
        ];
        let log_path = ctx.root.join("target").join(format!("bench-{}.log", w.key));
        let server = Server::launch(ctx, &dir, &args, port, &log_path, &[])?;
        servers.push((server, port));
    }

    // Same answers from all of them, and the JWKS fetched (then cached) before any timing.
    for (w, (_, port)) in WORKERS.iter().zip(&servers) {
        for r in &ROUTES {
            let (status, body) = get(*port, r.path, r.token.then_some(token.as_str()))?;
            if status != 200 || !body.starts_with(r.body) {
                return Err(format!(
                    "{} GET {} answered {status} {body:?}, expected 200 {:?}…",
                    w.label, r.path, r.body
                ));
            }
            if r.token {
                let (status, _) = get(*port, r.path, None)?;
                if status != 401 {
                    return Err(format!("{} GET {} without a token answered {status}, expected 401", w.label, r.path));
                }
            }
        }
    }
    log(format!("all {} Workers answer the {} routes alike; JWKS cached", WORKERS.len(), ROUTES.len()));

    let cannon = bench_dir.join("load").join("node_modules").join(".bin").join("autocannon");
    if opts.warmup > 0 {
        let warm = Options { seconds: opts.warmup, ..opts.clone() };
        for (wi, (_, port)) in servers.iter().enumerate() {
            for r in load_routes(opts) {
                let l = autocannon(&cannon, *port, r, &token, &warm)?;
                log(format!("warm-up {:<22} {:<24} {:>8.0} req/s (not recorded)", r.label, WORKERS[wi].label, l.rps));
            }
        }
    }
    let rss_before: Vec<u64> = servers.iter().map(|(s, _)| workerd_rss_kb(s.pgid()).unwrap_or(0)).collect();
    let runs = alternate(opts, load_routes(opts), "", |_, wi, r| {
        let l = autocannon(&cannon, servers[wi].1, r, &token, opts)?;
        Ok((l, " ".to_owned(), l))
    })?;
    let rss: Vec<(u64, u64, u64)> = servers
        .iter()
        .zip(&rss_before)
        .zip(&runs)
        .map(|(((s, _), before), per_route)| {
            let served = per_route.iter().flatten().map(|l| l.requests).sum();
            (*before, workerd_rss_kb(s.pgid()).unwrap_or(0), served)
        })
        .collect();
    for (server, _) in &mut servers {
        server.stop();
    }
    let vars = [
        ("ACCESS_TEAM_DOMAIN", team.to_owned()),
        ("ACCESS_AUD", aud.clone()),
        ("ACCESS_CERTS_URL", format!("http://127.0.0.1:{}/cdn-cgi/access/certs", stubs.port)),
    ];
    let plain = load_plain(ctx, opts, bench_dir, &cannon, &token, &vars);
    stubs.stop();
    let _ = std::fs::remove_dir_all(&state);
    let (plain, plain_rss) = plain?;
    let medians = runs
        .into_iter()
        .map(|per_route| per_route.into_iter().map(|rs| median(&rs, |l: &Load| l.rps)).collect())
        .collect();
    Ok((medians, rss, plain, plain_rss))
}

/// The same Workers served by plain `workerd serve` (see [`crate::plain`]) on the routes that
/// need no local storage: answers checked, warm-up, alternating rounds; req/s, latency, and
/// workerd's CPU time per request (steadier than req/s on a small machine, where the load
/// generator competes for the same cores), and its RSS after each round.
#[allow(clippy::type_complexity)]
fn load_plain(
    ctx: &mut Ctx,
    opts: &Options,
    bench_dir: &Path,
    cannon: &Path,
    token: &str,
    base_vars: &[(&str, String)],
) -> Result<(Vec<Vec<PlainLoad>>, Vec<Vec<u64>>)> {
    let root = ctx.root.join("target").join("bench-plain");
    // Hono is bundled the way `wrangler deploy` would bundle it (no upload: `--dry-run`).
    let hono_out = root.join("hono-bundle");
    let mut bundle = Command::new(ctx.node_bin("wrangler"));
    bundle
        .args(["deploy", "--dry-run", "--outdir"])
        .arg(&hono_out)
        .current_dir(bench_dir.join("hono-worker"))
        .env("WRANGLER_SEND_METRICS", "false")
        .stdin(Stdio::null());
    run(&mut bundle)?;
    let mut servers = Vec::new();
    for w in &WORKERS {
        let mut vars: Vec<(&str, &str)> = base_vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        vars.extend(w.vars.lines().filter_map(|l| l.split_once('=')));
        let build = bench_dir.join(w.dir).join("build");
        let (js, wasm) = (build.join("index.js"), build.join("index_bg.wasm"));
        let hono_js = hono_out.join("index.js");
        let modules: Vec<plain::Module<'_>> = if w.key == "hono" {
            vec![plain::Module::Es("index.js", &hono_js)]
        } else {
            vec![plain::Module::Es("index.js", &js), plain::Module::Wasm("index_bg.wasm", &wasm)]
        };
        servers.push(plain::Plain::start(ctx, &root.join(w.key), &modules, &vars, "/hello")?);
    }
    for (w, server) in WORKERS.iter().zip(&servers) {
        for r in &ROUTES[..PLAIN_ROUTES] {
            let (status, body) = get(server.port, r.path, r.token.then_some(token))?;
            if status != 200 || !body.starts_with(r.body) {
                return Err(format!(
                    "{} (plain workerd) GET {} answered {status} {body:?}, expected 200 {:?}…",
                    w.label, r.path, r.body
                ));
            }
        }
    }
    log(format!("plain workerd: all {} Workers answer the {PLAIN_ROUTES} routes alike", WORKERS.len()));
    if opts.warmup > 0 {
        let warm = Options { seconds: opts.warmup, ..opts.clone() };
        for server in &servers {
            for r in plain_routes(opts) {
                autocannon(cannon, server.port, r, token, &warm)?;
            }
        }
    }
    let tick_us = 1e6 / plain::ticks_per_second() as f64;
    let mut rss: Vec<Vec<u64>> = servers.iter().map(|s| vec![s.rss_kb().unwrap_or(0)]).collect();
    let runs = alternate(opts, plain_routes(opts), "plain workerd", |round_done, wi, r| {
        let server = &servers[wi];
        let cpu0 = server.cpu_ticks().ok_or("cannot read workerd's CPU time")?;
        let l = autocannon(cannon, server.port, r, token, opts)?;
        let cpu1 = server.cpu_ticks().ok_or("cannot read workerd's CPU time")?;
        #[allow(clippy::cast_precision_loss)]
        let cpu_us = (cpu1 - cpu0) as f64 * tick_us / l.requests.max(1) as f64;
        if round_done {
            for (per_worker, server) in rss.iter_mut().zip(&servers) {
                per_worker.push(server.rss_kb().unwrap_or(0));
            }
        }
        Ok((l, format!("  {cpu_us:>6.1} µs CPU/request"), PlainLoad { load: l, cpu_us }))
    })?;
    for server in &mut servers {
        server.stop();
    }
    let medians = runs
        .into_iter()
        .map(|per_route| per_route.into_iter().map(|rs| median(&rs, |p: &PlainLoad| p.load.rps)).collect())
        .collect();
    Ok((medians, rss))
}

/// The run with the median req/s (its own latencies kept); the upper middle of an even count.
fn median<T: Copy + Default>(runs: &[T], rps: impl Fn(&T) -> f64) -> T {
    let mut v = runs.to_vec();
    v.sort_by(|a, b| rps(a).total_cmp(&rps(b)));
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn autocannon(cannon: &Path, port: u16, r: &BenchRoute, token: &str, opts: &Options) -> Result<Load> {
    let mut cmd = Command::new(cannon);
    cmd.args(["--json", "--connections", &opts.connections.to_string(), "--duration", &opts.seconds.to_string()]);
    if r.token {
        cmd.arg("--headers").arg(format!("cf-access-jwt-assertion={token}"));
    }
    cmd.arg(format!("http://127.0.0.1:{port}{}", r.path)).stdin(Stdio::null()).stderr(Stdio::null());
    // The token is an argument here: say so instead of printing it.
    let shown = format!(
        "autocannon --json --connections {} --duration {} {}http://127.0.0.1:{port}{}",
        opts.connections,
        opts.seconds,
        if r.token { "--headers cf-access-jwt-assertion=<token> " } else { "" },
        r.path
    );
    let out = cmd.output().map_err(|e| format!("{shown}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{shown} failed ({})", out.status));
    }
    parse_autocannon(&String::from_utf8_lossy(&out.stdout)).map_err(|e| format!("{shown}: {e}"))
}

fn parse_autocannon(json: &str) -> Result<Load> {
    let v: serde_json::Value = serde_json::from_str(json.trim()).map_err(|e| format!("output is not JSON: {e}"))?;
    let num = |path: &[&str]| -> Result<f64> {
        let mut x = &v;
        for p in path {
            x = &x[*p];
        }
        x.as_f64().ok_or_else(|| format!("no `{}` in autocannon's output", path.join(".")))
    };
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let count = |path: &[&str]| num(path).map(|n| n as u64);
    Ok(Load {
        rps: num(&["requests", "average"])?,
        p50_ms: num(&["latency", "p50"])?,
        p99_ms: num(&["latency", "p99"])?,
        requests: count(&["requests", "total"])?,
        bad: count(&["non2xx"])? + count(&["errors"])? + count(&["timeouts"])?,
    })
}

/// One request; `(status, body)`.
pub(crate) fn get(port: u16, path: &str, token: Option<&str>) -> Result<(u16, String)> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect to {port}: {e}"))?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(30))).map_err(|e| e.to_string())?;
    let auth = token.map(|t| format!("cf-access-jwt-assertion: {t}\r\n")).unwrap_or_default();
    write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{auth}Connection: close\r\n\r\n")
        .map_err(|e| format!("GET {path}: {e}"))?;
    // workerd keeps a connection open for a while despite `Connection: close`: the answer is
    // framed by its own `content-length` or chunked ending, never by waiting for EOF.
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    let complete = |raw: &[u8]| -> bool {
        let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") else { return false };
        let head = String::from_utf8_lossy(&raw[..i]).to_ascii_lowercase();
        let body = &raw[i + 4..];
        if head.contains("transfer-encoding: chunked") {
            return body.ends_with(b"0\r\n\r\n");
        }
        match head.lines().find_map(|l| l.strip_prefix("content-length:")).and_then(|v| v.trim().parse::<usize>().ok())
        {
            Some(n) => body.len() >= n,
            None => false,
        }
    };
    while !complete(&raw) {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| format!("GET {path}: no status"))?;
    let head_end = text.find("\r\n\r\n").map_or(text.len(), |i| i + 4);
    let mut body = text[head_end..].to_owned();
    if text[..head_end].to_ascii_lowercase().contains("transfer-encoding: chunked") {
        // One chunk is all these routes send: drop the size line.
        body = body.split_once("\r\n").map(|(_, b)| b.split("\r\n").next().unwrap_or("").to_owned()).unwrap_or(body);
    }
    Ok((status, body))
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "**not met**"
    }
}

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

#[allow(clippy::too_many_lines)]
fn render(ctx: &Ctx, opts: &Options, fig: &Figures, secs: u64) -> String {
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

    let mut targets: Vec<(String, String, bool)> = Vec::new();

    let _ = writeln!(s, "## Router (native, criterion, matchit's 130 GitHub routes × 130 paths)\n");
    if let Some((l, m)) = fig.router_ns {
        let _ = writeln!(s, "| router | time for 130 lookups | per lookup |\n|---|---|---|");
        let _ = writeln!(s, "| layers | {:.1} µs | {:.0} ns |", l / 1000.0, l / 130.0);
        let _ = writeln!(s, "| matchit 0.9 | {:.1} µs | {:.0} ns |\n", m / 1000.0, m / 130.0);
        targets.push(("router time ÷ matchit ≤ 1.0".into(), format!("{:.2}", l / m), l / m <= 1.0));
    }
    if let Some((la, ma, n)) = fig.allocs {
        let _ = writeln!(s, "Allocations for {n} lookups (dhat): layers {la}, matchit {ma}.\n");
        targets.push(("router allocations per lookup = 0".into(), format!("{la} in {n} lookups"), la == 0));
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
        if !opts.smoke {
            wrangler_targets(fig, &mut targets);
        }
    }

    if !fig.plain.is_empty() {
        render_plain(&mut s, opts, fig, &mut targets);
    }

    if !fig.cold.is_empty() {
        render_cold(&mut s, fig, &mut targets);
    }

    if !fig.wasm.is_empty() {
        let _ = writeln!(s, "## wasm size (worker-build --release, same wasm-opt)\n");
        let _ = writeln!(s, "| Worker | raw | gzip -9 |\n|---|---|---|");
        for (label, raw, gz) in &fig.wasm {
            let _ = writeln!(s, "| {label} (bench/) | {raw} B | {gz} B |");
        }
        if let Some((raw, gz)) = fig.app_wasm {
            let _ = writeln!(s, "| reference app (app/) | {raw} B | {gz} B |");
            targets.push(("reference app ≤ 1 MB gzipped".into(), format!("{gz} B"), gz <= 1_000_000));
        }
        let _ = writeln!(s);
        if let [(_, _, lg), (_, _, hg), ..] = fig.wasm.as_slice() {
            #[allow(clippy::cast_precision_loss)]
            let r = *lg as f64 / *hg as f64;
            targets.push(("wasm gzip size, layers ÷ hand-written ≤ 1.1".into(), format!("{r:.2}"), r <= 1.1));
        }
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
        let r = c.cold_release_ratio();
        targets.push(("compile time (cold release), layers ÷ hand-written ≤ 1.2".into(), format!("{r:.2}"), r <= 1.2));
        targets.push((
            "incremental rebuild ≤ 3 s".into(),
            format!("{:.2} s", c.layers.incremental_dev_s),
            c.layers.incremental_dev_s <= 3.0,
        ));
    }

    if opts.smoke {
        let _ = writeln!(
            s,
            "## Targets\n\nNot judged in a smoke run (1-s loads, one route each; see `cargo xtask bench`)."
        );
        return s;
    }
    let _ = writeln!(s, "## Targets\n\n| target | figure | |\n|---|---|---|");
    for (name, figure, ok) in &targets {
        let _ = writeln!(s, "| {name} | {figure} | {} |", verdict(*ok));
    }
    s
}

/// The `wrangler dev` targets (full runs only: a smoke run loads one route).
fn wrangler_targets(fig: &Figures, targets: &mut Vec<(String, String, bool)>) {
    let (layers, quiet, hand, hono) = (wi("layers"), wi("layers-quiet"), wi("hand"), wi("hono"));
    let r = |w: usize, route: usize, base: usize| fig.load[w][route].rps / fig.load[base][route].rps;
    let public = r(layers, 0, hand);
    targets.push((
        "wrangler dev: public req/s, layers ÷ hand-written ≥ 0.97".into(),
        format!("{public:.3}"),
        public >= 0.97,
    ));
    let q = r(quiet, 0, hand);
    targets.push(("… the same, layers with LAYERS_LOG=errors".into(), format!("{q:.3}"), q >= 0.97));
    let wide = r(layers, 0, wi("hand-log"));
    targets.push((
        "… layers (default: one event per request) ÷ hand-written writing one JSON line per request".into(),
        format!("{wide:.3}"),
        wide >= 0.97,
    ));
    let access = r(layers, 1, hono);
    targets.push(("wrangler dev: Access-JWT req/s, layers ÷ Hono ≥ 1.0".into(), format!("{access:.3}"), access >= 1.0));
    let q = r(quiet, 1, hono);
    targets.push(("… the same, layers with LAYERS_LOG=errors".into(), format!("{q:.3}"), q >= 1.0));
    let cold = r(layers, 2, hono);
    targets.push((
        "… the same, layers' verified-token cache off (every token verified in full)".into(),
        format!("{cold:.3}"),
        cold >= 1.0,
    ));
}

/// The plain-workerd section: the same Workers without wrangler's dev machinery.
fn render_plain(s: &mut String, opts: &Options, fig: &Figures, targets: &mut Vec<(String, String, bool)>) {
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
    if opts.smoke {
        return;
    }
    let (layers, quiet, hand, hono) = (wi("layers"), wi("layers-quiet"), wi("hand"), wi("hono"));
    let r = |w: usize, route: usize, base: usize| fig.plain[w][route].load.rps / fig.plain[base][route].load.rps;
    let wide = r(layers, 0, wi("hand-log"));
    targets.push((
        "plain workerd: public req/s, layers (default logs: one event per request) ÷ hand-written writing one comparable JSON line per request ≥ 0.97".into(),
        format!("{wide:.3}"),
        wide >= 0.97,
    ));
    let cpu = |w: usize, route: usize| fig.plain[w][route].cpu_us;
    let wide_cpu = cpu(wi("hand-log"), 0) / cpu(layers, 0);
    targets.push((
        "… the same as workerd CPU per request, hand-written with its line ÷ layers (reported)".into(),
        format!("{wide_cpu:.3}"),
        true,
    ));
    for (label, w) in [("layers", layers), ("layers with LAYERS_LOG=errors", quiet)] {
        let x = r(w, 0, hand);
        targets.push((
            format!("plain workerd: public req/s, {label} ÷ hand-written ≥ 0.97"),
            format!("{x:.3}"),
            x >= 0.97,
        ));
        let x = r(w, 1, hono);
        targets.push((format!("plain workerd: Access-JWT req/s, {label} ÷ Hono ≥ 1.0"), format!("{x:.3}"), x >= 1.0));
        let x = r(w, 2, hono);
        targets.push((
            format!("… the same, {label}, verified-token cache off (every token verified in full)"),
            format!("{x:.3}"),
            x >= 1.0,
        ));
        let x = cpu(hono, 2) / cpu(w, 2);
        targets.push((
            format!("… the same as workerd CPU per request, Hono ÷ {label} (≥ 1.0: layers spends less)"),
            format!("{x:.3}"),
            x >= 1.0,
        ));
    }
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
    fn autocannon_json() {
        let j = r#"{"requests":{"average":1234.5,"total":12345},"latency":{"p50":3,"p99":9.5},"non2xx":0,"errors":1,"timeouts":0}"#;
        let l = parse_autocannon(j).unwrap();
        assert!((l.rps - 1234.5).abs() < 1e-9 && l.requests == 12345 && l.bad == 1 && (l.p99_ms - 9.5).abs() < 1e-9);
        assert!(parse_autocannon("{}").is_err());
        assert!(parse_autocannon("not json").is_err());
    }

    #[test]
    fn alloc_lines() {
        let out = "running 1 test\nlayers: 0 allocations for 265 lookups\nmatchit: 1 allocations for 130 lookups\n";
        assert_eq!(parse_allocs(out), Some((0, 1, 265)));
        assert_eq!(parse_allocs("nothing"), None);
    }

    #[test]
    fn median_takes_the_middle_run() {
        let l = |rps| Load { rps, ..Load::default() };
        let rps = |l: &Load| l.rps;
        assert!((median(&[l(3.0), l(1.0), l(2.0)], rps).rps - 2.0).abs() < 1e-9);
        assert!((median(&[l(5.0)], rps).rps - 5.0).abs() < 1e-9);
        assert!((median(&[l(4.0), l(1.0), l(3.0), l(2.0)], rps).rps - 3.0).abs() < 1e-9);
        assert!((median::<Load>(&[], rps).rps).abs() < 1e-9);
    }
}
