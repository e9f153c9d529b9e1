//! The timed builds: for one crate, cold release, cold dev and incremental dev (after one
//! handler's edit), each repeated until cargo compiled that crate alone.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use super::figures::CrateFigures;
use super::{bench_cargo, WASM};
use crate::util::{self, describe, log, Result};
use crate::Ctx;

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

/// The three timed builds of `krate` (see the module docs of [`super`]).
pub(super) fn measure(ctx: &Ctx, dir: &Path, krate: &str) -> Result<CrateFigures> {
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
pub(super) fn timed_build(cmd: &mut Command) -> Result<(f64, Vec<String>)> {
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

/// `text` with its first `"rev": <n>u32` literal made `n + 1`.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench_compile::hand_crate::hand_module;
    use crate::bench_compile::layers_crate::layers_module;

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
}
