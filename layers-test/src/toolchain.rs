//! Finding the tools (wrangler and its esbuild, binaryen's wasm-opt, worker-build, the
//! wasm-bindgen CLI) and building the Worker with `worker-build --release`, skipped when the
//! last build is newer than everything it was built from.
//!
//! "Newer than everything": cargo's dep-info of the last wasm build
//! (`<target>/wasm32-unknown-unknown/release/<lib>.d`) lists every source file the Worker was
//! compiled from, path dependencies included; with the crate's `Cargo.toml`, the workspace's
//! `Cargo.toml`/`Cargo.lock` and the wrangler config, these are the inputs. A stamp next to the
//! output records the features and the output's modification time, so a build by someone else
//! (`cargo xtask build`, another feature set) is never taken for ours.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use crate::process::run_captured;
use crate::Error;

/// The worker-build version layers is tested with (it must match the `worker` crate, 0.8.7).
pub const WORKER_BUILD_VERSION: &str = "0.8.7";

/// What to run when a tool is missing: the repository's own installer, or the commands.
const INSTALL_HINT: &str = "in the layers repository `cargo xtask ensure` installs all of them; elsewhere run \
     `rustup target add wasm32-unknown-unknown`, `cargo install worker-build --version 0.8.7 --locked`, \
     `cargo install wasm-bindgen-cli --version <the wasm-bindgen version in Cargo.lock>` and, in the Worker's \
     directory, `npm install --save-dev wrangler@4.86.0 binaryen@132.0.0`";

/// The tools a run needs, as absolute paths.
#[derive(Debug, Clone)]
pub(crate) struct Tools {
    pub(crate) wrangler: PathBuf,
    node_bin: PathBuf,
}

impl Tools {
    /// Finds wrangler in `dir/node_modules/.bin` or a parent's.
    pub(crate) fn find(dir: &Path) -> Result<Tools, Error> {
        let node_bin = dir
            .ancestors()
            .map(|d| d.join("node_modules").join(".bin"))
            .find(|b| is_executable(&b.join("wrangler")))
            .ok_or_else(|| {
                Error::new(format!(
                    "wrangler not found in node_modules/.bin of {} or of a parent directory: run \
                     `npm install --save-dev wrangler@4.86.0` there ({INSTALL_HINT})",
                    dir.display()
                ))
            })?;
        Ok(Tools { wrangler: node_bin.join("wrangler"), node_bin })
    }

    fn node(&self, name: &str) -> Result<PathBuf, Error> {
        let path = self.node_bin.join(name);
        if is_executable(&path) {
            Ok(path)
        } else {
            Err(Error::new(format!("{} not found: {INSTALL_HINT}", path.display())))
        }
    }
}

/// Whether the tools of a build are there (see [`build`]).
pub(crate) fn check_build_tools(tools: &Tools) -> Result<(), Error> {
    find_cargo_tool("worker-build", "WORKER_BUILD_BIN")?;
    find_cargo_tool("wasm-bindgen", "WASM_BINDGEN_BIN")?;
    tools.node("wasm-opt")?;
    tools.node("esbuild").map(drop)
}

/// How the Worker is built.
#[derive(Debug, Clone, Default)]
pub(crate) struct BuildPlan {
    /// Cargo features of the Worker crate (`--features a,b`).
    pub(crate) features: Vec<String>,
    /// Use `build/` as it is: no build at all.
    pub(crate) prebuilt: bool,
}

/// Builds the Worker in `dir` unless its last build is current. Returns whether it built.
pub(crate) fn build(dir: &Path, tools: &Tools, plan: &BuildPlan, state_root: &Path) -> Result<bool, Error> {
    let index = dir.join("build").join("index.js");
    if plan.prebuilt {
        return if index.is_file() {
            Ok(false)
        } else {
            Err(Error::new(format!("prebuilt() was asked for, but {} does not exist", index.display())))
        };
    }
    std::fs::create_dir_all(state_root)
        .map_err(|e| Error::new(format!("cannot create {}: {e}", state_root.display())))?;
    // One build at a time per target directory (test binaries of one `cargo test` run one
    // after another, but two `cargo test`s may overlap).
    let lock_path = state_root.join("build.lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| Error::new(format!("cannot open {}: {e}", lock_path.display())))?;
    lock.lock().map_err(|e| Error::new(format!("cannot lock {}: {e}", lock_path.display())))?;

    let meta = Metadata::read(dir)?;
    let features = plan.features.join(",");
    let wasm = dir.join("build").join("index_bg.wasm");
    let stamp = dir.join("build").join(".layers-test-stamp");
    if index.is_file() && up_to_date(dir, &meta, &wasm, &stamp, &features) {
        return Ok(false);
    }

    let worker_build = find_cargo_tool("worker-build", "WORKER_BUILD_BIN")?;
    let wasm_bindgen = find_cargo_tool("wasm-bindgen", "WASM_BINDGEN_BIN")?;
    let mut cmd = Command::new(&worker_build);
    cmd.arg("--release");
    if !features.is_empty() {
        cmd.args(["--features", &features]);
    }
    // worker-build would download wasm-bindgen, wasm-opt and esbuild; point it at local ones.
    cmd.current_dir(dir)
        .env("WASM_BINDGEN_BIN", &wasm_bindgen)
        .env("WASM_OPT_BIN", tools.node("wasm-opt")?)
        .env("ESBUILD_BIN", tools.node("esbuild")?);
    run_captured(&mut cmd, &format!("`worker-build --release` in {}", dir.display()))?;
    let built = modified(&wasm)
        .ok_or_else(|| Error::new(format!("worker-build succeeded but {} is missing", wasm.display())))?;
    let nanos = built.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    std::fs::write(&stamp, format!("{features}\n{nanos}\n"))
        .map_err(|e| Error::new(format!("cannot write {}: {e}", stamp.display())))?;
    Ok(true)
}

/// Whether `wasm` was built by us with `features` and is newer than every input.
fn up_to_date(dir: &Path, meta: &Metadata, wasm: &Path, stamp: &Path, features: &str) -> bool {
    let Some(built) = modified(wasm) else { return false };
    let nanos = built.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let Ok(text) = std::fs::read_to_string(stamp) else { return false };
    let mut lines = text.lines();
    if lines.next() != Some(features) || lines.next() != Some(nanos.to_string().as_str()) {
        return false;
    }
    let dep_info = meta.target_dir.join("wasm32-unknown-unknown").join("release").join(format!("{}.d", meta.lib));
    let Ok(deps) = std::fs::read_to_string(&dep_info) else { return false };
    let mut inputs: Vec<PathBuf> = dep_info_paths(&deps);
    inputs.extend([
        dir.join("Cargo.toml"),
        meta.workspace_root.join("Cargo.toml"),
        meta.workspace_root.join("Cargo.lock"),
    ]);
    // Every input must exist (a source that went away means a rebuild) and be older.
    let required = inputs.iter().all(|p| modified(p).is_some_and(|t| t <= built));
    // The wrangler config (`app!` reads it at compile time) when there is one.
    let optional = ["wrangler.toml", "wrangler.json", "wrangler.jsonc"]
        .iter()
        .all(|f| modified(&dir.join(f)).is_none_or(|t| t <= built));
    required && optional
}

/// The paths of a Makefile-style dep-info file (`out: a b\ c`), outputs left out.
fn dep_info_paths(text: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for line in text.lines() {
        let Some((_, deps)) = line.split_once(": ") else { continue };
        let mut cur = String::new();
        let mut chars = deps.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' if chars.peek() == Some(&' ') => {
                    cur.push(' ');
                    chars.next();
                }
                ' ' => {
                    if !cur.is_empty() {
                        out.push(PathBuf::from(std::mem::take(&mut cur)));
                    }
                }
                c => cur.push(c),
            }
        }
        if !cur.is_empty() {
            out.push(PathBuf::from(cur));
        }
    }
    out
}

/// What `cargo metadata` says about the Worker crate.
struct Metadata {
    target_dir: PathBuf,
    workspace_root: PathBuf,
    /// The library's name as compiled (`-` → `_`).
    lib: String,
}

impl Metadata {
    fn read(dir: &Path) -> Result<Metadata, Error> {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let manifest = dir.join("Cargo.toml");
        let text = run_captured(
            Command::new(cargo)
                .args(["metadata", "--format-version", "1", "--no-deps", "--manifest-path"])
                .arg(&manifest),
            "`cargo metadata`",
        )?;
        let v: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| Error::new(format!("cargo metadata: not JSON: {e}")))?;
        let path =
            |k: &str| v[k].as_str().map(PathBuf::from).ok_or_else(|| Error::new(format!("cargo metadata: no {k}")));
        let canon = manifest.canonicalize().unwrap_or(manifest.clone());
        let lib = v["packages"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["manifest_path"].as_str().map(PathBuf::from).is_some_and(|m| m == canon || m == manifest))
            .flat_map(|p| p["targets"].as_array().into_iter().flatten())
            .find(|t| t["kind"].as_array().is_some_and(|k| k.iter().any(|k| k == "cdylib")))
            .and_then(|t| t["name"].as_str())
            .map(|n| n.replace('-', "_"))
            .ok_or_else(|| {
                Error::new(format!(
                    "{} has no `cdylib` library target: a Worker crate needs `[lib] crate-type = [\"cdylib\"]`",
                    manifest.display()
                ))
            })?;
        Ok(Metadata { target_dir: path("target_directory")?, workspace_root: path("workspace_root")?, lib })
    }
}

/// `target_directory` of the workspace `dir` belongs to.
pub(crate) fn target_dir(dir: &Path) -> Result<PathBuf, Error> {
    Ok(Metadata::read(dir)?.target_dir)
}

/// A cargo-installed tool: `$ENV_VAR`, else on `PATH`, else in `$CARGO_HOME/bin`.
fn find_cargo_tool(name: &str, env_var: &str) -> Result<PathBuf, Error> {
    if let Some(p) = std::env::var_os(env_var).map(PathBuf::from).filter(|p| is_executable(p)) {
        return Ok(p);
    }
    let mut dirs: Vec<PathBuf> =
        std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect()).unwrap_or_default();
    if let Some(home) = std::env::var_os("CARGO_HOME").filter(|h| !h.is_empty()) {
        dirs.push(PathBuf::from(home).join("bin"));
    } else if let Some(home) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(home).join(".cargo").join("bin"));
    }
    dirs.into_iter().map(|d| d.join(name)).find(|p| is_executable(p)).ok_or_else(|| {
        Error::new(format!("{name} not found on PATH or in $CARGO_HOME/bin (or ${env_var}): {INSTALL_HINT}"))
    })
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    path.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn modified(path: &Path) -> Option<SystemTime> {
    path.metadata().and_then(|m| m.modified()).ok()
}

#[cfg(test)]
mod tests {
    use super::dep_info_paths;
    use std::path::PathBuf;

    #[test]
    fn dep_info_lists_inputs_with_escaped_spaces() {
        let text = "/t/app.wasm: /a/src/lib.rs /a/my\\ dir/x.rs\n\n/t/app.d: /a/src/lib.rs\n";
        assert_eq!(
            dep_info_paths(text),
            [PathBuf::from("/a/src/lib.rs"), PathBuf::from("/a/my dir/x.rs"), PathBuf::from("/a/src/lib.rs")]
        );
    }
}
