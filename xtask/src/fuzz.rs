//! `cargo xtask fuzz`: runs the cargo-fuzz targets in `fuzz/` (nightly, libFuzzer + ASan) for a
//! fixed time each, and reports executions, coverage and crashes per target.
//!
//! Each target reads its hand-written seeds from `fuzz/corpus/<target>/` (kept in the repository,
//! never written to) and grows a working corpus in `fuzz/work/<target>/` (git-ignored, reused by
//! the next run). Crashes land in `fuzz/artifacts/<target>/` (git-ignored).

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::util::{log, number_in, option_values, output, run, Result};
use crate::Ctx;

/// The toolchain cargo-fuzz needs (`-Zsanitizer`).
const TOOLCHAIN: &str = "+nightly";

/// `--seconds N` and `--target T` (repeatable) of `cargo xtask fuzz`.
pub(crate) struct Options {
    seconds: u64,
    /// The targets named, in order; empty for every target.
    targets: Vec<String>,
}

/// Parses the options of `cargo xtask fuzz`.
pub(crate) fn parse_options(rest: &[String]) -> Result<Options> {
    let mut opts = Options { seconds: 60, targets: Vec::new() };
    for (name, v) in option_values(rest, &["--seconds", "-s", "--target", "-t"], "fuzz")? {
        if matches!(name.as_str(), "--seconds" | "-s") {
            opts.seconds = number_in("--seconds", &v, 1..=u64::MAX, "a positive number")?;
        } else if !opts.targets.contains(&v) {
            opts.targets.push(v);
        }
    }
    Ok(opts)
}

/// What one target's run produced.
struct Outcome {
    target: String,
    /// libFuzzer's final `#N DONE cov: … ft: … corp: … exec/s: …` line (or the last status line).
    last_status: Option<String>,
    /// `Done N runs in S second(s)`.
    done: Option<String>,
    /// Where the crashing input was written, when the target crashed.
    crash: Option<String>,
    ok: bool,
}

/// The `cargo +nightly` command (the rustup proxy, not `$CARGO`, which is the pinned stable).
fn nightly_cargo(ctx: &Ctx) -> Command {
    let mut cmd = Command::new("cargo");
    cmd.arg(TOOLCHAIN).current_dir(&ctx.root);
    for var in ["RUSTUP_TOOLCHAIN", "CARGO", "RUSTC", "RUSTDOC", "RUSTC_WRAPPER"] {
        cmd.env_remove(var);
    }
    cmd
}

/// Installs the nightly toolchain and cargo-fuzz when missing (idempotent, fast when done).
fn ensure_cargo_fuzz(ctx: &mut Ctx) -> Result<()> {
    ctx.step("ensure nightly toolchain + cargo-fuzz", |ctx| {
        let toolchains = output(Command::new("rustup").args(["toolchain", "list"])).unwrap_or_default();
        if toolchains.lines().any(|l| l.starts_with("nightly")) {
            log("nightly toolchain: present");
        } else {
            log("nightly toolchain: missing, installing (minimal profile)");
            run(Command::new("rustup").args(["toolchain", "install", "nightly", "--profile", "minimal"]))?;
        }
        match output(nightly_cargo(ctx).args(["fuzz", "--version"])) {
            Some(v) => log(format!("cargo-fuzz: {}", v.trim())),
            None => {
                log("cargo-fuzz: missing, installing from crates.io (takes a minute or two)");
                run(nightly_cargo(ctx).args(["install", "cargo-fuzz", "--locked"]))?;
            }
        }
        Ok(())
    })
}

/// The targets: one `fuzz/fuzz_targets/<name>.rs` each, sorted.
fn targets(fuzz_dir: &Path) -> Result<Vec<String>> {
    let dir = fuzz_dir.join("fuzz_targets");
    let entries = std::fs::read_dir(&dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.strip_suffix(".rs")).map(str::to_owned))
        .collect();
    names.sort();
    Ok(names)
}

/// Runs the fuzz targets for `opts.seconds` each and prints their figures.
pub(crate) fn fuzz(ctx: &mut Ctx, opts: &Options) -> Result<()> {
    let fuzz_dir = ctx.root.join("fuzz");
    let all = targets(&fuzz_dir)?;
    if let Some(t) = opts.targets.iter().find(|t| !all.contains(t)) {
        return Err(format!("no fuzz target `{t}`; targets: {}", all.join(", ")));
    }
    let chosen: Vec<String> = if opts.targets.is_empty() { all } else { opts.targets.clone() };
    ensure_cargo_fuzz(ctx)?;
    ctx.step("build fuzz targets (cargo +nightly fuzz build -O)", |ctx| {
        let mut cmd = nightly_cargo(ctx);
        cmd.args(["fuzz", "build", "-O"]);
        // `cargo fuzz build` takes one target or none (all of them).
        if let [t] = opts.targets.as_slice() {
            cmd.arg(t);
        }
        run(&mut cmd)
    })?;
    let mut outcomes = Vec::new();
    for t in &chosen {
        outcomes.push(ctx.step(&format!("fuzz {t} for {} s", opts.seconds), |ctx| run_target(ctx, t, opts.seconds))?);
    }
    log("fuzz results:");
    for o in &outcomes {
        let mark = if o.ok { "✓" } else { "✗" };
        log(format!("  {mark} {}: {}", o.target, o.done.as_deref().unwrap_or("(no final count)")));
        if let Some(s) = &o.last_status {
            log(format!("      {s}"));
        }
        if let Some(c) = &o.crash {
            log(format!("      crash input: {c}"));
            log(format!("      reproduce: cargo +nightly fuzz run -O {} {c}", o.target));
        }
    }
    let crashed: Vec<&str> = outcomes.iter().filter(|o| !o.ok).map(|o| o.target.as_str()).collect();
    if crashed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "fuzz target(s) failed: {} (inputs in fuzz/artifacts/; add each as a regression test)",
            crashed.join(", ")
        ))
    }
}

/// One target: libFuzzer's output goes to `fuzz/work/<target>.log`; its status lines
/// (`INITED`, `pulse`, `DONE`) and any crash report are echoed as they come.
fn run_target(ctx: &Ctx, target: &str, seconds: u64) -> Result<Outcome> {
    let work = ctx.root.join("fuzz").join("work");
    let corpus = work.join(target);
    std::fs::create_dir_all(&corpus).map_err(|e| format!("cannot create {}: {e}", corpus.display()))?;
    let log_path = work.join(format!("{target}.log"));
    let mut log_file =
        std::fs::File::create(&log_path).map_err(|e| format!("cannot create {}: {e}", log_path.display()))?;
    let mut cmd = nightly_cargo(ctx);
    // Working corpus first (libFuzzer writes new inputs there), the committed seeds second.
    cmd.args(["fuzz", "run", "-O", target])
        .arg(format!("fuzz/work/{target}"))
        .arg(format!("fuzz/corpus/{target}"))
        .arg("--")
        .arg(format!("-max_total_time={seconds}"))
        .arg("-print_final_stats=1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    log(format!("$ cargo {TOOLCHAIN} fuzz run -O {target} fuzz/work/{target} fuzz/corpus/{target} -- -max_total_time={seconds} -print_final_stats=1"));
    log(format!("  full output: {}", log_path.display()));
    let mut child = cmd.spawn().map_err(|e| format!("could not start cargo-fuzz: {e}"))?;
    let stderr = child.stderr.take().ok_or("no stderr pipe")?;
    let (mut last_status, mut done, mut crash) = (None, None, None);
    let mut in_report = false;
    for line in BufReader::new(stderr).lines() {
        let line = line.map_err(|e| format!("reading cargo-fuzz output: {e}"))?;
        let _ = writeln!(log_file, "{line}");
        let status_line = line.starts_with('#') && line.contains(" cov: ");
        if status_line {
            last_status = Some(line.clone());
        }
        if line.starts_with("Done ") && line.contains(" runs in ") {
            done = Some(line.clone());
        }
        if let Some(p) = line.split("Test unit written to ").nth(1) {
            crash = Some(p.trim().to_owned());
        }
        if line.contains("==ERROR:") || line.contains("panicked at") || line.starts_with("SUMMARY:") {
            in_report = true;
        }
        let echo = in_report
            || line.contains("Compiling ")
            || line.contains("Finished ")
            || (status_line && (line.contains("INITED") || line.contains("pulse") || line.contains("DONE")))
            || line.starts_with("Done ");
        if echo {
            eprintln!("    {line}");
        }
    }
    let status = child.wait().map_err(|e| format!("waiting for cargo-fuzz: {e}"))?;
    Ok(Outcome { target: target.to_owned(), last_status, done, crash, ok: status.success() })
}
