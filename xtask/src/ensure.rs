//! `cargo xtask ensure`: install what the wasm build and wrangler need, idempotently.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Instant, SystemTime};

use crate::util::{self, fmt_duration, log, run, Result};
use crate::Ctx;

const WASM_TARGET: &str = "wasm32-unknown-unknown";
/// Must match the `worker` crate version (0.8.7).
const WORKER_BUILD_VERSION: &str = "0.8.7";
/// Must equal the `wasm-bindgen` library version in Cargo.lock (pinned `=0.2.130`).
const WASM_BINDGEN_VERSION: &str = "0.2.130";

/// Absolute paths of the cargo-installed tools.
pub(crate) struct Tools {
    pub(crate) worker_build: PathBuf,
    pub(crate) wasm_bindgen: PathBuf,
}

pub(crate) fn ensure(ctx: &mut Ctx) -> Result<Tools> {
    ctx.step("ensure tools", |ctx| {
        ensure_wasm_target(ctx)?;
        let worker_build = ensure_cargo_tool(
            ctx,
            "worker-build",
            "worker-build",
            WORKER_BUILD_VERSION,
            // Its own lockfile resolves fine against crates.io.
            true,
            "~5 min",
        )?;
        check_lockfile_wasm_bindgen(&ctx.root);
        let wasm_bindgen = ensure_cargo_tool(
            ctx,
            "wasm-bindgen-cli",
            "wasm-bindgen",
            WASM_BINDGEN_VERSION,
            // Not --locked: its lockfile pins a webpki-roots version the registry no longer has.
            false,
            "~3 min",
        )?;
        ensure_npm(ctx)?;
        Ok(Tools { worker_build, wasm_bindgen })
    })
}

fn ensure_wasm_target(ctx: &Ctx) -> Result<()> {
    let Some(rustup) = util::find_all("rustup").into_iter().next() else {
        // No rustup (distro Rust?): check the sysroot directly; we cannot add targets.
        let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
        let sysroot = util::output(Command::new(&rustc).args(["--print", "sysroot"]).current_dir(&ctx.root))
            .ok_or("`rustc --print sysroot` failed; is Rust installed?")?;
        let dir = Path::new(sysroot.trim()).join("lib").join("rustlib").join(WASM_TARGET);
        return if dir.is_dir() {
            log(format!("{WASM_TARGET} target: present"));
            Ok(())
        } else {
            Err(format!(
                "the {WASM_TARGET} target is not installed for this toolchain ({}) and rustup is not \
                 available to add it",
                sysroot.trim()
            ))
        };
    };
    // Run in the workspace root so rustup honours rust-toolchain.toml (and any RUSTUP_TOOLCHAIN).
    let installed = util::output(Command::new(&rustup).args(["target", "list", "--installed"]).current_dir(&ctx.root))
        .ok_or("`rustup target list --installed` failed")?;
    if installed.lines().any(|l| l.trim() == WASM_TARGET) {
        log(format!("{WASM_TARGET} target: present"));
        return Ok(());
    }
    log(format!("adding the {WASM_TARGET} target (first time only)…"));
    timed(|| run(Command::new(&rustup).args(["target", "add", WASM_TARGET]).current_dir(&ctx.root)))
}

/// Finds `bin` at `version` on PATH or in `$CARGO_HOME/bin`; `cargo install`s `krate` otherwise.
fn ensure_cargo_tool(
    ctx: &Ctx,
    krate: &str,
    bin: &str,
    version: &str,
    locked: bool,
    expected_time: &str,
) -> Result<PathBuf> {
    if let Some(path) = util::find_with_version(bin, version) {
        log(format!("{bin} {version}: {}", path.display()));
        return Ok(path);
    }
    if let Some(other) = util::find_all(bin).into_iter().next() {
        log(format!("{} is not version {version}; installing the right one", other.display()));
    }
    log(format!("installing {krate} {version} (first time only, {expected_time})…"));
    timed(|| {
        let mut cmd = ctx.cargo_cmd();
        cmd.args(["install", krate, "--version", version]);
        if locked {
            cmd.arg("--locked");
        }
        run(&mut cmd)
    })?;
    util::find_with_version(bin, version).ok_or_else(|| {
        format!(
            "`cargo install {krate}` finished, but no `{bin}` reporting version {version} was found on \
             PATH or in {} (is CARGO_INSTALL_ROOT set?)",
            util::cargo_bin_dir().map(|d| d.display().to_string()).unwrap_or_else(|| "$CARGO_HOME/bin".into())
        )
    })
}

/// Warns when Cargo.lock's wasm-bindgen differs from the CLI version we install.
fn check_lockfile_wasm_bindgen(root: &Path) {
    let Ok(lock) = std::fs::read_to_string(root.join("Cargo.lock")) else {
        return;
    };
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "name = \"wasm-bindgen\"" {
            let version = lines.next().and_then(|l| l.trim().strip_prefix("version = ")).map(|v| v.trim_matches('"'));
            if let Some(v) = version.filter(|v| *v != WASM_BINDGEN_VERSION) {
                log(format!(
                    "warning: Cargo.lock has wasm-bindgen {v} but the CLI is pinned to \
                     {WASM_BINDGEN_VERSION} (xtask/src/ensure.rs); they must be equal"
                ));
            }
        }
    }
}

fn ensure_npm(ctx: &Ctx) -> Result<()> {
    npm_ci(ctx, &ctx.app, "wrangler, binaryen; ~15 s", &ctx.node_bin("wrangler"))?;
    for bin in ["wrangler", "wasm-opt", "esbuild"] {
        let path = ctx.node_bin(bin);
        if !util::is_executable(&path) {
            return Err(format!("{} is missing after npm ci; check app/package.json", path.display()));
        }
    }
    Ok(())
}

/// `npm ci` in `dir` when `probe` (one of its installed binaries) is missing or its
/// package-lock.json is newer than the last install; `what` says what it installs.
pub(crate) fn npm_ci(ctx: &Ctx, dir: &Path, what: &str, probe: &Path) -> Result<()> {
    let lock = dir.join("package-lock.json");
    let stamp = dir.join("node_modules").join(".package-lock.json");
    let name = dir.strip_prefix(&ctx.root).unwrap_or(dir).display().to_string();
    let reason = if !probe.exists() {
        Some(format!("{name}/node_modules is not installed"))
    } else if modified(&lock) > modified(&stamp) {
        Some(format!("{name}/package-lock.json changed"))
    } else {
        None
    };
    let Some(reason) = reason else {
        log(format!("npm packages in {name}/: up to date"));
        return Ok(());
    };
    if !lock.is_file() {
        return Err(format!("{} is missing", lock.display()));
    }
    log(format!("{reason}: installing npm packages ({what})…"));
    timed(|| {
        let mut cmd = Command::new("npm");
        cmd.args(["ci", "--no-audit", "--no-fund"]).current_dir(dir);
        if ctx.ci {
            cmd.arg("--no-progress");
        }
        run(&mut cmd)
            .map_err(|e| format!("{e}\n        (Node.js 20+ with npm is required: wrangler 4.86 runs on node ≥ 20)"))
    })
}

fn modified(path: &Path) -> Option<SystemTime> {
    path.metadata().and_then(|m| m.modified()).ok()
}

/// Runs `f` and logs how long it took.
fn timed(f: impl FnOnce() -> Result<()>) -> Result<()> {
    let start = Instant::now();
    f()?;
    log(format!("  done in {}", fmt_duration(start.elapsed())));
    Ok(())
}
