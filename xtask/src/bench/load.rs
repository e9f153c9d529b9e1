//! The load runs: the Workers started under `wrangler dev` and under plain `workerd serve`,
//! their answers checked, then loaded by autocannon in alternating rounds; the median round of
//! each Worker and route is kept, with workerd's RSS (and, in plain workerd, its CPU time per
//! request).

use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, Stdio};

use super::autocannon::{autocannon, Load};
use super::http::get;
use super::workers::{load_routes, plain_routes, BenchRoute, PLAIN_ROUTES, ROUTES, WORKERS};
use super::Options;
use crate::e2e::{free_port, Server, Stubs};
use crate::soak::rss::workerd_rss_kb;
use crate::util::{self, log, output, run, Result};
use crate::{plain, Ctx};

/// One load run against plain workerd, with the CPU time workerd spent on it.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct PlainLoad {
    /// What autocannon measured.
    pub(super) load: Load,
    /// workerd's CPU time (user + system) per request, µs.
    pub(super) cpu_us: f64,
}

/// Starts the stubs and the Workers, checks their answers, loads them in turn.
#[allow(clippy::type_complexity, clippy::too_many_lines)]
pub(super) fn load_workers(
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

/// The run with the median req/s (its own latencies kept); the upper middle of an even count.
pub(super) fn median<T: Copy + Default>(runs: &[T], rps: impl Fn(&T) -> f64) -> T {
    let mut v = runs.to_vec();
    v.sort_by(|a, b| rps(a).total_cmp(&rps(b)));
    v.get(v.len() / 2).copied().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

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
