//! Compile-time benchmark: the same N-route Worker written with layers' macros (`layers200`)
//! and by hand on workers-rs (`hand200`), generated under `target/bench-compile/` and built to
//! wasm32 the way worker-build does.
//!
//! The generated crates live in a small Cargo workspace of their own
//! (`target/bench-compile/Cargo.toml`, with `[workspace]`, so it is not part of ours): its
//! `[workspace.dependencies]` and `[profile.*]` are copied from our root `Cargo.toml` (path
//! dependencies made absolute) and our `Cargo.lock` is copied in, so both crates build against
//! exactly the versions the reference app does. Resolution runs offline and is then checked:
//! every package in the bench lockfile must be in ours (nothing new resolved); builds use
//! `--locked`. Build output goes to `target/bench-compile/target` (not our build lock).
//!
//! # The routes (same in both crates)
//! Route `i` (of N) is one of four kinds, by `i % 4`:
//! 0. Public `GET /rNNN/hello/:name` — JSON greeting with the path parameter;
//! 1. ApiKey `GET /rNNN/items/:id` — one D1 row read (`SELECT … WHERE id = ?1`), 404 if none;
//! 2. ApiKey `POST /rNNN/items` — JSON body into D1 (`INSERT`), 201;
//! 3. AccessJwt `GET /rNNN/prefs` — a KV read keyed by the token's email.
//!
//! Handlers are spread over [`MODULES`] files (`src/m00.rs` …), contiguous ranges of routes,
//! so "touching one handler" edits one file. `layers200` lists them in `app!` and checks its
//! bindings against a generated `wrangler.toml`; `hand200` registers them on a
//! `worker::Router` and verifies identities with hand-written helpers (`src/auth.rs`: `subtle`
//! for API keys, `jwt-compact` + a cached JWKS fetch for Access JWTs), not layers-core.
//!
//! # What is measured (per crate, seconds)
//! Every build is `cargo build --locked --target wasm32-unknown-unknown -p <crate>` in the
//! bench workspace, `--release` where stated (our release profile: `opt-level = 3`, fat
//! LTO, one codegen unit — what worker-build compiles).
//! - **cold release**: with the dependencies already compiled,
//!   `cargo clean -p <crate> --release --target wasm32-unknown-unknown`, then the timed
//!   `--release` rebuild: the crate itself (macro expansion, type checking, codegen) plus the
//!   LTO link of the whole Worker. layers-core and layers-macros count as dependencies, so
//!   their own compile time is *not* in this figure (as worker's is not). "Dependencies
//!   compiled" is checked, not assumed: a timed build whose output shows cargo compiling
//!   anything but the crate (the warm-up on a cold cache, or a dependency edited meanwhile)
//!   is discarded and the measurement repeated (`clean -p`, build).
//! - **cold dev**: the same with the dev profile (`cargo clean -p <crate> --target …`, then
//!   the timed debug build; incremental compilation on, as cargo's default).
//! - **incremental dev**: after the cold dev build, one handler's body in `src/m00.rs` is
//!   changed (the `"rev"` literal of the file's first handler) and the timed dev build runs
//!   again.
//!
//! The three builds run per crate in each of `--rounds` rounds (the crates alternate going
//! first), and each figure is the median over the rounds: one build's time on a shared machine
//! drifts by more than the margin the targets leave.
//!
//! The targets: cold release layers ÷ hand-written ≤ 1.2, incremental ≤ 3 s.
//!
//! Here: the run ([`run`]) and the bench workspace's place and cargo. The rest, one concern
//! per module:
//!
//! * `generate`: the bench workspace written out, the routes and their spread over files;
//! * `workspace`: its `Cargo.toml`, from our `[workspace.dependencies]` and `[profile.*]`;
//! * `layers_crate`, `hand_crate`: the sources of the two crates;
//! * `lockfile`: our `Cargo.lock`, pruned to the bench workspace, nothing new;
//! * `measure`: the timed builds of one crate, and the check that they built it alone;
//! * `figures`: the build times, their medians over the rounds, and their summary.

mod figures;
mod generate;
mod hand_crate;
mod layers_crate;
mod lockfile;
mod measure;
mod workspace;

use std::path::{Path, PathBuf};
use std::process::Command;

pub(crate) use figures::CompileFigures;
use figures::CrateFigures;
use generate::generate;
use lockfile::resolve_locked;
use measure::measure;

use crate::util::{log, Result};
use crate::Ctx;

/// Routes in the full benchmark.
pub(crate) const DEFAULT_ROUTES: usize = 200;
/// Routes in smoke mode.
pub(crate) const SMOKE_ROUTES: usize = 10;
/// Files the handlers are spread over (fewer when there are fewer routes).
pub(crate) const MODULES: usize = 10;
/// The generated crates.
const LAYERS_CRATE: &str = "layers200";
const HAND_CRATE: &str = "hand200";
const WASM: &str = "wasm32-unknown-unknown";

/// Generates the two crates under `target/bench-compile/` and measures them (see the module
/// docs for what each figure is) in `rounds` rounds, alternating which crate goes first; each
/// figure is the median over the rounds. `smoke` runs the same steps on [`SMOKE_ROUTES`] routes.
pub(crate) fn run(ctx: &Ctx, routes: usize, smoke: bool, rounds: u32) -> Result<CompileFigures> {
    let routes = if smoke { SMOKE_ROUTES } else { routes };
    if routes == 0 {
        return Err("the compile benchmark needs at least one route".into());
    }
    let rounds = rounds.max(1);
    let dir = bench_dir(ctx);
    log(format!("compile bench: generating {routes} routes × 2 crates in {}", dir.display()));
    generate(&ctx.root, &dir, routes)?;
    resolve_locked(ctx, &dir)?;
    let (mut layers, mut hand) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        log(format!("compile bench: round {}/{rounds}", round + 1));
        if round % 2 == 0 {
            layers.push(measure(ctx, &dir, LAYERS_CRATE)?);
            hand.push(measure(ctx, &dir, HAND_CRATE)?);
        } else {
            hand.push(measure(ctx, &dir, HAND_CRATE)?);
            layers.push(measure(ctx, &dir, LAYERS_CRATE)?);
        }
    }
    let figures =
        CompileFigures { routes, rounds, layers: CrateFigures::median(&layers), hand: CrateFigures::median(&hand) };
    for line in figures.to_string().lines() {
        log(line);
    }
    Ok(figures)
}

/// `<root>/target/bench-compile`.
pub(crate) fn bench_dir(ctx: &Ctx) -> PathBuf {
    ctx.root.join("target").join("bench-compile")
}

/// A cargo command in the bench workspace, with its own target dir.
fn bench_cargo(ctx: &Ctx, dir: &Path) -> Command {
    let mut cmd = Command::new(&ctx.cargo);
    cmd.current_dir(dir).env("CARGO_TARGET_DIR", dir.join("target"));
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;
    use measure::timed_build;

    /// The full-size crates type-check for wasm32 (a few minutes with `CARGO_BUILD_JOBS=1`):
    /// `cargo test -p xtask -- --ignored bench_compile_full_size_checks --nocapture`.
    #[test]
    #[ignore = "runs cargo check of the generated 200-route crates"]
    fn bench_compile_full_size_checks() {
        let ctx = Ctx::new().unwrap();
        let dir = bench_dir(&ctx);
        generate(&ctx.root, &dir, DEFAULT_ROUTES).unwrap();
        resolve_locked(&ctx, &dir).unwrap();
        let mut cmd = bench_cargo(&ctx, &dir);
        cmd.args(["check", "--locked", "--target", WASM, "-p", LAYERS_CRATE, "-p", HAND_CRATE]);
        let (_, compiled) = timed_build(&mut cmd).unwrap();
        assert!(compiled.iter().any(|c| c == LAYERS_CRATE) && compiled.iter().any(|c| c == HAND_CRATE), "{compiled:?}");
    }

    /// The whole benchmark in smoke mode (wasm builds, about a minute on a warm cache):
    /// `cargo test -p xtask -- --ignored bench_compile_smoke --nocapture`.
    #[test]
    #[ignore = "runs cargo builds of the generated crates"]
    fn bench_compile_smoke() {
        let ctx = Ctx::new().unwrap();
        let f = run(&ctx, DEFAULT_ROUTES, true, 2).unwrap();
        assert_eq!((f.routes, f.rounds), (SMOKE_ROUTES, 2));
        for c in [f.layers, f.hand] {
            assert!(c.cold_release_s > 0.0 && c.cold_dev_s > 0.0 && c.incremental_dev_s > 0.0, "{c:?}");
        }
        assert!(f.cold_release_ratio().is_finite());
    }
}
