//! The reference app (`app/`) as the Worker under test, shared by a test binary's tests.
//!
//! Without the toolchain (wrangler, worker-build, …) a test skips with a note on stderr, so a
//! fresh checkout's `cargo test --workspace` passes; `cargo xtask test` installs the toolchain
//! first and sets `LAYERS_TEST_REQUIRE`, which turns a missing tool into a failure.

use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use layers_test::support;
use layers_test::Worker;

/// The one admin of the run (`ADMIN_EMAILS`).
pub(crate) const ADMIN: &str = "admin@example.com";

/// The stand-in's worker name (tests/standin/wrangler.toml).
const STANDIN: &str = "layers-standin";

/// The shared Worker, or `None` (skip) when the toolchain is missing and not required. The
/// app's remote-only bindings (`AI`, `VECTORIZE`, `POSTS_INDEX`) are bound to the loopback
/// stand-in (tests/standin/): the reindex queue consumer opens `AI` and `POSTS_INDEX`.
pub(crate) fn app() -> Option<&'static Worker> {
    let builder = Worker::builder().dir("../app").var("ADMIN_EMAILS", ADMIN);
    if let Err(e) = builder.check_toolchain() {
        assert!(std::env::var_os("LAYERS_TEST_REQUIRE").is_none(), "{e}");
        eprintln!("skipped (set LAYERS_TEST_REQUIRE=1 to fail instead): {e}");
        return None;
    }
    let registry = match standin() {
        Ok(r) => r,
        Err(e) => panic!("the AI/Vectorize stand-in did not start: {e}"),
    };
    Some(
        builder
            .dev_registry(registry)
            .service("AI", STANDIN, Some("AiStandin"))
            .service("VECTORIZE", STANDIN, Some("VectorizeStandin"))
            .service("POSTS_INDEX", STANDIN, Some("PostsIndexStandin"))
            .shared(),
    )
}

/// The dev registry of this test binary's stand-in, started on first use in a `wrangler dev` of
/// its own, tied to this process (it exits with it).
fn standin() -> Result<&'static Path, String> {
    static STANDIN_RUN: OnceLock<Result<(PathBuf, Child), String>> = OnceLock::new();
    match STANDIN_RUN.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("standin-{}", std::process::id()));
        start_standin(&dir).map(|child| (dir.join("registry"), child))
    }) {
        Ok((registry, _)) => Ok(registry),
        Err(e) => Err(e.clone()),
    }
}

fn start_standin(dir: &Path) -> Result<Child, String> {
    let _ = std::fs::remove_dir_all(dir);
    let registry = dir.join("registry");
    std::fs::create_dir_all(&registry).map_err(|e| format!("cannot create {}: {e}", registry.display()))?;
    let log = dir.join("standin.log");
    let out = std::fs::File::create(&log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
    let err = out.try_clone().map_err(|e| e.to_string())?;
    let port = support::free_port().map_err(|e| e.to_string())?;
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let wrangler = root.join("app/node_modules/.bin/wrangler");
    let mut child = support::tied_command(&wrangler)
        .args(["dev", "--local", "--ip", "127.0.0.1", "--port", &port.to_string()])
        .arg("--persist-to")
        .arg(dir.join("state"))
        .arg("--show-interactive-dev-session=false")
        .current_dir(root.join("tests/standin"))
        .env("WRANGLER_SEND_METRICS", "false")
        .env("WRANGLER_REGISTRY_PATH", &registry)
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(|e| format!("could not start {}: {e}", wrangler.display()))?;
    let t0 = Instant::now();
    while !registry.join(STANDIN).exists() {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("the stand-in exited ({status}); see {}", log.display()));
        }
        if t0.elapsed() > Duration::from_secs(60) {
            return Err(format!("the stand-in did not register within 60 s; see {}", log.display()));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(child)
}
