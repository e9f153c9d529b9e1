//! The reference app (`app/`) as the Worker under test, shared by a test binary's tests.
//!
//! Without the toolchain (wrangler, worker-build, …) a test skips with a note on stderr, so a
//! fresh checkout's `cargo test --workspace` passes; `cargo xtask test` installs the toolchain
//! first and sets `LAYERS_TEST_REQUIRE`, which turns a missing tool into a failure.

use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::OnceLock;

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
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let (wrangler, standin) = (root.join("app/node_modules/.bin/wrangler"), root.join("tests/standin"));
    let (registry, state, log) = (dir.join("registry"), dir.join("state"), dir.join("standin.log"));
    support::start_registered_worker(&support::RegisteredWorker {
        wrangler: &wrangler,
        dir: &standin,
        name: STANDIN,
        registry: &registry,
        state: &state,
        log: &log,
    })
    .map_err(|e| e.to_string())
}
