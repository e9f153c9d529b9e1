//! The bench workspace's `Cargo.lock`: ours, pruned by cargo (offline) to the bench workspace,
//! then checked to pin no package ours does not.

use std::collections::BTreeSet;
use std::path::Path;

use super::bench_cargo;
use super::generate::write_if_changed;
use crate::util::{describe, log, Result};
use crate::Ctx;

/// Copies our `Cargo.lock` in, lets cargo prune it to the bench workspace (offline), and
/// checks that every package in the result is one our lockfile already pins.
pub(super) fn resolve_locked(ctx: &Ctx, dir: &Path) -> Result<()> {
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

/// `name version` of every registry (or git) package in a lockfile.
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
