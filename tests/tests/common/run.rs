//! The Worker of one e2e target (test binary): the reference app's test build in workerd,
//! started by `layers-test` on first use and shared by the target's tests, with what the
//! harness has no equivalent for started next to it:
//!
//! * `layers-stubs` (this crate's binary; one per target, tied to this process): the Access
//!   JWKS with the fixture keys and its control modes (rotation and outage tests), the slow
//!   JWKS, Turnstile's siteverify with its fault modes, AWS STS, the mail sink and the
//!   webmention source pages. `ACCESS_CERTS_URL`, `SLOW_CERTS_URL`, `TURNSTILE_*`, `MAIL_URL`,
//!   `STS_URL` and `WEBMENTION_ALLOW_ORIGINS` point there; the Access team and AUD, the signing
//!   key and the webhook secret are the harness's.
//! * the AI/Vectorize stand-in (`tests/standin/`, its own `wrangler dev`): `AI`, `VECTORIZE` and
//!   `POSTS_INDEX` are service bindings to it through a dev registry (each index an entrypoint
//!   with its own in-memory vectors). `cargo xtask e2e` starts one for all targets (so the
//!   indexes outlive a target: tests use fresh ids, and the app checks matches against its own
//!   D1) and names its registry in `LAYERS_E2E_REGISTRY`; without it the target starts its own
//!   (a few seconds more).
//!
//! What the leak check (`xtask/src/leaks.rs`) reads after the target ran goes to
//! `LAYERS_E2E_DIR` (default `target/e2e/`), one set of files per target: `<target>.log`
//! (wrangler's output), `<target>.secrets` (mode 0600, `name<TAB>value` per line: every secret
//! the Worker was started with) and `<target>.sensitive` (the values the tests sent that must
//! never be logged; see `sensitive`). With `LAYERS_E2E_PREBUILT` set (by xtask, which has made
//! the test build) the harness does not build.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Instant;

use layers_test::support::{self, write_private};
use layers_test::Worker;

/// The role the Worker's `BackupRole` federation assumes.
const STS_ROLE_ARN: &str = "arn:aws:iam::123456789012:role/layers-backup";
/// The role `SummaryRole` assumes to call Bedrock (the STS stub grants these two only).
const BEDROCK_ROLE_ARN: &str = "arn:aws:iam::123456789012:role/layers-summaries";
/// The Bedrock model the summaries ask for: its `:` travels as `%3A` and is signed as `%253A`.
pub(crate) const BEDROCK_MODEL: &str = "us.anthropic.claude-opus-4-1-20250805-v1:0";
/// The stand-in's worker name (tests/standin/wrangler.toml).
const STANDIN: &str = "layers-standin";

/// One target's run: its Worker and the processes next to it (kept for the life of the test
/// process; the stubs and the stand-in exit when it does, through their stdin pipes).
pub(crate) struct Run {
    pub(crate) worker: Worker,
    pub(crate) stubs_url: String,
    pub(crate) old_key: String,
    pub(crate) sensitive: PathBuf,
    _children: Vec<Child>,
}

/// This target's run, started on first use.
pub(crate) fn run() -> &'static Run {
    static RUN: OnceLock<Result<Run, String>> = OnceLock::new();
    match RUN.get_or_init(start) {
        Ok(r) => r,
        Err(e) => panic!("the e2e Worker did not start: {e}"),
    }
}

/// The target's name (the test binary's crate name).
fn target_name() -> &'static str {
    env!("CARGO_CRATE_NAME")
}

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `LAYERS_E2E_DIR`, else `target/e2e/` of the workspace.
fn out_dir() -> PathBuf {
    std::env::var_os("LAYERS_E2E_DIR").map_or_else(
        || {
            std::env::var_os("CARGO_TARGET_DIR")
                .map_or_else(|| manifest_dir().join("..").join("target"), PathBuf::from)
                .join("e2e")
        },
        PathBuf::from,
    )
}

fn random_hex(n: usize) -> String {
    let mut buf = vec![0u8; n];
    getrandom::getrandom(&mut buf).expect("the OS random number generator");
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

fn start() -> Result<Run, String> {
    let t0 = Instant::now();
    let dir = out_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let name = target_name();
    let sensitive = dir.join(format!("{name}.sensitive"));
    write_private(&sensitive, "")?;

    let turnstile_secret = random_hex(16);
    let (stubs, stubs_port) = start_stubs(&turnstile_secret)?;
    let mut children = vec![stubs];
    let stubs_url = format!("http://127.0.0.1:{stubs_port}");

    let registry = match std::env::var_os("LAYERS_E2E_REGISTRY") {
        Some(r) => PathBuf::from(r),
        None => {
            let registry = dir.join(format!("{name}.registry"));
            children.push(start_standin(&registry, &dir.join(format!("{name}.standin.log")))?);
            registry
        }
    };

    let fixtures = manifest_dir().join("fixtures").join("access");
    let federation_key = std::fs::read_to_string(fixtures.join("key-a.pem"))
        .map_err(|e| format!("the fixture key: {e}"))?
        .trim()
        .replace("\r\n", "\n");
    let (api_key, old_key) = (random_hex(32), random_hex(32));
    let mut b = Worker::builder()
        .dir("../app")
        .features(&["expose-routing", "attack-routes"])
        .log_file(dir.join(format!("{name}.log")))
        .dev_registry(&registry)
        .service("AI", STANDIN, Some("AiStandin"))
        .service("VECTORIZE", STANDIN, Some("VectorizeStandin"))
        .service("POSTS_INDEX", STANDIN, Some("PostsIndexStandin"));
    if std::env::var_os("LAYERS_E2E_PREBUILT").is_some() {
        b = b.prebuilt();
    }
    let vars = [
        ("API_KEYS", format!("{}:{api_key},old:{old_key}", layers_test::API_KEY_LABEL)),
        ("ACCESS_CERTS_URL", format!("{stubs_url}/cdn-cgi/access/certs")),
        ("SLOW_CERTS_URL", format!("{stubs_url}/slow/cdn-cgi/access/certs")),
        ("ADMIN_EMAILS", "admin@example.com,Ops@Example.com".to_owned()),
        ("TURNSTILE_SECRET", turnstile_secret),
        ("TURNSTILE_VERIFY_URL", format!("{stubs_url}/turnstile/v0/siteverify")),
        ("MAIL_URL", format!("{stubs_url}/mail")),
        ("ABUSE_LIMIT", "4".to_owned()),
        ("FEDERATION_KEY", federation_key.clone()),
        ("FEDERATION_ISSUER", "https://layers.test".to_owned()),
        ("STS_URL", format!("{stubs_url}/sts")),
        ("STS_ROLE_ARN", STS_ROLE_ARN.to_owned()),
        ("STS_AUDIENCE", "sts.amazonaws.com".to_owned()),
        ("BEDROCK_ROLE_ARN", BEDROCK_ROLE_ARN.to_owned()),
        ("BEDROCK_URL", format!("{stubs_url}/bedrock")),
        ("BEDROCK_REGION", "us-east-1".to_owned()),
        ("BEDROCK_MODEL", BEDROCK_MODEL.to_owned()),
        ("SITE_URL", "https://layers.test".to_owned()),
        ("WEBMENTION_ALLOW_ORIGINS", stubs_url.clone()),
        ("WEBMENTION_RETRY_SECS", "1".to_owned()),
        // Every failed webmention send is due again at the next cron run (the doubling wait is
        // unit-tested: `webmention::send_round_due`).
        ("WEBMENTION_SEND_BACKOFF_SECS", "0".to_owned()),
    ];
    for (k, v) in &vars {
        b = b.var(k, v);
    }
    let worker = b.start().map_err(|e| e.to_string())?;
    // From now on the STS stub checks assertions the way AWS does: with the key the Worker
    // publishes at its issuer's /.well-known/ documents (served by this Worker).
    control_post(&stubs_url, "/__control/sts-issuer", &worker.url())?;

    // Every secret the Worker holds, for the leak check: the harness's list, the federation
    // key's PEM body lines, and the STS stub's credentials (they start with these).
    let mut secrets = worker.secrets();
    secrets.extend(
        federation_key
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .enumerate()
            .map(|(i, l)| (format!("FEDERATION_KEY line {}", i + 2), l.to_owned())),
    );
    secrets.push(("STS secret access key".to_owned(), "stubsecret".to_owned()));
    secrets.push(("STS session token".to_owned(), "stubsession".to_owned()));
    let text: String = secrets.iter().map(|(k, v)| format!("{k}\t{v}\n")).collect();
    write_private(&dir.join(format!("{name}.secrets")), &text)?;
    eprintln!("e2e target `{name}`: Worker on {} ready after {:.1} s", worker.url(), t0.elapsed().as_secs_f64());
    Ok(Run { worker, stubs_url, old_key, sensitive, _children: children })
}

/// `POST`s `body` to the stubs' control `path`, expecting `ok`.
fn control_post(stubs_url: &str, path: &str, body: &str) -> Result<(), String> {
    let authority = stubs_url.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(authority).map_err(|e| format!("the stubs: {e}"))?;
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .map_err(|e| e.to_string())?;
    let mut answer = String::new();
    s.read_to_string(&mut answer).map_err(|e| e.to_string())?;
    if answer.starts_with("HTTP/1.1 200") && answer.ends_with("ok") {
        Ok(())
    } else {
        Err(format!("the stubs answered {path} with {answer:?}"))
    }
}

/// Starts `layers-stubs` (built by cargo with this test binary) on a free loopback port; it
/// exits when our end of its stdin closes.
fn start_stubs(turnstile_secret: &str) -> Result<(Child, u16), String> {
    let bin = env!("CARGO_BIN_EXE_layers-stubs");
    let mut child = Command::new(bin)
        .arg("--exit-on-stdin-eof")
        .arg("--jwks-dir")
        .arg(manifest_dir().join("fixtures").join("access"))
        .args(["--turnstile-secret", turnstile_secret, "--sts-role", &format!("{STS_ROLE_ARN},{BEDROCK_ROLE_ARN}")])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not start {bin}: {e}"))?;
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        let _ = BufReader::new(out).read_line(&mut line);
    }
    match line.trim().rsplit(':').next().and_then(|p| p.parse().ok()) {
        Some(port) => Ok((child, port)),
        None => {
            let _ = child.kill();
            Err(format!("layers-stubs did not report its port (said {line:?})"))
        }
    }
}

/// Starts the AI/Vectorize stand-in (tests/standin/) in its own `wrangler dev` registered in
/// `registry`, and waits until it is.
fn start_standin(registry: &Path, log: &Path) -> Result<Child, String> {
    let _ = std::fs::remove_dir_all(registry);
    let wrangler = manifest_dir().join("../app/node_modules/.bin/wrangler");
    let (dir, state) = (manifest_dir().join("standin"), registry.join("state"));
    support::start_registered_worker(&support::RegisteredWorker {
        wrangler: &wrangler,
        dir: &dir,
        name: STANDIN,
        registry,
        state: &state,
        log,
    })
    .map_err(|e| e.to_string())
}
