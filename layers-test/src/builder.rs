//! [`Builder`]: how a [`Worker`] is started (vars and secrets, features, config, the bindings
//! to other local Workers, where its log goes).

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use layers_core::identity::{
    AccessConfig, ApiKeyConfig, DefaultAccess, DefaultApiKey, DefaultToken, DefaultTurnstile, DefaultWebhook,
    TokenConfig, TurnstileConfig, WebhookConfig,
};

use crate::toolchain::{BuildPlan, Tools};
use crate::{Error, Worker};

/// A `[[services]]` binding the local config gets (see [`Builder::service`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Service {
    pub(crate) binding: String,
    pub(crate) service: String,
    pub(crate) entrypoint: Option<String>,
}

/// How a [`Worker`] is started. Every secret and var the verifiers read gets a harness value
/// unless [`var`](Self::var) sets it.
#[derive(Debug, Clone)]
pub struct Builder {
    pub(crate) dir: Option<PathBuf>,
    pub(crate) vars: Vec<(String, String)>,
    pub(crate) plan: BuildPlan,
    pub(crate) config: Option<PathBuf>,
    pub(crate) api_key_secrets: Vec<&'static str>,
    pub(crate) signing_secrets: Vec<&'static str>,
    pub(crate) webhook_secrets: Vec<&'static str>,
    /// (secret, verify URL var)
    pub(crate) turnstile: Vec<(&'static str, &'static str)>,
    /// (team domain var, AUD var, certs URL var)
    pub(crate) access: Vec<(&'static str, &'static str, &'static str)>,
    pub(crate) ready_timeout: Duration,
    pub(crate) log_file: Option<PathBuf>,
    pub(crate) registry: Option<PathBuf>,
    pub(crate) services: Vec<Service>,
}

impl Default for Builder {
    fn default() -> Self {
        let mut b = Builder {
            dir: None,
            vars: Vec::new(),
            plan: BuildPlan::default(),
            config: None,
            api_key_secrets: Vec::new(),
            signing_secrets: Vec::new(),
            webhook_secrets: Vec::new(),
            turnstile: Vec::new(),
            access: Vec::new(),
            ready_timeout: Duration::from_secs(60),
            log_file: None,
            registry: None,
            services: Vec::new(),
        };
        b = b.api_keys::<DefaultApiKey>().signing_key::<DefaultToken>().webhook_secret::<DefaultWebhook>();
        b.turnstile::<DefaultTurnstile>().access::<DefaultAccess>()
    }
}

impl Builder {
    /// The Worker crate's directory (holding `Cargo.toml` and the wrangler config), relative
    /// to the directory of the crate whose tests run (`CARGO_MANIFEST_DIR`). Default: that
    /// crate itself.
    #[must_use]
    pub fn dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dir = Some(dir.into());
        self
    }

    /// Sets a var or secret of the Worker (written, with the harness's secrets, to an env file
    /// of mode 0600 that wrangler reads; `[vars]` of the config are overridden). A value set
    /// here wins over the harness's own.
    #[must_use]
    pub fn var(mut self, name: &str, value: &str) -> Self {
        self.vars.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Builds with these cargo features of the Worker crate.
    #[must_use]
    pub fn features(mut self, features: &[&str]) -> Self {
        self.plan.features = features.iter().map(|f| (*f).to_owned()).collect();
        self
    }

    /// Uses the Worker's `build/` as it is: no `worker-build` (you build it yourself).
    #[must_use]
    pub fn prebuilt(mut self) -> Self {
        self.plan.prebuilt = true;
        self
    }

    /// Starts wrangler with this config file (relative to [`dir`](Self::dir)) instead of a
    /// local copy of the Worker's wrangler config made by the harness (see the crate docs).
    #[must_use]
    pub fn config(mut self, file: impl Into<PathBuf>) -> Self {
        self.config = Some(file.into());
        self
    }

    /// Also writes a harness API key (label `test`) to `C::SECRET` (`API_KEYS` is always
    /// written).
    #[must_use]
    pub fn api_keys<C: ApiKeyConfig>(mut self) -> Self {
        push_unique(&mut self.api_key_secrets, C::SECRET);
        self
    }

    /// Also writes a random signing key to `C::SECRET` (`SIGNING_KEY` is always written).
    #[must_use]
    pub fn signing_key<C: TokenConfig>(mut self) -> Self {
        push_unique(&mut self.signing_secrets, C::SECRET);
        self
    }

    /// Also writes a random `whsec_…` secret to `C::SECRET` (`WEBHOOK_SECRET` always is).
    #[must_use]
    pub fn webhook_secret<C: WebhookConfig>(mut self) -> Self {
        push_unique(&mut self.webhook_secrets, C::SECRET);
        self
    }

    /// Also points configuration `C`'s Turnstile secret and siteverify URL at the harness.
    #[must_use]
    pub fn turnstile<C: TurnstileConfig>(mut self) -> Self {
        if !self.turnstile.iter().any(|(s, _)| *s == C::SECRET) {
            self.turnstile.push((C::SECRET, C::VERIFY_URL_VAR));
        }
        self
    }

    /// Also sets configuration `C`'s Access vars (team domain, AUD, JWKS URL) to the
    /// harness's (the default `ACCESS_*` vars always are).
    #[must_use]
    pub fn access<C: AccessConfig>(mut self) -> Self {
        let vars = (C::TEAM_DOMAIN_VAR, C::AUD_VAR, C::CERTS_URL_VAR);
        if !self.access.contains(&vars) {
            self.access.push(vars);
        }
        self
    }

    /// Writes wrangler's output (the Worker's log) to this file instead of `wrangler.log` in
    /// the run's state directory. The file outlives the run (the state directory does not), so
    /// a later step can read it — e.g. scan it for the values of [`Worker::secrets`].
    #[must_use]
    pub fn log_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.log_file = Some(path.into());
        self
    }

    /// Binds `binding` to another Worker running locally (`[[services]]` in the local config
    /// copy; `entrypoint` names a `WorkerEntrypoint` class, `None` the default export). That
    /// Worker must run in its own `wrangler dev` with the same [`dev_registry`](Self::dev_registry).
    /// A binding of this name in `[ai]` or `[[vectorize]]` is replaced, which is how a stand-in
    /// for a remote-only service is bound.
    #[must_use]
    pub fn service(mut self, binding: &str, service: &str, entrypoint: Option<&str>) -> Self {
        self.services.retain(|s| s.binding != binding);
        self.services.push(Service {
            binding: binding.to_owned(),
            service: service.to_owned(),
            entrypoint: entrypoint.map(str::to_owned),
        });
        self
    }

    /// The wrangler dev registry (`WRANGLER_REGISTRY_PATH`) through which local Workers find
    /// each other's [`service`](Self::service) bindings. Default: a registry private to the run.
    #[must_use]
    pub fn dev_registry(mut self, path: impl Into<PathBuf>) -> Self {
        self.registry = Some(path.into());
        self
    }

    /// How long to wait for the Worker to answer after starting (default 60 s).
    #[must_use]
    pub fn ready_timeout(mut self, timeout: Duration) -> Self {
        self.ready_timeout = timeout;
        self
    }

    /// Whether every tool a start needs is there (wrangler, and unless
    /// [`prebuilt`](Self::prebuilt) worker-build, the wasm-bindgen CLI, wasm-opt and esbuild),
    /// without building or starting anything: for a test suite that skips when they are not.
    ///
    /// # Errors
    /// The first tool missing, with what to run.
    pub fn check_toolchain(&self) -> Result<(), Error> {
        let tools = Tools::find(&self.worker_dir()?)?;
        if self.plan.prebuilt {
            Ok(())
        } else {
            crate::toolchain::check_build_tools(&tools)
        }
    }

    pub(crate) fn worker_dir(&self) -> Result<PathBuf, Error> {
        let base = std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(|| PathBuf::from("."), PathBuf::from);
        let dir = base.join(self.dir.clone().unwrap_or_default());
        dir.canonicalize().map_err(|e| Error::new(format!("the Worker directory {}: {e}", dir.display())))
    }

    /// Builds and starts a Worker of its own, stopped when it is dropped.
    ///
    /// # Errors
    /// When a tool is missing (the message says what to run), the build fails, the migrations
    /// fail, or wrangler does not answer in time (with the end of its log).
    pub fn start(self) -> Result<Worker, Error> {
        Worker::start_with(self)
    }

    /// The Worker of this test binary, started on first use with this configuration and
    /// shared by every test after (the configuration of later calls is not looked at). Stopped
    /// when the test binary exits, however it exits: wrangler runs under a watchdog tied to
    /// this process.
    ///
    /// # Panics
    /// When it cannot start (every test using it then fails with the same message).
    pub fn shared(self) -> &'static Worker {
        static SHARED: OnceLock<Result<Worker, String>> = OnceLock::new();
        match SHARED.get_or_init(|| self.start().map_err(|e| e.to_string())) {
            Ok(w) => w,
            Err(e) => panic!("the shared Worker did not start: {e}"),
        }
    }
}

fn push_unique(list: &mut Vec<&'static str>, name: &'static str) {
    if !list.contains(&name) {
        list.push(name);
    }
}
