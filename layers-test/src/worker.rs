//! [`Builder`] and [`Worker`]: the user's Worker built, started in workerd with fresh state and
//! secrets, and stopped with its process group.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use layers_core::identity::{ApiKeyConfig, DefaultApiKey, TokenConfig, WebhookConfig};

use crate::identity::{random_hex, AccessKey, AccessToken, Secrets, API_KEY_LABEL, TEAM_DOMAIN};
use crate::logs::{LogEvent, LogMark};
use crate::process::Tied;
use crate::stub::{Pass, Stub, CERTS_PATH, SITEVERIFY_PATH};
use crate::support::{answers_http, free_port, tail};
use crate::toolchain::Tools;
use crate::{config, Builder, Error, TestRequest};

/// A Worker running in workerd (`wrangler dev --local` on 127.0.0.1), with fresh local state
/// and harness credentials. Make requests with [`get`](Self::get), [`post`](Self::post), …
pub struct Worker {
    dir: PathBuf,
    config: PathBuf,
    port: u16,
    state: PathBuf,
    log: PathBuf,
    tools: Tools,
    env: BTreeMap<String, String>,
    access_key: AccessKey,
    access_aud_vars: Vec<&'static str>,
    /// The names of the secrets the harness filled (for [`Worker::secrets`]).
    secret_names: Vec<&'static str>,
    /// Which of them hold API keys (`label:key,…`).
    api_key_names: Vec<&'static str>,
    stub: Stub,
    /// `target/layers-test/` (where the migrated templates are).
    root: PathBuf,
    /// How wrangler dev is started (again, by [`Worker::reset`]).
    launch: Launch,
    server: std::sync::Mutex<Tied>,
    /// One `wrangler d1|kv` command at a time: each starts its own miniflare on the state
    /// directory, and two at once can trip over each other's SQLite locks.
    storage_lock: std::sync::Mutex<()>,
    /// [`Worker::serial`]'s lock.
    serial: std::sync::Mutex<()>,
    /// How long the start took, and whether it built.
    started: (Duration, bool),
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the env: it holds the secrets.
        f.debug_struct("Worker").field("dir", &self.dir).field("port", &self.port).field("state", &self.state).finish()
    }
}

static RUNS: AtomicU32 = AtomicU32::new(0);

impl Worker {
    /// A [`Builder`] with the defaults.
    #[must_use]
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// The shared Worker of this test binary with the default configuration (the crate whose
    /// tests run is the Worker): `Worker::builder().shared()`.
    #[must_use]
    pub fn shared() -> &'static Worker {
        Builder::default().shared()
    }

    pub(crate) fn start_with(b: Builder) -> Result<Worker, Error> {
        let t0 = Instant::now();
        let dir = b.worker_dir()?;
        let tools = Tools::find(&dir)?;
        let root = crate::toolchain::target_dir(&dir)?.join("layers-test");
        crate::process::clean_stale_runs(&root);
        let built = crate::toolchain::build(&dir, &tools, &b.plan, &root)?;
        let t_build = t0.elapsed();

        let state = root.join(format!("run-{}-{}", std::process::id(), RUNS.fetch_add(1, Ordering::Relaxed)));
        let _ = std::fs::remove_dir_all(&state);
        std::fs::create_dir_all(&state).map_err(|e| Error::new(format!("cannot create {}: {e}", state.display())))?;
        let config = match &b.config {
            Some(c) => dir.join(c),
            None => config::local_copy(&dir, &state, &b.services)?,
        };

        let access_key = AccessKey::generate()?;
        let secrets = Secrets::generate();
        let stub = Stub::start(access_key.jwks.clone(), secrets.turnstile_secret.clone())?;
        let env = harness_env(&b, &secrets, &stub);
        let env_file = state.join("worker.env");
        crate::support::write_private(&env_file, &config::dotenv(&env)?)?;

        let log = b.log_file.clone().unwrap_or_else(|| state.join("wrangler.log"));
        crate::template::migrated_state(&root, &config, &dir, &tools, &state)?;

        let t_migrations = t0.elapsed();
        let port = free_port()?;
        let registry = b.registry.clone().unwrap_or_else(|| state.join("registry"));
        let args: Vec<OsString> = vec![
            "dev".into(),
            "-c".into(),
            config.clone().into(),
            "--local".into(),
            "--ip".into(),
            "127.0.0.1".into(),
            "--port".into(),
            port.to_string().into(),
            "--inspector-port".into(),
            free_port()?.to_string().into(),
            "--persist-to".into(),
            state.clone().into(),
            "--env-file".into(),
            env_file.into(),
            "--test-scheduled".into(),
            "--show-interactive-dev-session=false".into(),
        ];
        let launch = Launch { args, registry, ready_timeout: b.ready_timeout };
        let spawned = Instant::now();
        let server = launch.spawn(&tools, &dir, &log, port, false)?;
        // What the start cost, on stderr (shown by `cargo test` for failing tests, or with
        // `--nocapture`).
        eprintln!(
            "layers-test: {} started in {:.1} s (build {} {:.1} s, keys + migrations {:.1} s, wrangler ready {:.1} s); log: {}",
            dir.display(),
            t0.elapsed().as_secs_f64(),
            if built { "ran" } else { "skipped" },
            t_build.as_secs_f64(),
            (t_migrations - t_build).as_secs_f64(),
            spawned.elapsed().as_secs_f64(),
            log.display()
        );
        let access_aud_vars = b.access.iter().map(|(_, aud, _)| *aud).collect();
        let secret_names = [&b.api_key_secrets, &b.signing_secrets, &b.webhook_secrets]
            .into_iter()
            .flatten()
            .copied()
            .chain(b.turnstile.iter().map(|(secret, _)| *secret))
            .collect();
        Ok(Worker {
            dir,
            config,
            port,
            state,
            log,
            tools,
            env,
            access_key,
            access_aud_vars,
            secret_names,
            api_key_names: b.api_key_secrets.clone(),
            stub,
            root,
            launch,
            server: std::sync::Mutex::new(server),
            storage_lock: std::sync::Mutex::new(()),
            serial: std::sync::Mutex::new(()),
            started: (t0.elapsed(), built),
        })
    }

    /// The port on 127.0.0.1 the Worker answers on.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:<port>`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The state directory of this run (local D1, KV, R2; wrangler's log `wrangler.log`).
    #[must_use]
    pub fn state_dir(&self) -> &Path {
        &self.state
    }

    /// The file wrangler's output (the Worker's log) goes to: `wrangler.log` in the
    /// [state directory](Self::state_dir), or the [`Builder::log_file`].
    #[must_use]
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// The secrets the Worker was started with, as `(name, value)`: every API key (one entry
    /// per key of each keys secret), the signing keys, the webhook secrets (with and without
    /// `whsec_`) and the Turnstile secrets — whether the harness made them or
    /// [`Builder::var`] set them. None of them may ever appear in the Worker's log: scan
    /// [`log_path`](Self::log_path) for them.
    #[must_use]
    pub fn secrets(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for name in &self.secret_names {
            let Some(value) = self.env(name) else { continue };
            if self.api_key_names.contains(name) {
                for entry in value.split([',', ' ', '\n']).filter(|e| !e.is_empty()) {
                    let (label, key) = entry.split_once(':').unwrap_or(("", entry));
                    out.push((format!("{name} key {label}"), key.to_owned()));
                }
            } else {
                out.push(((*name).to_owned(), value.to_owned()));
                if let Some(raw) = value.strip_prefix("whsec_") {
                    out.push((format!("{name} (key)"), raw.to_owned()));
                }
            }
        }
        out
    }

    /// How long starting took, and whether it had to build the Worker.
    #[must_use]
    pub fn startup(&self) -> (Duration, bool) {
        self.started
    }

    /// A request with this method to `target` (path and query, sent byte for byte: no `//`,
    /// `%2f` or dot segment is normalized; `*` and absolute-form targets go as they are).
    pub fn request(&self, method: &str, target: &str) -> TestRequest<'_> {
        TestRequest::new(self, method, target)
    }

    /// `GET target`.
    pub fn get(&self, target: &str) -> TestRequest<'_> {
        self.request("GET", target)
    }

    /// `POST target`.
    pub fn post(&self, target: &str) -> TestRequest<'_> {
        self.request("POST", target)
    }

    /// `PUT target`.
    pub fn put(&self, target: &str) -> TestRequest<'_> {
        self.request("PUT", target)
    }

    /// `DELETE target`.
    pub fn delete(&self, target: &str) -> TestRequest<'_> {
        self.request("DELETE", target)
    }

    /// The value the Worker was started with for a var or secret (a harness secret included).
    #[must_use]
    pub fn env(&self, name: &str) -> Option<&str> {
        self.env.get(name).map(String::as_str)
    }

    fn required(&self, name: &str, how: &str) -> &str {
        self.env(name).unwrap_or_else(|| panic!("the Worker was started without {name}: add `{how}` to its builder"))
    }

    /// A signed Access JWT as [`AccessToken`] describes it (for the Worker's first AUD).
    #[must_use]
    pub fn access_jwt(&self, token: &AccessToken) -> String {
        let aud = self.access_aud_vars.first().and_then(|v| self.env(v)).unwrap_or_default();
        self.access_key.sign(&token.claims(aud, crate::now()))
    }

    /// The harness's API key in `C::SECRET` (label `test`).
    #[must_use]
    pub fn api_key_for<C: ApiKeyConfig>(&self) -> String {
        let secret = self.required(C::SECRET, "api_keys::<C>()");
        let prefix = format!("{API_KEY_LABEL}:");
        secret
            .split([',', ' ', '\n'])
            .find_map(|e| e.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("{} holds no `{API_KEY_LABEL}:` key (was it set with .var()?)", C::SECRET))
            .to_owned()
    }

    /// The harness's API key for the default configuration (`x-api-key`, `API_KEYS`).
    #[must_use]
    pub fn api_key(&self) -> String {
        self.api_key_for::<DefaultApiKey>()
    }

    /// A `SignedToken<C>` for `payload`, valid for `ttl`, minted with the Worker's key
    /// (`C::SECRET`) by layers' own `mint`: put it where `C::SOURCE` says, e.g. the path.
    #[must_use]
    pub fn signed_token<C: TokenConfig>(&self, payload: &str, ttl: Duration) -> String {
        let key = self.required(C::SECRET, "signing_key::<C>()");
        layers_core::identity::mint(key.as_bytes(), C::PURPOSE, payload, crate::now() + ttl.as_secs())
    }

    /// The Svix `v1,…` signature of a delivery with the Worker's `C::SECRET`.
    #[must_use]
    pub fn sign_webhook<C: WebhookConfig>(&self, id: &str, timestamp: u64, body: &[u8]) -> String {
        let secret = self.required(C::SECRET, "webhook_secret::<C>()");
        layers_core::identity::sign_webhook(secret, id, timestamp, body).expect("the harness's webhook secret decodes")
    }

    /// A Turnstile token that the loopback siteverify accepts once (no action; hostname
    /// `127.0.0.1`). Send it in the `cf-turnstile-response` header or form field.
    #[must_use]
    pub fn turnstile_pass(&self) -> String {
        self.turnstile_pass_with(None, "127.0.0.1")
    }

    /// [`turnstile_pass`](Self::turnstile_pass) for a widget with this action and hostname.
    #[must_use]
    pub fn turnstile_pass_with(&self, action: Option<&str>, hostname: &str) -> String {
        let token = format!("pass.{}", random_hex(24));
        self.stub.add_pass(&token, Pass { action: action.map(str::to_owned), hostname: hostname.to_owned() });
        token
    }

    /// A Turnstile token that siteverify refuses (`invalid-input-response`).
    #[must_use]
    pub fn turnstile_fail(&self) -> String {
        format!("fail.{}", random_hex(24))
    }

    /// How many times the Worker fetched the harness's JWKS, and called its siteverify.
    #[must_use]
    pub fn stub_calls(&self) -> (u64, u64) {
        (self.stub.jwks_fetches(), self.stub.siteverify_calls())
    }

    /// The log event with this `cf-ray`, waiting up to `timeout`.
    #[must_use]
    pub fn find_event(&self, ray: &str, timeout: Duration) -> Option<LogEvent> {
        crate::logs::wait_for(&self.log, timeout, |e| e.ray() == ray)
    }

    /// The current end of the log: pass it to [`wait_for_event`](Self::wait_for_event) to look
    /// only at events written after now.
    #[must_use]
    pub fn log_mark(&self) -> LogMark {
        LogMark(crate::logs::since(&self.log, LogMark(0)).len())
    }

    /// The first event after `mark` that satisfies `pred`, waiting up to `timeout` (a cron
    /// run, a queue batch: events no request of yours carries the ray of).
    #[must_use]
    pub fn wait_for_event(
        &self,
        mark: LogMark,
        timeout: Duration,
        pred: impl Fn(&LogEvent) -> bool,
    ) -> Option<LogEvent> {
        let start = Instant::now();
        loop {
            if let Some(e) = crate::logs::since(&self.log, mark).into_iter().find(|e| pred(e)) {
                return Some(e);
            }
            if start.elapsed() >= timeout {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Every wide event logged so far.
    #[must_use]
    pub fn events(&self) -> Vec<LogEvent> {
        crate::logs::since(&self.log, LogMark(0))
    }

    /// The last `n` lines of wrangler's output (for failure messages).
    #[must_use]
    pub fn log_tail(&self, n: usize) -> String {
        format!("last {n} lines of {}:\n{}", self.log.display(), tail(&self.log, n))
    }

    /// The wrangler config the Worker runs with.
    pub(crate) fn config_path(&self) -> &Path {
        &self.config
    }

    pub(crate) fn wrangler(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(&self.tools.wrangler);
        cmd.current_dir(&self.dir).env("WRANGLER_SEND_METRICS", "false");
        cmd
    }

    /// Runs a `wrangler d1|kv|r2` command on the state, one at a time, retried twice on failure.
    pub(crate) fn storage_command(&self, args: &[&str], what: &str) -> Result<std::process::Output, Error> {
        self.storage_command_until(args, what, |_| false)
    }

    /// [`storage_command`](Self::storage_command), but a failure for which `settled` holds (an
    /// answer, e.g. "no such key") is not retried.
    pub(crate) fn storage_command_until(
        &self,
        args: &[&str],
        what: &str,
        settled: impl Fn(&std::process::Output) -> bool,
    ) -> Result<std::process::Output, Error> {
        let _one = self.storage_lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut last = None;
        for _ in 0..3 {
            let mut cmd = self.wrangler();
            cmd.args(args).arg("--persist-to").arg(&self.state).arg("-c").arg(&self.config);
            let out = cmd
                .stdin(std::process::Stdio::null())
                .output()
                .map_err(|e| Error::new(format!("could not run {what}: {e}")))?;
            if out.status.success() || settled(&out) {
                return Ok(out);
            }
            last = Some(out);
            std::thread::sleep(Duration::from_millis(200));
        }
        Ok(last.expect("at least one attempt"))
    }

    /// Returns the Worker's local state — D1, KV, R2, Durable Objects, queued messages — to what
    /// a fresh start has (every D1 migration applied, nothing else), and returns how long it
    /// took (about as long as the start's "wrangler ready": a few seconds). Works on the
    /// [shared](Builder::shared) Worker too.
    ///
    /// It stops `wrangler dev`, replaces the persisted state (`v3/` in the
    /// [state directory](Self::state_dir)) with a copy of the migrated template, and starts
    /// wrangler again on the same port, with the same secrets and credentials, appending to the
    /// same log (so a [`LogMark`] taken before stays valid). The Worker does not answer while it
    /// restarts, and anything another test wrote is gone after: tests sharing a Worker must not
    /// run in parallel with one that resets. Hold [`serial`](Self::serial) in every test that
    /// resets or depends on what it resets, run the test binary with `--test-threads=1`, or give
    /// such tests a binary of their own.
    ///
    /// # Panics
    /// When wrangler does not start again (with the end of its log).
    pub fn reset(&self) -> Duration {
        self.try_reset().unwrap_or_else(|e| panic!("the Worker could not be reset: {e}"))
    }

    /// [`reset`](Self::reset), with the failure as an error.
    ///
    /// # Errors
    /// When the state cannot be replaced or wrangler does not start again.
    pub fn try_reset(&self) -> Result<Duration, Error> {
        let t0 = Instant::now();
        let mut server = self.server.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let _storage = self.storage_lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        server.stop();
        let t_stop = t0.elapsed();
        let persisted = self.state.join("v3");
        if persisted.exists() {
            std::fs::remove_dir_all(&persisted)
                .map_err(|e| Error::new(format!("cannot remove {}: {e}", persisted.display())))?;
        }
        crate::template::migrated_state(&self.root, &self.config, &self.dir, &self.tools, &self.state)?;
        let t_state = t0.elapsed();
        *server = self.launch.spawn(&self.tools, &self.dir, &self.log, self.port, true)?;
        let took = t0.elapsed();
        eprintln!(
            "layers-test: reset in {:.1} s (stop {:.1} s, state {:.2} s, wrangler ready {:.1} s)",
            took.as_secs_f64(),
            t_stop.as_secs_f64(),
            (t_state - t_stop).as_secs_f64(),
            (took - t_state).as_secs_f64()
        );
        Ok(took)
    }

    /// The Worker's test lock: while a test holds the guard, other tests calling `serial()` on
    /// the same Worker wait. Take it in the tests that [`reset`](Self::reset) the Worker and in
    /// those that must not see a reset (tests that do not take it are not held back). A test
    /// that panicked while holding it does not poison it.
    pub fn serial(&self) -> std::sync::MutexGuard<'_, ()> {
        self.serial.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Stops wrangler and workerd (SIGTERM to the process group, then SIGKILL) and removes the
    /// state directory. Dropping the Worker does the same.
    pub fn stop(&self) {
        self.server.lock().unwrap_or_else(std::sync::PoisonError::into_inner).stop();
        let _ = std::fs::remove_dir_all(&self.state);
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.stop();
    }
}

/// How `wrangler dev` is started: its arguments, its dev registry, how long to wait for it.
struct Launch {
    args: Vec<OsString>,
    registry: PathBuf,
    ready_timeout: Duration,
}

impl Launch {
    /// Starts `wrangler dev` and waits until it answers on `port`.
    fn spawn(&self, tools: &Tools, dir: &Path, log: &Path, port: u16, append: bool) -> Result<Tied, Error> {
        let envs = [("WRANGLER_SEND_METRICS", "false".as_ref()), ("WRANGLER_REGISTRY_PATH", self.registry.as_os_str())];
        let mut server = Tied::spawn(&tools.wrangler, &self.args, dir, &envs, log, append)?;
        let spawned = Instant::now();
        loop {
            if let Some(status) = server.exited() {
                return Err(Error::new(format!(
                    "wrangler dev exited before it was ready ({status}):\n{}",
                    tail(log, 40)
                )));
            }
            if answers_http(port) {
                return Ok(server);
            }
            if spawned.elapsed() > self.ready_timeout {
                server.stop();
                return Err(Error::new(format!(
                    "wrangler dev did not answer on 127.0.0.1:{port} within {} s:\n{}",
                    self.ready_timeout.as_secs(),
                    tail(log, 40)
                )));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// The env the Worker starts with: the harness's secrets and vars, then the builder's.
fn harness_env(b: &Builder, s: &Secrets, stub: &Stub) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    for name in &b.api_key_secrets {
        env.insert((*name).to_owned(), format!("{API_KEY_LABEL}:{}", s.api_key));
    }
    for name in &b.signing_secrets {
        env.insert((*name).to_owned(), s.signing_key.clone());
    }
    for name in &b.webhook_secrets {
        env.insert((*name).to_owned(), s.webhook_secret.clone());
    }
    for (secret, url) in &b.turnstile {
        env.insert((*secret).to_owned(), s.turnstile_secret.clone());
        env.insert((*url).to_owned(), stub.url(SITEVERIFY_PATH));
    }
    for (team, aud, certs) in &b.access {
        env.insert((*team).to_owned(), TEAM_DOMAIN.to_owned());
        env.insert((*aud).to_owned(), s.access_aud.clone());
        env.insert((*certs).to_owned(), stub.url(CERTS_PATH));
    }
    for (k, v) in &b.vars {
        env.insert(k.clone(), v.clone());
    }
    env
}
