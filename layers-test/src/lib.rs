//! Test a layers Worker from Rust, for real: the Worker built to wasm and run in workerd
//! (`wrangler dev --local` on 127.0.0.1), real credentials for its verifiers, and assertions on
//! the other two layers — its local storage and its log.
//!
//! Add it as a dev-dependency of the Worker crate, then write ordinary `#[test]`s:
//!
//! ```no_run
//! use layers_test::Worker;
//!
//! fn app() -> &'static Worker {
//!     // Started once per test binary (the first test to call it), shared by the others.
//!     Worker::builder().var("ADMIN_EMAILS", "admin@example.com").shared()
//! }
//!
//! #[test]
//! fn non_admin_gets_403_and_nothing_is_written() {
//!     let app = app();
//!     let resp = app.post("/admin/flags/beta").as_access("ada@example.com").json(&serde_json::json!({"on": true})).send();
//!     resp.assert_status(403);
//!     resp.log().assert_denied_before_storage();
//!     assert_eq!(app.d1("DB").scalar("SELECT COUNT(*) FROM admin_audit WHERE action LIKE 'flag beta%'"), 0);
//! }
//! ```
//!
//! # What a run does
//! 1. **Builds** the Worker with `worker-build --release` — skipped when the last build is newer
//!    than every source it was compiled from (cargo's dep-info), its `Cargo.toml`, the workspace's
//!    `Cargo.lock` and the wrangler config.
//! 2. **Makes credentials**: a fresh RSA key for Access tokens, random secrets (`API_KEYS`,
//!    `SIGNING_KEY`, `WEBHOOK_SECRET`, `TURNSTILE_SECRET`), and starts a loopback server (a free
//!    port on 127.0.0.1) serving the Access JWKS and Turnstile's siteverify. The Worker's
//!    `ACCESS_TEAM_DOMAIN`, `ACCESS_AUD`, `ACCESS_CERTS_URL` and `TURNSTILE_VERIFY_URL` point at
//!    them. Everything goes to wrangler in an env file of mode 0600 in a fresh state directory
//!    under `target/layers-test/` (so a developer's `.dev.vars` is not used).
//! 3. **Applies the D1 migrations** of every D1 binding to that state (the first run applies
//!    them to a template under `target/layers-test/`, kept while the migrations and the D1
//!    bindings stay the same; later runs copy it, which saves a node process per binding), and **starts**
//!    `wrangler dev --local --ip 127.0.0.1 --port <free> --test-scheduled` on a local copy of the
//!    wrangler config (see below), waiting until it answers.
//! 4. **Stops** it — SIGTERM to wrangler's process group, then SIGKILL — when the [`Worker`] is
//!    dropped; a [shared](Builder::shared) Worker (statics are never dropped) when the test
//!    binary exits, however it exits: wrangler runs under a watchdog shell that holds a pipe
//!    from the test process and takes the group down when the pipe closes (a panic, `exit`,
//!    SIGKILL, Ctrl-C).
//!
//! The local wrangler config leaves out `[build]` (the harness built the Worker) and the
//! remote-only `[ai]` and `[[vectorize]]` bindings (wrangler would need a Cloudflare login for
//! them): routes using them fail under the harness unless [`Builder::service`] binds their names
//! to a stand-in Worker you run locally (with the same [`Builder::dev_registry`]), or you pass a
//! config of your own with [`Builder::config`].
//!
//! # Identity: no test-only `Claims`
//! The harness never makes `Claims`, and nothing in layers lets it: it makes *credentials* that
//! the Worker's own verifiers check, exactly as in production.
//!
//! | verifier | the harness | request builder |
//! |---|---|---|
//! | `AccessJwt` | RS256 JWTs signed with the run's key, for the Worker's team and AUD; any email, groups, expiry, other claims, or a service token ([`AccessToken`]) | [`as_access`](TestRequest::as_access), [`access`](TestRequest::access), [`access_cookie`](TestRequest::access_cookie) |
//! | `ApiKey` | a random key, label `test`, in `API_KEYS` (other configs: [`Builder::api_keys`]) | [`with_api_key`](TestRequest::with_api_key), [`with_api_key_for`](TestRequest::with_api_key_for) |
//! | `SignedToken` | minted with layers' `mint` and the Worker's random `SIGNING_KEY`, any configuration | [`signed_token`](TestRequest::signed_token), [`Worker::signed_token`] for path tokens |
//! | `Webhook` | Svix signatures over the body with the Worker's random `whsec_` secret | [`webhook`](TestRequest::webhook) |
//! | `Turnstile` | pass tokens the loopback siteverify accepts once; fail tokens it refuses | [`turnstile_pass`](TestRequest::turnstile_pass), [`turnstile_fail`](TestRequest::turnstile_fail) |
//! | `Mtls` | **cannot be exercised locally**: it reads `request.cf.tlsClientAuth`, which Cloudflare's edge sets and `wrangler dev` has no way to set (its local `cf` object is a fixed template) | test your `MtlsConfig` natively against `Mtls`'s pure checks (`layers-tests/tests/mtls.rs` in the layers repository does), and assert here that an mTLS route refuses a request without a client certificate (401) |
//!
//! # Storage and logs
//! [`Worker::d1`] queries the Worker's local D1 (through `wrangler d1 execute --local` on the
//! run's state), [`Worker::kv`] reads KV, [`Worker::r2`] reads R2 objects; [`Worker::cron`] fires a cron trigger and returns its
//! log event; [`TestResponse::log`] is the Worker's wide log event of one request (found by the
//! `cf-ray` header the harness puts on every request), whose [`LogEvent::records`] read the
//! layers in order, e.g. [`LogEvent::assert_denied_before_storage`]. Events of work no request
//! of yours carries (a queue consumer's batch) are found with [`Worker::log_mark`] and
//! [`Worker::wait_for_event`]. Queues: `wrangler dev` cannot put a message on a local queue
//! from outside the Worker, so a test sends through the Worker's own producer route and
//! [`Worker::watch_queue`] waits for the consumer's batch ([`QueueWatch`]). To check that no secret ever reaches the log, scan
//! [`Worker::log_path`] (kept after the run when set with [`Builder::log_file`]) for the values
//! of [`Worker::secrets`].
//!
//! # Blocking, with `.await` where you want it
//! [`TestRequest::send`] blocks until the answer. That needs no async runtime — one would
//! otherwise be forced on every Worker crate's tests (workers-rs crates use none natively) — and
//! costs nothing real: every call is a loopback round trip of a few milliseconds. In an async
//! test, `.await` the request instead (it implements `IntoFuture`): any executor works, and the
//! request is made when the future is first polled, blocking that thread until the answer.
//!
//! # Tests run in parallel
//! `cargo test` runs a binary's tests on several threads against the shared Worker: give each
//! test its own data (a unique email, a unique flag name) and assert on that, not on whole
//! tables. A test that needs state of its own starts its own Worker with [`Builder::start`]
//! (a few seconds), clears the tables it uses with [`D1::execute`], or returns the whole local
//! state (D1, KV, R2, Durable Objects) to the freshly migrated one with [`Worker::reset`] (a
//! restart of wrangler on the same port, about 1.5 s). A reset takes every other test's state
//! with it: hold [`Worker::serial`] around it (and in the tests it must not interrupt), or put
//! such tests in a binary of their own.
//!
//! # The toolchain
//! A run needs, besides Rust: the `wasm32-unknown-unknown` target, `worker-build` 0.8.7 and the
//! `wasm-bindgen` CLI (cargo-installed, on `PATH` or in `$CARGO_HOME/bin`), and wrangler with
//! binaryen's `wasm-opt` in the Worker's (or a parent's) `node_modules`. When one is missing the
//! error says what to run; in the layers repository `cargo xtask ensure` installs them all.
//!
//! # Your own stubs and tooling
//! [`support`] holds the building blocks the harness is made of: a process group tied to the
//! test process (it goes away with it), stopping it, a free loopback port and whether a server
//! answers there, a mode-0600 file, the tail of a log, a chunked body and a percent-encoded
//! query value.

#![forbid(unsafe_code)]

mod builder;
mod config;
mod http;
mod identity;
mod logs;
mod process;
mod queue;
mod request;
mod storage;
mod stub;
pub mod support;
mod template;
mod toolchain;
mod worker;

pub use builder::Builder;
pub use identity::{AccessToken, API_KEY_LABEL, TEAM_DOMAIN};
pub use logs::{LogEvent, LogMark};
pub use queue::QueueWatch;
pub use request::{Sending, TestRequest, TestResponse};
pub use storage::{Kv, D1, R2};
pub use toolchain::WORKER_BUILD_VERSION;
pub use worker::Worker;

/// Why a [`Worker`] could not start: a message that says what failed and, for a missing tool,
/// what to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(String);

impl Error {
    pub(crate) fn new(msg: impl Into<String>) -> Error {
        Error(msg.into())
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

/// The message, for tooling whose errors are strings (`?` on a [`support`] call in a function
/// returning `Result<_, String>`).
impl From<Error> for String {
    fn from(e: Error) -> String {
        e.0
    }
}

/// Unix seconds now.
pub(crate) fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}
