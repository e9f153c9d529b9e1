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
//! bench workspace, `--release` where stated (our release profile: `opt-level = "z"`, fat
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
//! The issue's targets: cold release layers ÷ hand-written ≤ 1.2, incremental ≤ 3 s.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::util::{self, describe, log, Result};
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

/// Build times of one generated crate, in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct CrateFigures {
    /// Builds that compiled dependencies too (the warm-up on a cold cache), not counted.
    pub(crate) discarded_s: f64,
    /// `--release` rebuild of the crate alone after `cargo clean -p` (deps compiled).
    pub(crate) cold_release_s: f64,
    /// Dev-profile rebuild of the crate alone after `cargo clean -p` (deps compiled).
    pub(crate) cold_dev_s: f64,
    /// Dev-profile rebuild after one handler's body changed.
    pub(crate) incremental_dev_s: f64,
}

impl CrateFigures {
    /// The median of each figure over `rounds` (not empty); `discarded_s` is their sum.
    fn median(rounds: &[CrateFigures]) -> CrateFigures {
        let med = |f: fn(&CrateFigures) -> f64| {
            let mut v: Vec<f64> = rounds.iter().map(f).collect();
            v.sort_by(f64::total_cmp);
            match v.len() {
                0 => f64::NAN,
                n if n % 2 == 1 => v[n / 2],
                n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
            }
        };
        CrateFigures {
            discarded_s: rounds.iter().map(|r| r.discarded_s).sum(),
            cold_release_s: med(|r| r.cold_release_s),
            cold_dev_s: med(|r| r.cold_dev_s),
            incremental_dev_s: med(|r| r.incremental_dev_s),
        }
    }
}

/// The benchmark's result: both crates' figures for `routes` routes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct CompileFigures {
    /// Routes in each crate.
    pub(crate) routes: usize,
    /// Rounds measured; each figure is their median.
    pub(crate) rounds: u32,
    /// The crate written with layers' macros.
    pub(crate) layers: CrateFigures,
    /// The same routes hand-written on workers-rs.
    pub(crate) hand: CrateFigures,
}

impl CompileFigures {
    /// Cold release compile time, layers ÷ hand-written (target ≤ 1.2).
    pub(crate) fn cold_release_ratio(&self) -> f64 {
        ratio(self.layers.cold_release_s, self.hand.cold_release_s)
    }

    /// Cold dev compile time, layers ÷ hand-written.
    pub(crate) fn cold_dev_ratio(&self) -> f64 {
        ratio(self.layers.cold_dev_s, self.hand.cold_dev_s)
    }

    /// Incremental dev rebuild, layers ÷ hand-written.
    pub(crate) fn incremental_ratio(&self) -> f64 {
        ratio(self.layers.incremental_dev_s, self.hand.incremental_dev_s)
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        f64::NAN
    }
}

impl fmt::Display for CompileFigures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "compile time, {} routes (wasm32-unknown-unknown, dependencies compiled; median of {} round(s)):",
            self.routes, self.rounds
        )?;
        writeln!(f, "| | layers | hand-written | ratio |")?;
        writeln!(f, "|---|---|---|---|")?;
        let rows = [
            ("cold release", self.layers.cold_release_s, self.hand.cold_release_s, self.cold_release_ratio()),
            ("cold dev", self.layers.cold_dev_s, self.hand.cold_dev_s, self.cold_dev_ratio()),
            (
                "incremental dev (one handler edited)",
                self.layers.incremental_dev_s,
                self.hand.incremental_dev_s,
                self.incremental_ratio(),
            ),
        ];
        for (name, l, h, r) in rows {
            writeln!(f, "| {name} | {l:.2} s | {h:.2} s | {r:.2} |")?;
        }
        write!(
            f,
            "(builds that also compiled dependencies, not counted: layers {:.1} s, hand-written {:.1} s)",
            self.layers.discarded_s, self.hand.discarded_s
        )
    }
}

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

fn build_cmd(ctx: &Ctx, dir: &Path, krate: &str, release: bool) -> Command {
    let mut cmd = bench_cargo(ctx, dir);
    cmd.args(["build", "--locked", "--target", WASM, "-p", krate]);
    if release {
        cmd.arg("--release");
    }
    cmd
}

fn clean(ctx: &Ctx, dir: &Path, krate: &str, release: bool) -> Result<()> {
    let mut cmd = bench_cargo(ctx, dir);
    cmd.args(["clean", "--target", WASM, "-p", krate]);
    if release {
        cmd.arg("--release");
    }
    util::run(&mut cmd)
}

fn measure(ctx: &Ctx, dir: &Path, krate: &str) -> Result<CrateFigures> {
    let mut discarded_s = 0.0;
    let cold_release_s = crate_only(krate, "cold release", &mut discarded_s, || {
        clean(ctx, dir, krate, true)?;
        timed_build(&mut build_cmd(ctx, dir, krate, true))
    })?;
    let cold_dev_s = crate_only(krate, "cold dev", &mut discarded_s, || {
        clean(ctx, dir, krate, false)?;
        timed_build(&mut build_cmd(ctx, dir, krate, false))
    })?;
    let edited = dir.join(krate).join("src").join("m00.rs");
    let incremental_dev_s = crate_only(krate, "incremental dev", &mut discarded_s, || {
        edit_one_handler(&edited)?;
        timed_build(&mut build_cmd(ctx, dir, krate, false))
    })?;
    Ok(CrateFigures { discarded_s, cold_release_s, cold_dev_s, incremental_dev_s })
}

/// Attempts at a measurement: the first may compile the dependencies (the warm-up, on a cold
/// cache); more are needed only when a dependency changes during the run.
const ATTEMPTS: usize = 3;

/// Runs `attempt` (prepare, then a timed build returning the seconds and the packages cargo
/// compiled) until a build compiled `krate` alone, and returns that build's time. A build that
/// compiled any dependency too — the warm-up on a cold cache, or someone editing layers-core
/// during the run — is not counted (its time is added to `discarded_s`) and is repeated.
fn crate_only(
    krate: &str,
    what: &str,
    discarded_s: &mut f64,
    mut attempt: impl FnMut() -> Result<(f64, Vec<String>)>,
) -> Result<f64> {
    for n in 1..=ATTEMPTS {
        let (secs, compiled) = attempt()?;
        let others: Vec<&String> = compiled.iter().filter(|c| *c != krate).collect();
        if others.is_empty() {
            log(format!("compile bench: {krate}: {what} {secs:.2} s"));
            return Ok(secs);
        }
        *discarded_s += secs;
        log(format!(
            "compile bench: {krate}: {what}: this build also compiled {} dependencies ({secs:.2} s, attempt {n}/{ATTEMPTS}, not counted); again",
            others.len()
        ));
    }
    Err(format!(
        "{krate}: {what}: dependencies were recompiled in each of {ATTEMPTS} attempts (is someone editing them?)"
    ))
}

/// Runs a cargo build with its stderr captured (echoed afterwards); the seconds it took and
/// the packages it compiled (its `Compiling <name> …` or `Checking <name> …` lines).
fn timed_build(cmd: &mut Command) -> Result<(f64, Vec<String>)> {
    let desc = describe(cmd);
    log(format!("$ {}", util::describe_with_dir(cmd)));
    let start = Instant::now();
    let out = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::inherit())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("could not start `{desc}`: {e}"))?;
    let secs = start.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprint!("{stderr}");
    if !out.status.success() {
        return Err(format!("`{desc}` failed ({})", out.status));
    }
    Ok((secs, compiled_packages(&stderr)))
}

/// The package names in cargo's `Compiling <name> v<version> …` (or `Checking …`) lines.
fn compiled_packages(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter_map(|l| {
            let l = l.trim_start();
            l.strip_prefix("Compiling ").or_else(|| l.strip_prefix("Checking "))?.split_whitespace().next()
        })
        .map(str::to_owned)
        .collect()
}

/// Changes the first handler of `file`: its `"rev": <n>u32` literal becomes `n + 1`.
fn edit_one_handler(file: &Path) -> Result<()> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let edited = bump_rev(&text).ok_or_else(|| format!("no `\"rev\": <n>u32` literal in {}", file.display()))?;
    std::fs::write(file, edited).map_err(|e| format!("cannot write {}: {e}", file.display()))
}

fn bump_rev(text: &str) -> Option<String> {
    const MARK: &str = "\"rev\": ";
    let start = text.find(MARK)? + MARK.len();
    let digits = text[start..].bytes().take_while(u8::is_ascii_digit).count();
    let rest = &text[start + digits..];
    if digits == 0 || !rest.starts_with("u32") {
        return None;
    }
    let n: u64 = text[start..start + digits].parse().ok()?;
    Some(format!("{}{}{}", &text[..start], n + 1, rest))
}

// ---------------------------------------------------------------------------------------------
// Lockfile: ours, pruned to the bench workspace, nothing new.

/// Copies our `Cargo.lock` in, lets cargo prune it to the bench workspace (offline), and
/// checks that every package in the result is one our lockfile already pins.
fn resolve_locked(ctx: &Ctx, dir: &Path) -> Result<()> {
    let ours = ctx.root.join("Cargo.lock");
    let theirs = dir.join("Cargo.lock");
    let ours_text = std::fs::read_to_string(&ours).map_err(|e| format!("cannot read {}: {e}", ours.display()))?;
    write_if_changed(&theirs, &ours_text)?;
    let mut cmd = bench_cargo(ctx, dir);
    cmd.args(["metadata", "--offline", "--format-version", "1"]);
    let out = cmd.output().map_err(|e| format!("could not start `{}`: {e}", describe(&cmd)))?;
    if !out.status.success() {
        return Err(format!(
            "`{}` in {} failed: {}",
            describe(&cmd),
            dir.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let bench_text = std::fs::read_to_string(&theirs).map_err(|e| format!("cannot read {}: {e}", theirs.display()))?;
    let new = packages_not_in(&bench_text, &ours_text)?;
    if !new.is_empty() {
        return Err(format!(
            "the bench workspace resolved packages our Cargo.lock does not pin: {}",
            new.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    log("compile bench: Cargo.lock copied from ours, pruned offline; no new package versions");
    Ok(())
}

/// `name version` of every registry (or git) package in lockfile `a` that lockfile `b` lacks.
fn packages_not_in(a: &str, b: &str) -> Result<BTreeSet<String>> {
    let (a, b) = (lock_packages(a)?, lock_packages(b)?);
    Ok(a.difference(&b).cloned().collect())
}

fn lock_packages(lock: &str) -> Result<BTreeSet<String>> {
    let doc: toml::Table = lock.parse().map_err(|e| format!("a Cargo.lock is not valid TOML: {e}"))?;
    let packages = doc.get("package").and_then(toml::Value::as_array).ok_or("a Cargo.lock has no [[package]]")?;
    Ok(packages
        .iter()
        // Only packages from a registry or git: path packages (the bench crates, layers-core)
        // are not resolved.
        .filter(|p| p.get("source").is_some())
        .filter_map(|p| {
            let name = p.get("name")?.as_str()?;
            let version = p.get("version")?.as_str()?;
            Some(format!("{name} {version}"))
        })
        .collect())
}

// ---------------------------------------------------------------------------------------------
// Generation.

/// Writes the bench workspace (manifest, both crates) into `dir`; files whose contents did
/// not change are left alone (their mtimes too: cargo does not rebuild what did not change).
pub(crate) fn generate(root: &Path, dir: &Path, routes: usize) -> Result<()> {
    let manifest_path = root.join("Cargo.toml");
    let manifest =
        std::fs::read_to_string(&manifest_path).map_err(|e| format!("cannot read {}: {e}", manifest_path.display()))?;
    let root_doc: toml::Table =
        manifest.parse().map_err(|e| format!("{} is not valid TOML: {e}", manifest_path.display()))?;
    let edition = root_doc
        .get("workspace")
        .and_then(|w| w.get("package"))
        .and_then(|p| p.get("edition"))
        .and_then(toml::Value::as_str)
        .unwrap_or("2021")
        .to_owned();
    let mut files: Vec<(PathBuf, String)> = vec![
        (dir.join("Cargo.toml"), workspace_manifest(root, &root_doc)?),
        (dir.join(".gitignore"), "*\n".to_owned()),
        (dir.join(LAYERS_CRATE).join("Cargo.toml"), crate_manifest(LAYERS_CRATE, &edition, LAYERS_DEPS)),
        (dir.join(LAYERS_CRATE).join("wrangler.toml"), WRANGLER_TOML.to_owned()),
        (dir.join(LAYERS_CRATE).join("src").join("lib.rs"), layers_lib(routes)),
        (dir.join(HAND_CRATE).join("Cargo.toml"), crate_manifest(HAND_CRATE, &edition, HAND_DEPS)),
        (dir.join(HAND_CRATE).join("wrangler.toml"), WRANGLER_TOML.to_owned()),
        (dir.join(HAND_CRATE).join("src").join("lib.rs"), hand_lib(routes)),
        (dir.join(HAND_CRATE).join("src").join("auth.rs"), HAND_AUTH.to_owned()),
    ];
    for (m, range) in module_ranges(routes).into_iter().enumerate() {
        let name = format!("m{m:02}.rs");
        files.push((dir.join(LAYERS_CRATE).join("src").join(&name), layers_module(range.clone())));
        files.push((dir.join(HAND_CRATE).join("src").join(&name), hand_module(range)));
    }
    // Module files of an earlier run with more modules.
    for krate in [LAYERS_CRATE, HAND_CRATE] {
        let src = dir.join(krate).join("src");
        if let Ok(entries) = std::fs::read_dir(&src) {
            for entry in entries.flatten() {
                let path = entry.path();
                let stale = path.extension().is_some_and(|e| e == "rs") && !files.iter().any(|(p, _)| p == &path);
                if stale {
                    std::fs::remove_file(&path).map_err(|e| format!("cannot remove {}: {e}", path.display()))?;
                }
            }
        }
    }
    for (path, contents) in &files {
        write_if_changed(path, contents)?;
    }
    Ok(())
}

fn write_if_changed(path: &Path, contents: &str) -> Result<()> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == contents) {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    std::fs::write(path, contents).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Contiguous route ranges, one per module file (at most [`MODULES`], none empty).
pub(crate) fn module_ranges(routes: usize) -> Vec<std::ops::Range<usize>> {
    let modules = MODULES.min(routes).max(1);
    (0..modules).map(|m| (m * routes / modules)..((m + 1) * routes / modules)).filter(|r| !r.is_empty()).collect()
}

/// The four route kinds, by `i % 4`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Public `GET /rNNN/hello/:name`.
    PublicHello,
    /// ApiKey `GET /rNNN/items/:id`, D1 read.
    ApiKeyRead,
    /// ApiKey `POST /rNNN/items`, JSON body into D1.
    ApiKeyWrite,
    /// AccessJwt `GET /rNNN/prefs`, KV read.
    AccessKv,
}

pub(crate) fn kind(i: usize) -> Kind {
    match i % 4 {
        0 => Kind::PublicHello,
        1 => Kind::ApiKeyRead,
        2 => Kind::ApiKeyWrite,
        _ => Kind::AccessKv,
    }
}

fn method_and_path(i: usize) -> (&'static str, String) {
    match kind(i) {
        Kind::PublicHello => ("GET", format!("/r{i:03}/hello/:name")),
        Kind::ApiKeyRead => ("GET", format!("/r{i:03}/items/:id")),
        Kind::ApiKeyWrite => ("POST", format!("/r{i:03}/items")),
        Kind::AccessKv => ("GET", format!("/r{i:03}/prefs")),
    }
}

fn module_of(i: usize, routes: usize) -> usize {
    module_ranges(routes).iter().position(|r| r.contains(&i)).unwrap_or(0)
}

/// The bench workspace manifest: our `[workspace.dependencies]` (paths made absolute) and
/// `[profile.*]`, members `layers200` and `hand200`.
fn workspace_manifest(root: &Path, root_doc: &toml::Table) -> Result<String> {
    let mut s = String::from(
        "# Generated by `cargo xtask bench` (xtask/src/bench_compile.rs) on every run; edits are lost.\n\
         # A workspace of its own: not part of the layers workspace above it.\n\
         [workspace]\nresolver = \"2\"\n",
    );
    s.push_str(&format!("members = [\"{LAYERS_CRATE}\", \"{HAND_CRATE}\"]\n\n[workspace.dependencies]\n"));
    let deps = root_doc
        .get("workspace")
        .and_then(|w| w.get("dependencies"))
        .and_then(toml::Value::as_table)
        .ok_or("the root Cargo.toml has no [workspace.dependencies]")?;
    for (name, spec) in deps {
        let spec = match spec {
            toml::Value::Table(t) => {
                let mut t = t.clone();
                if let Some(p) = t.get("path").and_then(toml::Value::as_str) {
                    let abs = root.join(p);
                    t.insert("path".into(), toml::Value::String(abs.to_string_lossy().into_owned()));
                }
                toml::Value::Table(t)
            }
            other => other.clone(),
        };
        s.push_str(&format!("{} = {}\n", toml_key(name), toml_inline(&spec)));
    }
    if let Some(profile) = root_doc.get("profile").and_then(toml::Value::as_table) {
        toml_sections(&mut s, "profile", profile);
    }
    Ok(s)
}

/// `[prefix]` with the table's plain values, then its sub-tables as `[prefix.key]`.
fn toml_sections(s: &mut String, prefix: &str, table: &toml::Table) {
    let plain: Vec<_> = table.iter().filter(|(_, v)| !v.is_table()).collect();
    if !plain.is_empty() {
        s.push_str(&format!("\n[{prefix}]\n"));
        for (k, v) in plain {
            s.push_str(&format!("{} = {}\n", toml_key(k), toml_inline(v)));
        }
    }
    for (k, v) in table {
        if let toml::Value::Table(sub) = v {
            toml_sections(s, &format!("{prefix}.{}", toml_key(k)), sub);
        }
    }
}

fn toml_key(k: &str) -> String {
    if !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        k.to_owned()
    } else {
        toml_string(k)
    }
}

fn toml_string(v: &str) -> String {
    let mut out = String::from("\"");
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn toml_inline(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => toml_string(s),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => f.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        toml::Value::Datetime(d) => d.to_string(),
        toml::Value::Array(a) => format!("[{}]", a.iter().map(toml_inline).collect::<Vec<_>>().join(", ")),
        toml::Value::Table(t) => format!(
            "{{ {} }}",
            t.iter().map(|(k, v)| format!("{} = {}", toml_key(k), toml_inline(v))).collect::<Vec<_>>().join(", ")
        ),
    }
}

const LAYERS_DEPS: &[&str] = &["layers-core", "worker", "wasm-bindgen", "serde", "serde_json"];
const HAND_DEPS: &[&str] = &["worker", "wasm-bindgen", "serde", "serde_json", "subtle", "jwt-compact", "base64"];

fn crate_manifest(name: &str, edition: &str, deps: &[&str]) -> String {
    let mut s = format!(
        "# Generated by `cargo xtask bench` (xtask/src/bench_compile.rs) on every run; edits are lost.\n\
         [package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"{edition}\"\npublish = false\n\n\
         [lib]\ncrate-type = [\"cdylib\"]\n\n[dependencies]\n"
    );
    for d in deps {
        s.push_str(&format!("{d}.workspace = true\n"));
    }
    // As in app/Cargo.toml (jwt-compact's `rsa` pulls getrandom 0.2).
    s.push_str("\n[target.'cfg(target_arch = \"wasm32\")'.dependencies]\ngetrandom = { version = \"0.2\", features = [\"js\"] }\n");
    s
}

/// The bindings the routes use (`app!` checks D1 `DB` and KV `KV` against it at compile time).
const WRANGLER_TOML: &str = r#"# Generated by `cargo xtask bench` (xtask/src/bench_compile.rs); placeholder ids.
name = "bench-compile"
main = "build/index.js"
compatibility_date = "2026-04-01"

[vars]
ACCESS_TEAM_DOMAIN = "example.cloudflareaccess.com"
ACCESS_AUD = "replace-with-the-access-application-aud-tag"

[[d1_databases]]
binding = "DB"
database_name = "bench"
database_id = "00000000-0000-0000-0000-000000000000"

[[kv_namespaces]]
binding = "KV"
id = "00000000000000000000000000000000"
"#;

const HEADER: &str = "// Generated by `cargo xtask bench` (xtask/src/bench_compile.rs) on every run; edits are lost.\n";

fn layers_lib(routes: usize) -> String {
    let mut s = format!(
        "{HEADER}//! {routes} routes written with layers (compile-time benchmark).\n\n\
         use layers_core::prelude::*;\nuse serde::{{Deserialize, Serialize}};\n\n"
    );
    for m in 0..module_ranges(routes).len() {
        s.push_str(&format!("pub mod m{m:02};\n"));
    }
    s.push_str(SHARED_TYPES);
    s.push_str("\napp! {\n    routes: [\n");
    for i in 0..routes {
        s.push_str(&format!("        m{:02}::route_{i:03},\n", module_of(i, routes)));
    }
    s.push_str("    ],\n}\n");
    s
}

const SHARED_TYPES: &str = "
/// A stored item.
#[derive(Debug, Serialize, Deserialize)]
pub struct Item {
    /// Row id.
    pub id: i64,
    /// Its name.
    pub name: String,
}

/// The body of `POST /rNNN/items`.
#[derive(Debug, Deserialize)]
pub struct NewItem {
    /// The new item's name.
    pub name: String,
}
";

fn layers_module(range: std::ops::Range<usize>) -> String {
    let mut s = format!("{HEADER}//! Routes {}..{}.\n\nuse layers_core::prelude::*;\n", range.start, range.end);
    for i in range {
        let (method, path) = method_and_path(i);
        let body = match kind(i) {
            Kind::PublicHello => format!(
                "
/// Route {i}: a greeting.
#[route({method} \"{path}\", identity = Public)]
pub async fn route_{i:03}(Path(name): Path<String>, _who: Claims<'_, Public>) -> Result<Response> {{
    Ok(Response::from_json(&serde_json::json!({{ \"route\": {i}, \"rev\": 0u32, \"hello\": name }}))?)
}}
"
            ),
            Kind::ApiKeyRead => format!(
                "
/// Route {i}: one item from D1.
#[route({method} \"{path}\", identity = ApiKey, storage(D1))]
pub async fn route_{i:03}(Path(id): Path<i64>, key: Claims<'_, ApiKey>, db: D1<'_>) -> Result<Response> {{
    let item: Option<crate::Item> =
        db.prepare(\"SELECT id, name FROM items WHERE id = ?1 AND route = ?2\").bind(&[&id, &{i}i64]).first().await?;
    let Some(item) = item else {{
        return Err(Error::not_found());
    }};
    Ok(Response::from_json(&serde_json::json!({{ \"route\": {i}, \"rev\": 0u32, \"key\": key.label, \"item\": item }}))?)
}}
"
            ),
            Kind::ApiKeyWrite => format!(
                "
/// Route {i}: a JSON body into D1.
#[route({method} \"{path}\", identity = ApiKey, storage(D1))]
pub async fn route_{i:03}(Json(body): Json<crate::NewItem>, key: Claims<'_, ApiKey>, db: D1<'_>) -> Result<Response> {{
    let info = db
        .prepare(\"INSERT INTO items (route, name, created_by) VALUES (?1, ?2, ?3)\")
        .bind(&[&{i}i64, &body.name, &key.label])
        .run()
        .await?;
    let resp = Response::from_json(&serde_json::json!({{ \"route\": {i}, \"rev\": 0u32, \"changes\": info.changes }}))?;
    Ok(resp.with_status(201))
}}
"
            ),
            Kind::AccessKv => format!(
                "
/// Route {i}: the signed-in user's preferences from KV.
#[route({method} \"{path}\", identity = AccessJwt, storage(KV))]
pub async fn route_{i:03}(who: Claims<'_, AccessJwt>, kv: Kv<'_>) -> Result<Response> {{
    let email = who.email().unwrap_or_default().to_owned();
    let prefs = kv.get(&format!(\"prefs:{{email}}\")).await?;
    Ok(Response::from_json(&serde_json::json!({{ \"route\": {i}, \"rev\": 0u32, \"email\": email, \"prefs\": prefs }}))?)
}}
"
            ),
        };
        s.push_str(&body);
    }
    s
}

fn hand_lib(routes: usize) -> String {
    let mut s = format!(
        "{HEADER}//! {routes} routes hand-written on workers-rs (compile-time benchmark).\n\n\
         use serde::{{Deserialize, Serialize}};\nuse worker::*;\n\nmod auth;\n"
    );
    for m in 0..module_ranges(routes).len() {
        s.push_str(&format!("pub mod m{m:02};\n"));
    }
    s.push_str(SHARED_TYPES);
    s.push_str(
        "\n#[event(fetch)]\nasync fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {\n    Router::new()\n",
    );
    for i in 0..routes {
        let (method, path) = method_and_path(i);
        let f = if method == "GET" { "get_async" } else { "post_async" };
        s.push_str(&format!("        .{f}(\"{path}\", m{:02}::route_{i:03})\n", module_of(i, routes)));
    }
    s.push_str("        .run(req, env)\n        .await\n}\n");
    s
}

fn hand_module(range: std::ops::Range<usize>) -> String {
    let mut s = format!(
        "{HEADER}//! Routes {}..{}.\n\n{}use worker::*;\n",
        range.start,
        range.end,
        if range.clone().any(|i| matches!(kind(i), Kind::ApiKeyRead | Kind::ApiKeyWrite)) {
            "use worker::wasm_bindgen::JsValue;\n"
        } else {
            ""
        }
    );
    for i in range {
        let body = match kind(i) {
            Kind::PublicHello => format!(
                "
/// Route {i}: a greeting.
pub async fn route_{i:03}(_req: Request, ctx: RouteContext<()>) -> Result<Response> {{
    let name = ctx.param(\"name\").cloned().unwrap_or_default();
    Response::from_json(&serde_json::json!({{ \"route\": {i}, \"rev\": 0u32, \"hello\": name }}))
}}
"
            ),
            Kind::ApiKeyRead => format!(
                "
/// Route {i}: one item from D1.
pub async fn route_{i:03}(req: Request, ctx: RouteContext<()>) -> Result<Response> {{
    let label = match crate::auth::api_key(&req, &ctx.env) {{
        Ok(label) => label,
        Err(deny) => return deny.response(),
    }};
    let Some(id) = ctx.param(\"id\").and_then(|s| s.parse::<i64>().ok()) else {{
        return Response::error(\"`id` must be an integer\", 400);
    }};
    let db = ctx.env.d1(\"DB\")?;
    let item: Option<crate::Item> = db
        .prepare(\"SELECT id, name FROM items WHERE id = ?1 AND route = ?2\")
        .bind(&[JsValue::from_f64(id as f64), JsValue::from({i})])?
        .first(None)
        .await?;
    let Some(item) = item else {{
        return Response::error(\"not found\", 404);
    }};
    Response::from_json(&serde_json::json!({{ \"route\": {i}, \"rev\": 0u32, \"key\": label, \"item\": item }}))
}}
"
            ),
            Kind::ApiKeyWrite => format!(
                "
/// Route {i}: a JSON body into D1.
pub async fn route_{i:03}(mut req: Request, ctx: RouteContext<()>) -> Result<Response> {{
    let label = match crate::auth::api_key(&req, &ctx.env) {{
        Ok(label) => label,
        Err(deny) => return deny.response(),
    }};
    let json = req.headers().get(\"content-type\")?.is_some_and(|c| c.starts_with(\"application/json\"));
    if !json {{
        return Response::error(\"expected application/json\", 415);
    }}
    let body: crate::NewItem = match req.json().await {{
        Ok(body) => body,
        Err(_) => return Response::error(\"invalid JSON body\", 400),
    }};
    let db = ctx.env.d1(\"DB\")?;
    let result = db
        .prepare(\"INSERT INTO items (route, name, created_by) VALUES (?1, ?2, ?3)\")
        .bind(&[JsValue::from({i}), JsValue::from(body.name.as_str()), JsValue::from(label.as_str())])?
        .run()
        .await?;
    let changes = result.meta()?.and_then(|m| m.changes).unwrap_or(0);
    Ok(Response::from_json(&serde_json::json!({{ \"route\": {i}, \"rev\": 0u32, \"changes\": changes }}))?.with_status(201))
}}
"
            ),
            Kind::AccessKv => format!(
                "
/// Route {i}: the signed-in user's preferences from KV.
pub async fn route_{i:03}(req: Request, ctx: RouteContext<()>) -> Result<Response> {{
    let email = match crate::auth::access_jwt(&req, &ctx.env).await? {{
        Ok(email) => email,
        Err(deny) => return deny.response(),
    }};
    let kv = ctx.env.kv(\"KV\")?;
    let prefs = kv.get(&format!(\"prefs:{{email}}\")).text().await?;
    Response::from_json(&serde_json::json!({{ \"route\": {i}, \"rev\": 0u32, \"email\": email, \"prefs\": prefs }}))
}}
"
            ),
        };
        s.push_str(&body);
    }
    s
}

/// The hand-written identity checks: one helper per identity kind, as a Worker without a
/// framework would have them (`subtle`, `jwt-compact`, a JWKS cache), not layers-core's.
const HAND_AUTH: &str = r#"// Generated by `cargo xtask bench` (xtask/src/bench_compile.rs) on every run; edits are lost.
//! Hand-written identity checks.

use std::cell::RefCell;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jwt_compact::alg::{Rsa, RsaPublicKey};
use jwt_compact::jwk::JsonWebKey;
use jwt_compact::{AlgorithmExt as _, Empty, UntrustedToken};
use subtle::ConstantTimeEq as _;
use worker::{Date, Env, Fetch, Request, Response, Result, Url};

/// Why a request was refused.
pub struct Deny(u16, &'static str);

impl Deny {
    /// The error response.
    pub fn response(self) -> Result<Response> {
        Response::error(self.1, self.0)
    }
}

/// `x-api-key` against the `API_KEYS` secret (`label:key,…`), constant time per key; the label.
pub fn api_key(req: &Request, env: &Env) -> std::result::Result<String, Deny> {
    let secret = env.secret("API_KEYS").map_err(|_| Deny(503, "API_KEYS is not set"))?.to_string();
    let presented = req.headers().get("x-api-key").ok().flatten().unwrap_or_default();
    let presented = presented.trim();
    if presented.is_empty() {
        return Err(Deny(401, "no API key"));
    }
    if presented.len() > 512 {
        return Err(Deny(403, "API key too long"));
    }
    let mut matched = None;
    for (i, entry) in secret.split([',', ' ', '\n']).filter(|e| !e.is_empty()).enumerate() {
        let (label, key) = match entry.split_once(':') {
            Some((l, k)) if !l.is_empty() => (l.to_owned(), k),
            _ => (format!("key{i}"), entry),
        };
        if key.len() < 16 {
            return Err(Deny(503, "API_KEYS holds a short key"));
        }
        let eq: bool = presented.as_bytes().ct_eq(key.as_bytes()).into();
        if eq && matched.is_none() {
            matched = Some(label);
        }
    }
    matched.ok_or(Deny(403, "wrong API key"))
}

thread_local! {
    /// Access signing keys by kid, and when they were fetched (ms).
    static KEYS: RefCell<(f64, Vec<(String, RsaPublicKey)>)> = const { RefCell::new((0.0, Vec::new())) };
}

const KEYS_TTL_MS: f64 = 600_000.0;
const LEEWAY_SECS: i64 = 60;

#[derive(serde::Deserialize)]
struct AccessPayload {
    iss: String,
    aud: serde_json::Value,
    exp: i64,
    #[serde(default)]
    nbf: Option<i64>,
    #[serde(default)]
    email: Option<String>,
}

async fn fetch_keys(team: &str) -> Result<Vec<(String, RsaPublicKey)>> {
    let url = Url::parse(&format!("https://{team}/cdn-cgi/access/certs"))?;
    let mut resp = Fetch::Url(url).send().await?;
    if resp.status_code() != 200 {
        return Err(worker::Error::RustError(format!("certs answered {}", resp.status_code())));
    }
    let jwks: serde_json::Value = resp.json().await?;
    let mut keys = Vec::new();
    for key in jwks.get("keys").and_then(|k| k.as_array()).into_iter().flatten() {
        let Some(kid) = key.get("kid").and_then(|k| k.as_str()) else { continue };
        let Ok(jwk) = serde_json::from_value::<JsonWebKey<'static>>(key.clone()) else { continue };
        if let Ok(pk) = RsaPublicKey::try_from(&jwk) {
            keys.push((kid.to_owned(), pk));
        }
    }
    Ok(keys)
}

fn cached_key(kid: &str, now_ms: f64) -> Option<RsaPublicKey> {
    KEYS.with(|k| {
        let k = k.borrow();
        if now_ms - k.0 > KEYS_TTL_MS {
            return None;
        }
        k.1.iter().find(|(id, _)| id == kid).map(|(_, pk)| pk.clone())
    })
}

/// The `Cf-Access-Jwt-Assertion` token: RS256 against the team's keys, `iss`, `aud`, `exp`,
/// `nbf`; the email it names.
pub async fn access_jwt(req: &Request, env: &Env) -> Result<std::result::Result<String, Deny>> {
    let (Ok(team), Ok(aud)) = (env.var("ACCESS_TEAM_DOMAIN"), env.var("ACCESS_AUD")) else {
        return Ok(Err(Deny(503, "Access is not configured")));
    };
    let (team, aud) = (team.to_string(), aud.to_string());
    let Some(token) = req.headers().get("cf-access-jwt-assertion")? else {
        return Ok(Err(Deny(401, "no Access token")));
    };
    if token.len() > 8192 {
        return Ok(Err(Deny(403, "token too long")));
    }
    let Ok(untrusted) = UntrustedToken::new(&token) else {
        return Ok(Err(Deny(403, "malformed token")));
    };
    let Some(kid) = untrusted.header().key_id.clone() else {
        return Ok(Err(Deny(403, "token has no kid")));
    };
    let now_ms = Date::now().as_millis() as f64;
    let key = match cached_key(&kid, now_ms) {
        Some(key) => key,
        None => {
            let keys = fetch_keys(&team).await?;
            let key = keys.iter().find(|(id, _)| *id == kid).map(|(_, pk)| pk.clone());
            KEYS.with(|k| *k.borrow_mut() = (now_ms, keys));
            match key {
                Some(key) => key,
                None => return Ok(Err(Deny(403, "unknown signing key"))),
            }
        }
    };
    if Rsa::rs256().validator::<Empty>(&key).validate(&untrusted).is_err() {
        return Ok(Err(Deny(403, "bad signature")));
    }
    let payload = token.split('.').nth(1).unwrap_or_default();
    let Ok(bytes) = URL_SAFE_NO_PAD.decode(payload) else {
        return Ok(Err(Deny(403, "payload is not base64url")));
    };
    let Ok(claims) = serde_json::from_slice::<AccessPayload>(&bytes) else {
        return Ok(Err(Deny(403, "payload claims missing")));
    };
    let now = (now_ms / 1000.0) as i64;
    if claims.iss != format!("https://{team}") {
        return Ok(Err(Deny(403, "wrong issuer")));
    }
    let aud_ok = match &claims.aud {
        serde_json::Value::String(a) => *a == aud,
        serde_json::Value::Array(all) => all.iter().any(|a| a.as_str() == Some(aud.as_str())),
        _ => false,
    };
    if !aud_ok {
        return Ok(Err(Deny(403, "wrong audience")));
    }
    if claims.exp + LEEWAY_SECS < now || claims.nbf.is_some_and(|nbf| nbf - LEEWAY_SECS > now) {
        return Ok(Err(Deny(403, "token expired or not yet valid")));
    }
    match claims.email {
        Some(email) => Ok(Ok(email)),
        None => Ok(Err(Deny(403, "token names no email"))),
    }
}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_mix_and_modules() {
        let ranges = module_ranges(200);
        assert_eq!(ranges.len(), MODULES);
        assert_eq!(ranges.iter().map(|r| r.len()).sum::<usize>(), 200);
        assert!(ranges.windows(2).all(|w| w[0].end == w[1].start));
        assert_eq!(module_ranges(3).len(), 3);
        let counts = [Kind::PublicHello, Kind::ApiKeyRead, Kind::ApiKeyWrite, Kind::AccessKv]
            .map(|k| (0..200).filter(|&i| kind(i) == k).count());
        assert_eq!(counts, [50; 4]);
        // Unique paths, so `app!` (which refuses overlapping routes) and the Router accept them.
        let paths: BTreeSet<_> = (0..200).map(method_and_path).collect();
        assert_eq!(paths.len(), 200);
    }

    #[test]
    fn rev_literal_is_bumped_once() {
        let text = "a \"rev\": 7u32, b \"rev\": 0u32";
        assert_eq!(bump_rev(text).as_deref(), Some("a \"rev\": 8u32, b \"rev\": 0u32"));
        assert_eq!(bump_rev("\"rev\": x"), None);
        assert!(layers_module(0..4).contains("\"rev\": 0u32"));
        assert!(hand_module(0..4).contains("\"rev\": 0u32"));
    }

    #[test]
    fn compiled_package_lines() {
        let err = "   Compiling layers-core v0.1.0 (/work/main/layers-core)\nwarning: x\n   Compiling layers200 v0.0.0 (/x)\n    Checking hand200 v0.0.0 (/y)\n    Finished `dev` profile\n";
        assert_eq!(compiled_packages(err), ["layers-core", "layers200", "hand200"]);
        let mut runs =
            vec![(2.0, vec!["layers200".to_owned()]), (9.0, vec!["layers-core".to_owned(), "layers200".to_owned()])];
        let mut discarded = 0.0;
        assert_eq!(crate_only("layers200", "cold", &mut discarded, || Ok(runs.pop().unwrap())).unwrap(), 2.0);
        assert_eq!(discarded, 9.0);
        assert!(crate_only("layers200", "cold", &mut discarded, || Ok((1.0, vec!["worker".to_owned()]))).is_err());
        assert_eq!(discarded, 12.0);
    }

    #[test]
    fn lockfile_subset() {
        let src = "source = \"registry+https://github.com/rust-lang/crates.io-index\"\n";
        let ours = format!("version = 4\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\n{src}[[package]]\nname = \"b\"\nversion = \"2.0.0\"\n{src}");
        let pruned = format!("version = 4\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\n{src}[[package]]\nname = \"bench\"\nversion = \"0.0.0\"\n");
        let newer = format!("version = 4\n[[package]]\nname = \"a\"\nversion = \"1.0.1\"\n{src}");
        let (ours, pruned, newer) = (ours.as_str(), pruned.as_str(), newer.as_str());
        assert!(packages_not_in(pruned, ours).unwrap().is_empty());
        assert_eq!(packages_not_in(newer, ours).unwrap().into_iter().collect::<Vec<_>>(), ["a 1.0.1"]);
    }

    #[test]
    fn generated_workspace() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().canonicalize().unwrap();
        let dir = root.join("target").join("tmp").join(format!("bench-compile-test-{}", std::process::id()));
        generate(&root, &dir, 12).unwrap();
        let ws: toml::Table = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap().parse().unwrap();
        let deps = ws["workspace"]["dependencies"].as_table().unwrap();
        let core = deps["layers-core"]["path"].as_str().unwrap();
        assert_eq!(Path::new(core), root.join("layers-core"));
        assert_eq!(deps["worker"]["version"].as_str(), Some("=0.8.7"));
        assert!(ws["profile"]["release"]["lto"].as_bool().unwrap());
        let lib = std::fs::read_to_string(dir.join(LAYERS_CRATE).join("src").join("lib.rs")).unwrap();
        assert_eq!(lib.matches("::route_").count(), 12);
        let hand = std::fs::read_to_string(dir.join(HAND_CRATE).join("src").join("lib.rs")).unwrap();
        assert_eq!(hand.matches("_async(\"/r").count(), 12);
        assert!(!std::fs::read_to_string(dir.join(HAND_CRATE).join("Cargo.toml")).unwrap().contains("layers"));
        // Fewer routes later: the extra module files go.
        generate(&root, &dir, 3).unwrap();
        assert!(!dir.join(LAYERS_CRATE).join("src").join("m05.rs").exists());
        assert!(dir.join(LAYERS_CRATE).join("src").join("m02.rs").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn figures_are_medians_over_rounds() {
        let f = |c: f64, d: f64, i: f64| CrateFigures {
            discarded_s: 1.0,
            cold_release_s: c,
            cold_dev_s: d,
            incremental_dev_s: i,
        };
        let m = CrateFigures::median(&[f(3.0, 9.0, 1.0), f(1.0, 7.0, 5.0), f(2.0, 8.0, 3.0)]);
        assert_eq!(m, f(2.0, 8.0, 3.0).with_discarded(3.0));
        let even = CrateFigures::median(&[f(4.0, 1.0, 1.0), f(2.0, 3.0, 1.0)]);
        assert_eq!((even.cold_release_s, even.cold_dev_s, even.discarded_s), (3.0, 2.0, 2.0));
        assert_eq!(CrateFigures::median(&[f(5.0, 6.0, 7.0)]), f(5.0, 6.0, 7.0));
    }

    impl CrateFigures {
        fn with_discarded(self, discarded_s: f64) -> CrateFigures {
            CrateFigures { discarded_s, ..self }
        }
    }

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
