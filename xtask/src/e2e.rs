//! The soak's run of the app: the test build in real workerd (`wrangler dev --local`) with fresh
//! state and freshly generated secrets, loaded by `soak/` (`cargo xtask soak`, and 10 s at the
//! end of `cargo xtask e2e`), then its log checked for leaks. The e2e targets do not use it: each
//! gets a Worker of its own from `layers-test` (`e2e_targets.rs`, `tests/tests/common/run.rs`).
//!
//! Loopback stubs (`layers-stubs`) stand in for Access's JWKS, Turnstile's siteverify, AWS STS
//! and the mail sender; the Worker's outbound URLs point at them through the env file. Also here:
//! the wrangler server the benchmarks share, and the stop of a process group that logs a SIGKILL
//! (the watchdog, ports and probes are `layers_test::support`).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use layers_test::support;

use crate::util::{self, log, run, Result};
use crate::Ctx;

/// The role the Worker's `BackupRole` federation assumes in the e2e run (the STS stub accepts
/// only this one).
const STS_ROLE_ARN: &str = "arn:aws:iam::123456789012:role/layers-backup";

const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// Starts the app for the soak (`soak/`): its own state, secrets, stubs, stand-in and
/// `wrangler dev`, whose inspector and process group the soak watches; soaks it, stops it all
/// and checks wrangler's log for leaked secrets and the soak's values (`leaks.rs`). The e2e
/// targets run on Worker of their own (`e2e_targets.rs`); `cargo xtask soak` runs only this.
pub(crate) fn run_app(ctx: &mut Ctx, soak: &crate::soak::Options) -> Result<()> {
    let target = ctx.root.join("target");
    let state = target.join(format!("soak-state-{}", std::process::id()));
    if state.exists() {
        std::fs::remove_dir_all(&state).map_err(|e| format!("cannot clear {}: {e}", state.display()))?;
    }
    std::fs::create_dir_all(&state).map_err(|e| format!("cannot create {}: {e}", state.display()))?;
    let log_path = target.join("soak-wrangler.log");

    // Fresh secrets for this run. They go to wrangler through `--env-file` (a dotenv file with
    // mode 0600 inside the state dir): that keeps them out of `ps`, and — unlike `--var` — it
    // stops wrangler from also loading a developer's app/.dev.vars into the test worker.
    let api_key = util::random_hex(32)?;
    let old_key = util::random_hex(32)?;
    let signing_key = util::random_hex(32)?;
    let access_aud = util::random_hex(32)?;
    let turnstile_secret = util::random_hex(16)?;
    let webhook_secret = format!("whsec_{}", util::random_hex(24)?);

    // Loopback stand-ins for Access's JWKS, Turnstile's siteverify and AWS STS.
    let mut stubs = ctx.step("soak: start identity stubs", |ctx| Stubs::start(ctx, &turnstile_secret))?;
    let stubs_url = format!("http://127.0.0.1:{}", stubs.port);

    // The Worker's federation key: fixture key a, whose public half the STS stub trusts. A
    // dotenv value is one line; inside double quotes dotenv (wrangler's `--env-file` parser)
    // turns `\n` back into newlines.
    let key_path = ctx.root.join("tests").join("fixtures").join("access").join("key-a.pem");
    let federation_key = std::fs::read_to_string(&key_path)
        .map_err(|e| format!("cannot read {}: {e}", key_path.display()))?
        .trim()
        .replace("\r\n", "\n")
        .replace('\n', "\\n");

    let env_file = state.join("e2e.env");
    util::write_private(
        &env_file,
        &format!(
            "API_KEYS=e2e:{api_key},old:{old_key}\nSIGNING_KEY={signing_key}\n\
             ACCESS_TEAM_DOMAIN=layers-e2e.cloudflareaccess.com\nACCESS_AUD={access_aud}\n\
             ACCESS_CERTS_URL={stubs_url}/cdn-cgi/access/certs\nSLOW_CERTS_URL={stubs_url}/slow/cdn-cgi/access/certs\n\
             ADMIN_EMAILS=admin@example.com,Ops@Example.com\n\
             TURNSTILE_SECRET={turnstile_secret}\nTURNSTILE_VERIFY_URL={stubs_url}/turnstile/v0/siteverify\n\
             WEBHOOK_SECRET={webhook_secret}\nMAIL_URL={stubs_url}/mail\nABUSE_LIMIT=4\n\
             FEDERATION_KEY=\"{federation_key}\"\nFEDERATION_ISSUER=https://layers.test\n\
             STS_URL={stubs_url}/sts\nSTS_ROLE_ARN={STS_ROLE_ARN}\nSTS_AUDIENCE=sts.amazonaws.com\n\
             SITE_URL=https://layers.test\nWEBMENTION_ALLOW_ORIGINS={stubs_url}\nWEBMENTION_RETRY_SECS=1\n{}",
            if soak.quiet_logs { "LAYERS_LOG=errors\n" } else { "" }
        ),
    )?;

    // Values the tests sent that must never reach the log (see leaks.rs), one per line.
    let sensitive = state.join("e2e-sensitive.txt");
    util::write_private(&sensitive, "")?;

    ctx.step("soak: apply D1 migrations", |ctx| {
        let mut cmd = Command::new(ctx.node_bin("wrangler"));
        cmd.args(["d1", "migrations", "apply", "DB", "--local", "--persist-to"])
            .arg(&state)
            .current_dir(&ctx.app)
            .env("WRANGLER_SEND_METRICS", "false")
            .stdin(Stdio::null());
        run(&mut cmd)
    })?;

    // The loopback stand-in for Workers AI and Vectorize (see standin.rs).
    let mut standin = ctx.step("soak: start the AI/Vectorize stand-in", |ctx| {
        crate::standin::Standin::start(ctx, &state, &target.join("soak-standin.log"))
    })?;
    let port = free_port()?;
    let mut server =
        ctx.step("soak: start wrangler dev", |ctx| Server::start(ctx, port, &state, &env_file, &log_path, &standin))?;

    let soaked =
        ctx.step("soak", |_| crate::soak::drive(port, server.inspector, &api_key, server.pgid(), soak, &sensitive));
    ctx.step("soak: stop wrangler and stubs", |_| {
        server.stop();
        standin.stop();
        stubs.stop();
        Ok(())
    })?;
    let mut secrets: Vec<(String, String)> = [
        ("API key e2e", &api_key),
        ("API key old", &old_key),
        ("signing key", &signing_key),
        ("Turnstile secret", &turnstile_secret),
        ("webhook secret", &webhook_secret),
    ]
    .iter()
    .map(|(name, value)| ((*name).to_owned(), (*value).clone()))
    .collect();
    secrets.push(("webhook secret key".to_owned(), webhook_secret.trim_start_matches("whsec_").to_owned()));
    // The STS stub's credentials: the secret key and session token start with these.
    secrets.push(("STS secret access key".to_owned(), "stubsecret".to_owned()));
    secrets.push(("STS session token".to_owned(), "stubsession".to_owned()));
    let pem_lines = federation_key.split("\\n").filter(|l| !l.starts_with("-----"));
    secrets.extend(pem_lines.enumerate().map(|(i, l)| (format!("federation key line {}", i + 2), l.to_owned())));
    let leaks = ctx.step("soak: leak check of the wrangler log", |_| {
        crate::leaks::check(&log_path, &secrets, &sensitive, true).map(drop)
    });
    let tests = soaked.and(leaks);

    match tests {
        Ok(()) => {
            // Keep the log (target/soak-wrangler.log) but drop the state dir with its secrets.
            let _ = std::fs::remove_dir_all(&state);
            Ok(())
        }
        Err(e) => {
            print_log_tail(ctx, &log_path);
            log(format!("e2e state kept for inspection: {}", state.display()));
            Err(e)
        }
    }
}

fn print_log_tail(ctx: &Ctx, log_path: &Path) {
    let lines = if ctx.ci { 200 } else { 60 };
    log(format!("last {lines} lines of {}:", log_path.display()));
    eprintln!("{}", util::tail(log_path, lines));
    log(format!("(end of {})", log_path.display()));
}

pub(crate) use layers_test::support::free_port;

/// A running `wrangler dev`, in its own process group; stopped on drop.
pub(crate) struct Server {
    child: Child,
    /// The port of wrangler's inspector proxy (`--inspector-port`), where DevTools attach.
    inspector: Option<u16>,
    stopped: bool,
}

impl Server {
    fn start(
        ctx: &Ctx,
        port: u16,
        state: &Path,
        env_file: &Path,
        log_path: &Path,
        standin: &crate::standin::Standin,
    ) -> Result<Server> {
        // The app plus the loopback stand-in for Workers AI and Vectorize (see standin.rs).
        let mut args = crate::standin::config_args(&ctx.app, "")?;
        args.extend(["--persist-to".into(), state.into(), "--env-file".into(), env_file.into()]);
        // Cron triggers are fired by the tests through `GET /__scheduled?cron=…`.
        args.push("--test-scheduled".into());
        let inspector = free_port()?;
        args.extend(["--inspector-port".into(), inspector.to_string().into()]);
        let registry = standin.registry();
        let envs = [("WRANGLER_REGISTRY_PATH", registry.as_os_str())];
        let mut server = Server::launch(ctx, &ctx.app, &args, port, log_path, &envs)?;
        server.inspector = Some(inspector);
        Ok(server)
    }

    /// Starts `wrangler dev <args> --local --ip 127.0.0.1 --port <port>` in `dir` — in its own
    /// process group under the watchdog, output to `log_path` — and waits until `port` answers.
    pub(crate) fn launch(
        ctx: &Ctx,
        dir: &Path,
        args: &[std::ffi::OsString],
        port: u16,
        log_path: &Path,
        envs: &[(&str, &std::ffi::OsStr)],
    ) -> Result<Server> {
        let log_file = File::create(log_path).map_err(|e| format!("cannot create {}: {e}", log_path.display()))?;
        let log_err = log_file.try_clone().map_err(|e| format!("cannot clone log file handle: {e}"))?;
        // The project's own wrangler when it has one (a generated project), else app/'s.
        let own: PathBuf = dir.join("node_modules").join(".bin").join("wrangler");
        let wrangler: PathBuf = if own.is_file() { own } else { ctx.node_bin("wrangler") };
        let mut cmd = support::tied_command(&wrangler);
        cmd.arg("dev")
            .args(args)
            .args(["--local", "--ip", "127.0.0.1", "--port"])
            .arg(port.to_string())
            .arg("--show-interactive-dev-session=false")
            .current_dir(dir)
            .env("WRANGLER_SEND_METRICS", "false")
            .envs(envs.iter().copied())
            .stdout(log_file)
            .stderr(log_err);
        log(format!(
            "$ (in {}) wrangler dev {} --local --ip 127.0.0.1 --port {port} --show-interactive-dev-session=false  > {}",
            dir.display(),
            args.iter().map(|c| c.to_string_lossy()).collect::<Vec<_>>().join(" "),
            log_path.display()
        ));
        let child = cmd.spawn().map_err(|e| format!("could not start wrangler dev: {e}"))?;
        let mut server = Server { child, inspector: None, stopped: false };

        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                server.stop();
                print_log_tail(ctx, log_path);
                return Err(format!("wrangler dev exited before it was ready ({status})"));
            }
            if support::answers_http(port) {
                log(format!(
                    "wrangler dev answers on http://127.0.0.1:{port} after {}",
                    util::fmt_duration(start.elapsed())
                ));
                return Ok(server);
            }
            if start.elapsed() > READY_TIMEOUT {
                server.stop();
                print_log_tail(ctx, log_path);
                return Err(format!(
                    "wrangler dev did not answer on 127.0.0.1:{port} within {}s",
                    READY_TIMEOUT.as_secs()
                ));
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// The process group of wrangler and its workerd.
    pub(crate) fn pgid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM to the process group, up to 5 s grace, then SIGKILL. Idempotent.
    pub(crate) fn stop(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        stop_group(&mut self.child, "wrangler");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The `layers-stubs` binary (tests/src/bin): JWKS, siteverify, STS and mail on a free loopback
/// port (also started by `cargo xtask dev`).
pub(crate) struct Stubs {
    child: Child,
    pub(crate) port: u16,
}

impl Stubs {
    pub(crate) fn start(ctx: &Ctx, turnstile_secret: &str) -> Result<Stubs> {
        Stubs::start_with(ctx, turnstile_secret, false)
    }

    /// [`Stubs::start`]; with `tied`, the stubs exit when this process goes away (their stdin
    /// is a pipe from us: `--exit-on-stdin-eof`).
    pub(crate) fn start_with(ctx: &Ctx, turnstile_secret: &str, tied: bool) -> Result<Stubs> {
        run(ctx.cargo_cmd().args(["build", "-p", "layers-tests", "--bin", "layers-stubs"]))?;
        let bin = ctx.root.join("target").join("debug").join("layers-stubs");
        let fixtures = ctx.root.join("tests").join("fixtures").join("access");
        let mut cmd = Command::new(&bin);
        if tied {
            cmd.arg("--exit-on-stdin-eof").stdin(Stdio::piped());
        } else {
            cmd.stdin(Stdio::null());
        }
        let mut child = cmd
            .arg("--jwks-dir")
            .arg(&fixtures)
            .arg("--turnstile-secret")
            .arg(turnstile_secret)
            .arg("--sts-role")
            .arg(STS_ROLE_ARN)
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("could not start {}: {e}", bin.display()))?;
        let mut line = String::new();
        if let Some(out) = child.stdout.take() {
            use std::io::BufRead;
            let _ = std::io::BufReader::new(out).read_line(&mut line);
        }
        let port = line.trim().rsplit(':').next().and_then(|p| p.parse().ok());
        match port {
            Some(port) => {
                log(format!("identity stubs listen on http://127.0.0.1:{port}"));
                Ok(Stubs { child, port })
            }
            None => {
                let _ = child.kill();
                let _ = child.wait();
                Err(format!("layers-stubs did not report its port (said {line:?})"))
            }
        }
    }

    pub(crate) fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Stubs {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Stops a process group started by the xtask under the watchdog ([`support::tied_command`]):
/// SIGTERM, up to [`support::STOP_GRACE`] for the leader to be reaped and the group to be gone,
/// then SIGKILL (said in the log).
pub(crate) fn stop_group(child: &mut Child, what: &str) {
    if !support::stop_group(child, support::STOP_GRACE) {
        log(format!("{what} did not exit within {}s of SIGTERM; sent SIGKILL", support::STOP_GRACE.as_secs()));
    }
}
