//! `cargo xtask`: project automation for `layers` (the cargo-xtask pattern).
//!
//! Run `cargo xtask --help` for the list of commands. Everything the project needs beyond a
//! Rust toolchain and Node.js (the wasm target, `worker-build`, the `wasm-bindgen` CLI, wrangler
//! and wasm-opt from npm) is installed on first use, idempotently.

#![forbid(unsafe_code)]

mod audit;
mod bench;
mod bench_compile;
mod cold;
mod deploy;
mod devloop;
mod devloop_check;
mod devtools;
mod e2e;
mod e2e_targets;
mod ensure;
mod fuzz;
mod leaks;
mod manifest;
mod new;
mod openapi;
mod plain;
mod soak;
mod standin;
mod util;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use util::{fmt_duration, log, run, Result};

const USAGE: &str = "\
cargo xtask — project automation for layers

USAGE:
    cargo xtask <COMMAND> [OPTIONS]

COMMANDS:
    ensure        Install whatever is missing: the wasm32-unknown-unknown target, worker-build,
                  the wasm-bindgen CLI and the npm packages in app/ (idempotent, fast when done)
    build         ensure, then `worker-build --release` in app/; prints the wasm size (raw, gzip -9)
    dev           build (without wasm-opt), create app/.dev.vars with random dev secrets if missing,
                  start the local stubs (Turnstile siteverify, mail: read sent mail at
                  <stubs>/__control/mail), apply the local D1 migrations and run `wrangler dev` on
                  127.0.0.1. Saving a .rs file of the app or of layers rebuilds and reloads the
                  Worker; a build that fails shows the compiler's errors and the old build keeps serving
                      --port <N>    port to listen on (default 8787)
    audit [DIR]   check what Rust's type system cannot about an app crate (default: app/): no direct
                  dependency on worker, worker-macros, worker-sys, wasm-bindgen(-macro,-futures),
                  js-sys or web-sys; no `__private`, `wasm_bindgen`, `extern` block or function,
                  `no_mangle`/`export_name` or `unsafe` in its Rust files; `#![forbid(unsafe_code)]`
                  at its crate roots. Prints `file:line: finding` and fails on any
    test          the CI pipeline: cargo fmt --check, clippy -D warnings, cargo doc -D warnings,
                  cargo test, the audit of app/ and bench/layers-worker, the test build
                  (build plus the app's `expose-routing` and `attack-routes` features), the end-to-end tests against
                  `wrangler dev` (real workerd) with fresh state and secrets, then `bench --smoke`
    e2e           the test build, then only the end-to-end part of `test`: each e2e target (a file of
                  tests/tests/ with tests ignored as needs-workerd) against a Worker of its own
                  (layers-test), each Worker's log checked for leaks; then a 10-second soak
                      --target <T>  run only this e2e target (repeatable): e2e, paths, faults, …
    soak          the test build, start the app as for e2e and load it over loopback: unique writes
                  (`POST /api/subscribers`) mixed with reads, then check D1 rows == 2xx writes,
                  no 5xx, bounded workerd RSS, and the leak check; prints req/s, statuses, RSS
                      --seconds <N>      duration (default 60)
                      --concurrency <C>  client threads, one request in flight each (default 4)
                      --connections <K>  `keep-alive` (default: one connection per client thread)
                                         or `fresh` (a new connection per request)
                      --devtools <D>     `attached` (default: a client that drains wrangler's
                                         inspector proxy, which otherwise buffers every inspector
                                         event) or `detached`
                      --log <L>          `all` (default) or `errors`: the app runs with LAYERS_LOG=errors
    manifest      print the reference app's manifest: route · method · identity · storage (and
                  crons, queues) from the table `app!` dispatches with, as Markdown tables and a
                  Mermaid diagram (request → identity → storage). Fails when the app does not
                  build, e.g. when code and app/wrangler.toml disagree on a binding
                      --format <F>  markdown, mermaid, json or html (default: markdown and mermaid;
                                    html: a page that renders the diagram offline, Mermaid inlined)
                      --strict      fail when a storage declaration has no reason (`because(…)`)
                      --write       write the Markdown tables to app/ROUTES.md (the app's crate
                                    docs include it; a test fails when it drifts from the code)
    openapi       the reference app's OpenAPI 3.1 document (paths, extractor schemas, `responds(…)`,
                  problem+json errors, a security scheme per identity), built natively with the
                  `openapi` feature, written to app/openapi.json and validated by an independent
                  validator (@seriousme/openapi-schema-validator, tests/openapi)
                      --out <PATH>  write it there instead
                      --check       write nothing: fail when the file differs from the code (CI)
    fuzz          run the cargo-fuzz targets in fuzz/ (nightly + libFuzzer; installs cargo-fuzz if
                  missing) and report executions, coverage (`cov:`) and crashes per target
                      --seconds <N> time per target (default 60)
                      --target <T>  only this target, repeatable (default: every fuzz/fuzz_targets/*.rs)
    bench         build, then measure layers against its peers on this machine and write
                  BENCHMARKS.md: router vs matchit and the verifiers (criterion), the layers /
                  hand-written workers-rs / Hono Workers of bench/ in workerd under autocannon
                  (req/s, p50, p99), wasm sizes, and the compile time of a generated app
                      --seconds <N>         per load run (default 10)
                      --connections <C>     autocannon connections (default 16)
                      --rounds <R>          alternating rounds of the load runs and of the compile
                                            builds, medians reported (default 3)
                      --warmup <S>          unrecorded load per Worker and route first (default 5)
                      --compile-routes <N>  routes of the compile-time app (default 200; 0 skips)
                      --smoke               one short round of everything cheap (what `test` runs)
    new PATH      a Worker project of your own from templates/worker/, outside this repository: one
                  Public route, one ApiKey route writing D1, a migration, wrangler config, tests
                  with layers-test; depends on this checkout by path; installs its npm tools
                      --name <N>    the Worker's name (default: PATH's last component)
    deploy        build, then deploy app/ with wrangler: lists the resources a first deployment must
                  create (placeholder D1/KV ids, R2 buckets, queues) and the remote migrations, the
                  secrets the app's verifiers read that are not set, each with its exact `wrangler`
                  command; refuses to deploy while any remains, then `wrangler deploy`
                      --env <NAME>  a wrangler environment
                      --dry-run     bundle into target/deploy-dry-run, upload nothing (CI runs this)
    help          print this message

Set CI=true for non-interactive runs (what `.ci/run` does).
";

/// Shared state of one xtask invocation: repository paths and the timing of each step.
pub(crate) struct Ctx {
    /// Workspace root (the directory holding the root `Cargo.toml`).
    pub(crate) root: PathBuf,
    /// The worker crate, `<root>/app`.
    pub(crate) app: PathBuf,
    /// The cargo to run: `$CARGO` when set (it is under `cargo xtask`), else `cargo`.
    pub(crate) cargo: OsString,
    /// `CI=true` (or any non-empty value but `false`/`0`).
    pub(crate) ci: bool,
    steps: Vec<StepRecord>,
    started: Instant,
}

struct StepRecord {
    name: String,
    took: Duration,
    ok: bool,
}

impl Ctx {
    fn new() -> Result<Ctx> {
        let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
        let root = manifest_dir.parent().ok_or("xtask crate has no parent directory")?;
        let root = root.canonicalize().map_err(|e| format!("cannot resolve workspace root {}: {e}", root.display()))?;
        let app = root.join("app");
        let ci = std::env::var("CI").map(|v| !v.is_empty() && v != "false" && v != "0").unwrap_or(false);
        Ok(Ctx {
            cargo: std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()),
            root,
            app,
            ci,
            steps: Vec::new(),
            started: Instant::now(),
        })
    }

    /// Runs one named, timed step, recording it for the summary.
    pub(crate) fn step<T>(&mut self, name: &str, f: impl FnOnce(&mut Ctx) -> Result<T>) -> Result<T> {
        log(format!("▶ {name}"));
        let start = Instant::now();
        let result = f(self);
        let took = start.elapsed();
        match &result {
            Ok(_) => log(format!("✓ {name} ({})", fmt_duration(took))),
            Err(_) => log(format!("✗ {name} failed after {}", fmt_duration(took))),
        }
        self.steps.push(StepRecord { name: name.to_owned(), took, ok: result.is_ok() });
        result
    }

    /// A `cargo` command running in the workspace root.
    pub(crate) fn cargo_cmd(&self) -> Command {
        let mut cmd = Command::new(&self.cargo);
        cmd.current_dir(&self.root);
        cmd
    }

    /// `app/node_modules/.bin/<name>` (absolute).
    pub(crate) fn node_bin(&self, name: &str) -> PathBuf {
        self.app.join("node_modules").join(".bin").join(name)
    }

    fn print_summary(&self, ok: bool) {
        if self.steps.is_empty() {
            return;
        }
        let width = self.steps.iter().map(|s| s.name.chars().count()).max().unwrap_or(0);
        log("summary:");
        for s in &self.steps {
            let mark = if s.ok { "✓" } else { "✗" };
            let pad = width - s.name.chars().count();
            log(format!("  {mark} {}{}  {:>9}", s.name, " ".repeat(pad), fmt_duration(s.took)));
        }
        let verdict = if ok { "ok" } else { "FAILED" };
        log(format!("  total {} — {verdict}", fmt_duration(self.started.elapsed())));
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(command) = args.first() else {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    };
    let rest = &args[1..];
    if matches!(command.as_str(), "help" | "-h" | "--help") {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    if !matches!(
        command.as_str(),
        "ensure"
            | "build"
            | "dev"
            | "test"
            | "e2e"
            | "soak"
            | "manifest"
            | "openapi"
            | "fuzz"
            | "bench"
            | "audit"
            | "new"
            | "deploy"
    ) {
        eprintln!("[xtask] unknown command `{command}`\n");
        eprint!("{USAGE}");
        return ExitCode::from(2);
    }
    if rest.iter().any(|a| a == "-h" || a == "--help") {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    }

    let mut ctx = match Ctx::new() {
        Ok(ctx) => ctx,
        Err(e) => {
            eprintln!("[xtask] error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match command.as_str() {
        "ensure" => no_args(command, rest).and_then(|()| ensure::ensure(&mut ctx).map(drop)),
        "build" => no_args(command, rest).and_then(|()| build(&mut ctx, Flavor::Release).map(drop)),
        "dev" => parse_port(rest).and_then(|port| dev(&mut ctx, port)),
        "test" => no_args(command, rest).and_then(|()| test(&mut ctx)),
        "audit" => audit_dir(&ctx, rest).and_then(|dir| ctx.step("audit", |_| audit::audit(&dir))),
        "e2e" => e2e_targets::parse_targets(&ctx, rest)
            .and_then(|only| build(&mut ctx, Flavor::Test).and_then(|_| e2e_targets::e2e(&mut ctx, &only))),
        "soak" => soak::parse_options(rest)
            .and_then(|o| build(&mut ctx, Flavor::Test).and_then(|_| e2e::run_app(&mut ctx, &o))),
        "new" => new::parse_options(rest).and_then(|o| ensure::ensure(&mut ctx).and_then(|_| new::new(&mut ctx, &o))),
        "deploy" => deploy::parse_options(rest)
            .and_then(|o| build(&mut ctx, Flavor::Release).and_then(|_| deploy::deploy(&mut ctx, &o))),
        "manifest" => manifest::parse_options(rest).and_then(|r| manifest::manifest(&mut ctx, &r)),
        "openapi" => openapi::parse_options(rest).and_then(|o| openapi::openapi(&mut ctx, &o)),
        "fuzz" => fuzz::parse_options(rest).and_then(|o| fuzz::fuzz(&mut ctx, &o)),
        "bench" => bench::parse_options(rest)
            .and_then(|o| build(&mut ctx, Flavor::Release).and_then(|_| bench::bench(&mut ctx, &o))),
        _ => unreachable!("command validated above"),
    };
    ctx.print_summary(result.is_ok());
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("[xtask] error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `audit [DIR]`: the crate to audit (default `app/`), relative to the current directory.
fn audit_dir(ctx: &Ctx, rest: &[String]) -> Result<PathBuf> {
    match rest {
        [] => Ok(ctx.app.clone()),
        [dir] if !dir.starts_with('-') => {
            let p = PathBuf::from(dir);
            if p.join("Cargo.toml").is_file() {
                Ok(p)
            } else {
                Err(format!("`{dir}` holds no Cargo.toml: `cargo xtask audit [CRATE_DIR]`"))
            }
        }
        _ => Err("`audit` takes at most one crate directory; see `cargo xtask --help`".into()),
    }
}

fn no_args(command: &str, rest: &[String]) -> Result<()> {
    match rest.first() {
        None => Ok(()),
        Some(arg) => Err(format!("`{command}` takes no arguments (got `{arg}`); see `cargo xtask --help`")),
    }
}

fn parse_port(rest: &[String]) -> Result<u16> {
    let mut port = 8787;
    let mut it = rest.iter();
    while let Some(arg) = it.next() {
        let value = if arg == "--port" || arg == "-p" {
            it.next().ok_or("`--port` needs a value")?.as_str()
        } else if let Some(v) = arg.strip_prefix("--port=") {
            v
        } else {
            return Err(format!("unexpected argument `{arg}` for `dev`; see `cargo xtask --help`"));
        };
        port = value
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| format!("invalid port `{value}` (expected 1–65535)"))?;
    }
    Ok(port)
}

/// Which Worker `build` makes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Flavor {
    /// What `dev` serves and a deployment would ship.
    Release,
    /// The same, plus the app's `expose-routing` feature (responses carry the routing decision
    /// in `x-layers-*` headers for the differential path test, `tests/tests/paths.rs`) and its
    /// `attack-routes` feature (routes that attack the guarantee from inside the app; the e2e
    /// tests check they change nothing they must not).
    Test,
}

/// `ensure`, then `worker-build --release` in `app/`, then report the wasm size.
fn build(ctx: &mut Ctx, flavor: Flavor) -> Result<ensure::Tools> {
    let tools = ensure::ensure(ctx)?;
    let title = match flavor {
        Flavor::Release => "worker-build --release",
        Flavor::Test => "worker-build --release --features expose-routing,attack-routes (test build)",
    };
    ctx.step(title, |ctx| {
        let mut cmd = Command::new(&tools.worker_build);
        cmd.arg("--release");
        if flavor == Flavor::Test {
            cmd.args(["--features", "expose-routing,attack-routes"]);
        }
        cmd.current_dir(&ctx.app)
            .env("WASM_BINDGEN_BIN", &tools.wasm_bindgen)
            .env("WASM_OPT_BIN", ctx.node_bin("wasm-opt"))
            .env("ESBUILD_BIN", ctx.node_bin("esbuild"));
        run(&mut cmd)
    })?;

    let wasm = ctx.app.join("build").join("index_bg.wasm");
    let bytes = std::fs::read(&wasm)
        .map_err(|e| format!("worker-build succeeded but {} is unreadable: {e}", wasm.display()))?;
    let gz = util::gzip_best_len(&bytes).map_err(|e| format!("gzip of {} failed: {e}", wasm.display()))?;
    log(format!("app/build/index_bg.wasm: {} raw, {} gzip -9", util::fmt_size(bytes.len() as u64), util::fmt_size(gz)));
    Ok(tools)
}

/// The dev build, `.dev.vars`, local D1 migrations, then `wrangler dev` in the foreground,
/// rebuilding on save (devloop.rs).
fn dev(ctx: &mut Ctx, port: u16) -> Result<()> {
    let tools = ensure::ensure(ctx)?;
    ctx.step("dev build (templates/worker/scripts/build.mjs: worker-build --release --no-opt)", |ctx| {
        devloop::first_build(ctx, &tools)
    })?;

    let dev_vars = ctx.app.join(".dev.vars");
    if dev_vars.exists() {
        log(format!("using existing secrets in {}", dev_vars.display()));
    } else {
        let key = util::random_hex(16)?;
        let signing = util::random_hex(32)?;
        let contents = format!(
            "# Local secrets for `wrangler dev`, generated by `cargo xtask dev`. Never commit this file.\n\
             API_KEYS=dev:{key}\n\
             SIGNING_KEY={signing}\n"
        );
        util::write_private(&dev_vars, &contents)?;
        log(format!("wrote {} with fresh random dev secrets", dev_vars.display()));
    }
    match std::fs::read_to_string(&dev_vars).ok().and_then(|text| util::first_api_key(&text)) {
        Some((label, key)) => log(format!("dev API key (label `{label}`): {key}")),
        None => log(format!(
            "no API_KEYS entry found in {}; add `API_KEYS=dev:<key>` to call authenticated routes",
            dev_vars.display()
        )),
    }

    // Loopback stand-ins for what the blog calls out to (Turnstile's siteverify, the mail
    // sender), tied to this process: they exit when it does.
    let mut stubs = ctx.step("start local stubs (Turnstile siteverify, mail)", |ctx| {
        e2e::Stubs::start_with(ctx, DEV_TURNSTILE_SECRET, true)
    })?;
    let stubs_url = format!("http://127.0.0.1:{}", stubs.port);
    write_dev_stub_vars(&dev_vars, &stubs_url, port)?;

    ctx.step("apply D1 migrations (local)", |ctx| {
        let mut cmd = Command::new(ctx.node_bin("wrangler"));
        cmd.args(["d1", "migrations", "apply", "DB", "--local"])
            .current_dir(&ctx.app)
            .env("WRANGLER_SEND_METRICS", "false")
            // No TTY on stdin: wrangler takes the default ("yes") for its confirmation prompt.
            .stdin(Stdio::null());
        run(&mut cmd)
    })?;

    ctx.print_summary(true);
    log(format!("mail stub: messages the Worker sent are at {stubs_url}/__control/mail (JSON)"));
    log(format!(
        "Turnstile in dev: siteverify is the local stub with Cloudflare's always-pass test secret; \
         send any token, e.g. `cf-turnstile-response: {DEV_TURNSTILE_TOKEN}`"
    ));
    // Workers AI and Vectorize only run on Cloudflare: AI, VECTORIZE and POSTS_INDEX go to the
    // loopback stand-in (tests/standin/, its own `wrangler dev`, tied to this process like the stubs).
    let standin_dir = ctx.app.join(".wrangler").join("standin");
    std::fs::create_dir_all(&standin_dir).map_err(|e| format!("cannot create {}: {e}", standin_dir.display()))?;
    let mut standin = ctx.step("start the AI/Vectorize stand-in", |ctx| {
        standin::Standin::start(ctx, &standin_dir, &standin_dir.join("standin.log"))
    })?;
    log("AI, VECTORIZE and POSTS_INDEX are bound to the loopback stand-in (tests/standin/): AI routes answer \
         canned text, embeddings are a hashed bag of words, vectors live in memory; deploy the Worker to use \
         the real services");
    log(format!("starting wrangler dev on http://127.0.0.1:{port} (Ctrl-C to stop)"));
    log("saving a .rs file under app/src or layers' own src/ rebuilds and reloads the Worker (lines marked \
         `[custom build]`); a failed build keeps the previous one serving");
    let wrangler = ctx.node_bin("wrangler");
    // The watchdog shell runs wrangler in its own process group and takes the group down when
    // our end of its stdin closes (this process exited, whatever the signal), so no workerd
    // lingers: Ctrl-C ends this process; the closed pipe then stops wrangler.
    let mut cmd = layers_test::support::tied_command(&wrangler);
    cmd.arg("dev")
        // AI and the Vectorize indexes go to the loopback stand-in (tests/standin/), never to Cloudflare.
        .args(standin::config_args(&ctx.app, &devloop::build_table(ctx))?)
        .arg("--local")
        .args(["--ip", "127.0.0.1"])
        .arg("--port")
        .arg(port.to_string())
        // `GET /__scheduled?cron=…` fires a cron trigger.
        .arg("--test-scheduled")
        .arg("--show-interactive-dev-session=false")
        .current_dir(&ctx.app)
        .env("WRANGLER_SEND_METRICS", "false")
        .env("WRANGLER_REGISTRY_PATH", standin.registry())
        // The tools `rebuild` (wrangler's build command) runs with.
        .envs(devloop::tool_env(ctx, &tools));
    log(format!("$ (in {}) node_modules/.bin/wrangler dev --local --ip 127.0.0.1 --port {port} --test-scheduled --show-interactive-dev-session=false", ctx.app.display()));
    let mut child = cmd.spawn().map_err(|e| format!("could not start wrangler dev: {e}"))?;
    // Hold our end of the watchdog's pipe while waiting (`wait` would close it first).
    let pipe = child.stdin.take();
    let status = child.wait().map_err(|e| format!("waiting for wrangler dev: {e}"))?;
    drop(pipe);
    standin.stop();
    stubs.stop();
    if status.success() {
        Ok(())
    } else {
        Err(format!("wrangler dev exited with {status}"))
    }
}

/// Cloudflare's documented always-pass Turnstile test secret: `cargo xtask dev` starts the
/// siteverify stub with it, and the stub then accepts any token, any number of times.
const DEV_TURNSTILE_SECRET: &str = "1x0000000000000000000000000000000AA";
/// The token the test sitekeys' widget hands out (what the README's tour sends).
const DEV_TURNSTILE_TOKEN: &str = "XXXX.DUMMY.TOKEN.XXXX";
/// Marks the part of `app/.dev.vars` that `cargo xtask dev` rewrites on every run.
const DEV_VARS_MARK: &str =
    "# --- written by `cargo xtask dev` on every run (local stubs); edits below this line are lost ---";

/// Rewrites the stub-dependent block of `.dev.vars` (keeping everything above the marker):
/// siteverify and mail point at this run's stubs, links in mails at this run's port.
fn write_dev_stub_vars(dev_vars: &Path, stubs_url: &str, port: u16) -> Result<()> {
    let text = std::fs::read_to_string(dev_vars).map_err(|e| format!("cannot read {}: {e}", dev_vars.display()))?;
    let kept = text.split(DEV_VARS_MARK).next().unwrap_or_default().trim_end();
    let contents = format!(
        "{kept}\n{DEV_VARS_MARK}\n\
         TURNSTILE_SECRET={DEV_TURNSTILE_SECRET}\n\
         TURNSTILE_VERIFY_URL={stubs_url}/turnstile/v0/siteverify\n\
         MAIL_URL={stubs_url}/mail\n\
         SITE_URL=http://127.0.0.1:{port}\n"
    );
    util::write_private(dev_vars, &contents)?;
    log(format!("{}: Turnstile and mail point at the local stubs on {stubs_url}", dev_vars.display()));
    Ok(())
}

/// The crates published to crates.io, in dependency order.
const PUBLISHED: [&str; 4] = ["layers-spec", "layers-macros", "layers-core", "layers-test"];

/// The CI pipeline.
fn test(ctx: &mut Ctx) -> Result<()> {
    ctx.step("cargo fmt --check", |ctx| run(ctx.cargo_cmd().args(["fmt", "--all", "--", "--check"])))?;
    ctx.step("cargo clippy -D warnings", |ctx| {
        run(ctx.cargo_cmd().args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]))
    })?;
    ctx.step("cargo doc -D warnings (broken intra-doc links included)", |ctx| {
        run(ctx.cargo_cmd().args(["doc", "--workspace", "--no-deps"]).env("RUSTDOCFLAGS", "-D warnings"))
    })?;
    // The crates a user depends on must package: manifest, licence files, README, no path-only
    // dependency. Not verified by a build here (that would compile them a second time from the
    // packages; the workspace build above is the same code).
    ctx.step("cargo package (layers-spec, layers-macros, layers-core, layers-test)", |ctx| {
        let mut cmd = ctx.cargo_cmd();
        cmd.args(["package", "--no-verify", "--allow-dirty"]);
        for krate in PUBLISHED {
            cmd.args(["-p", krate]);
        }
        run(&mut cmd)
    })?;
    // layers-test's own tests start the reference app in workerd: the tools first, and with
    // LAYERS_TEST_REQUIRE set a missing tool fails them instead of skipping them.
    let tools = ensure::ensure(ctx)?;
    ctx.step("cargo test --workspace", |ctx| {
        run(ctx.cargo_cmd().args(["test", "--workspace"]).env("LAYERS_TEST_REQUIRE", "1"))
    })?;
    for dir in [ctx.app.clone(), ctx.root.join("bench").join("layers-worker")] {
        ctx.step(&format!("audit {}", dir.strip_prefix(&ctx.root).unwrap_or(&dir).display()), |_| audit::audit(&dir))?;
    }
    // Every storage declaration of the reference app has a reason from the decision tree.
    manifest::manifest(ctx, &manifest::Request::Print { format: "markdown".to_owned(), strict: true })?;
    manifest::check_diagram(ctx)?;
    // A type without a schema under the openapi feature must not compile (trybuild, ui/openapi).
    ctx.step("cargo test -p ui-tests --features openapi", |ctx| {
        run(ctx.cargo_cmd().args(["test", "-p", "ui-tests", "--features", "openapi"]))
    })?;
    ctx.step("cargo test -p layers-core -p app --features openapi (the document's own tests)", |ctx| {
        run(ctx.cargo_cmd().args([
            "test",
            "-p",
            "layers-core",
            "-p",
            "app",
            "--features",
            "layers-core/openapi,app/openapi",
            "--lib",
        ]))
    })?;
    // The committed OpenAPI document is the code's, and an independent validator accepts it.
    openapi::openapi(ctx, &openapi::Options { out: None, check: true })?;
    build(ctx, Flavor::Test)?;
    e2e_targets::e2e(ctx, &[])?;
    new::test_template(ctx, &tools)?;
    build(ctx, Flavor::Release)?;
    deploy::deploy(ctx, &deploy::DeployOptions { env: None, dry_run: true })?;
    bench::bench(ctx, &bench::Options::SMOKE)
}
