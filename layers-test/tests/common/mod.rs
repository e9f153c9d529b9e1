//! The reference app (`app/`) as the Worker under test, shared by a test binary's tests.
//!
//! Without the toolchain (wrangler, worker-build, …) a test skips with a note on stderr, so a
//! fresh checkout's `cargo test --workspace` passes; `cargo xtask test` installs the toolchain
//! first and sets `LAYERS_TEST_REQUIRE`, which turns a missing tool into a failure.

use layers_test::Worker;

/// The one admin of the run (`ADMIN_EMAILS`).
pub(crate) const ADMIN: &str = "admin@example.com";

/// The shared Worker, or `None` (skip) when the toolchain is missing and not required.
pub(crate) fn app() -> Option<&'static Worker> {
    let builder = Worker::builder().dir("../app").var("ADMIN_EMAILS", ADMIN);
    if let Err(e) = builder.check_toolchain() {
        assert!(std::env::var_os("LAYERS_TEST_REQUIRE").is_none(), "{e}");
        eprintln!("skipped (set LAYERS_TEST_REQUIRE=1 to fail instead): {e}");
        return None;
    }
    Some(builder.shared())
}
