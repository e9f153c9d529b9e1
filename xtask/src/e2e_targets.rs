//! `cargo xtask e2e`: the end-to-end targets of `layers-tests`, each against a Worker of its
//! own, then the soak (`e2e.rs`, `soak/`).
//!
//! A target is a file of `tests/tests/` with a test marked [`E2E_MARKER`]: discovered, never
//! listed. Each is its own test binary, and `tests/tests/common/run.rs` starts its Worker
//! through `layers-test` (the test build, fresh state and secrets, this crate's stubs): targets
//! share nothing but the AI/Vectorize stand-in this runner starts once for all of them (stateless
//! but for the vectors, which tests key by unique ids), so they run in any order. A target's
//! tests run one at a time, in name order.
//!
//! After each target its Worker's log is checked for leaks (`leaks.rs`): the run leaves, in
//! `target/e2e/`, `<target>.log` (wrangler's output), `<target>.secrets` (every secret the Worker
//! held; deleted once checked) and `<target>.sensitive` (values the tests registered).

use std::path::{Path, PathBuf};

use crate::util::{self, log, run, Result};
use crate::Ctx;

/// What marks a test of `layers-tests` as end-to-end: it is ignored with this reason, so plain
/// `cargo test` skips it and this runner passes `--ignored`.
pub(crate) const E2E_MARKER: &str = "#[ignore = \"needs workerd: run through `cargo xtask test`\"]";

/// The test targets of `layers-tests` that run against a Worker: the files of `tests/tests/`
/// with a test marked [`E2E_MARKER`], by name.
pub(crate) fn discover_targets(tests_dir: &Path) -> Result<Vec<String>> {
    let entries = std::fs::read_dir(tests_dir).map_err(|e| format!("cannot list {}: {e}", tests_dir.display()))?;
    let mut targets = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| format!("cannot list {}: {e}", tests_dir.display()))?.path();
        if path.extension().is_none_or(|x| x != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        if text.contains(E2E_MARKER) {
            if let Some(stem) = path.file_stem().and_then(|s| s.to_str()) {
                targets.push(stem.to_owned());
            }
        }
    }
    targets.sort();
    if targets.is_empty() {
        return Err(format!("no end-to-end test in {} (none marked `{E2E_MARKER}`)", tests_dir.display()));
    }
    Ok(targets)
}

fn tests_dir(ctx: &Ctx) -> PathBuf {
    ctx.root.join("tests").join("tests")
}

/// `--target T` (repeatable) of `cargo xtask e2e`: run only these e2e targets.
pub(crate) fn parse_targets(ctx: &Ctx, rest: &[String]) -> Result<Vec<String>> {
    let known = discover_targets(&tests_dir(ctx))?;
    let mut out = Vec::new();
    for (_, v) in util::option_values(rest, &["--target", "-t"], "e2e")? {
        if !known.contains(&v) {
            return Err(format!("unknown e2e target `{v}` (expected one of: {})", known.join(", ")));
        }
        out.push(v);
    }
    Ok(out)
}

/// The e2e targets (`only`, or all discovered), then the soak. Expects the test build in
/// `app/build/` (made by the caller).
pub(crate) fn e2e(ctx: &mut Ctx, only: &[String]) -> Result<()> {
    let targets = if only.is_empty() { discover_targets(&tests_dir(ctx))? } else { only.to_vec() };
    let tests = run_targets(ctx, &targets);
    // The soak keeps a run of its own (`e2e::run_app`): it needs the inspector and the process
    // group of one long-lived wrangler, and loads a Worker no test has touched.
    let soaked = crate::e2e::run_app(ctx, &crate::soak::IN_TEST);
    tests.and(soaked)
}

fn run_targets(ctx: &mut Ctx, targets: &[String]) -> Result<()> {
    let out = ctx.root.join("target").join("e2e");
    std::fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    for entry in std::fs::read_dir(&out).map_err(|e| format!("cannot list {}: {e}", out.display()))?.flatten() {
        if entry.path().is_file() {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    ctx.step("e2e: build the e2e targets", |ctx| {
        run(ctx.cargo_cmd().args(["test", "-p", "layers-tests", "--tests", "--no-run"]))
    })?;
    let state = out.join("standin");
    let mut standin = ctx.step("e2e: start the AI/Vectorize stand-in (shared by the targets)", |ctx| {
        crate::standin::Standin::start(ctx, &state, &out.join("standin.log"))
    })?;
    let registry = standin.registry().to_owned();
    let mut failed = Vec::new();
    let mut registered = 0;
    for target in targets {
        let title = format!("e2e target `{target}` (its own Worker)");
        let outcome = ctx.step(&title, |ctx| {
            let mut cmd = ctx.cargo_cmd();
            cmd.args(["test", "-p", "layers-tests", "--test", target, "--", "--ignored", "--test-threads=1"])
                .env("LAYERS_E2E_DIR", &out)
                .env("LAYERS_E2E_REGISTRY", &registry)
                .env("LAYERS_E2E_PREBUILT", "1")
                .env("LAYERS_TEST_REQUIRE", "1");
            let tests = run(&mut cmd);
            let leaks = leak_check(&out, target).map(|n| registered += n);
            tests.and(leaks)
        });
        if let Err(e) = outcome {
            log(format!("e2e target `{target}` failed: {e}"));
            let log_path = out.join(format!("{target}.log"));
            log(format!("last 60 lines of {}:", log_path.display()));
            eprintln!("{}", util::tail(&log_path, if ctx.ci { 200 } else { 60 }));
            failed.push(target.as_str());
        }
    }
    standin.stop();
    if failed.is_empty() && registered == 0 && targets.len() > 1 {
        // The targets send tokens and addresses: none registered means the registration broke.
        return Err(format!("leak check: no target registered a sensitive value in {}", out.display()));
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("e2e targets failed: {}", failed.join(", ")))
    }
}

/// The leak check of one target's log (see the module docs); its `.secrets` file is removed.
/// Returns how many values the target registered.
fn leak_check(out: &Path, target: &str) -> Result<usize> {
    let secrets_path = out.join(format!("{target}.secrets"));
    let text = std::fs::read_to_string(&secrets_path)
        .map_err(|e| format!("cannot read {} (did the target start its Worker?): {e}", secrets_path.display()))?;
    let _ = std::fs::remove_file(&secrets_path);
    let secrets: Vec<(String, String)> = text
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect();
    if secrets.is_empty() {
        return Err(format!("{} lists no secret: the leak check would prove nothing", secrets_path.display()));
    }
    crate::leaks::check(&out.join(format!("{target}.log")), &secrets, &out.join(format!("{target}.sensitive")), false)
}

#[cfg(test)]
mod tests {
    use super::{discover_targets, E2E_MARKER};

    #[test]
    fn targets_are_the_marked_files_by_name() {
        let dir = std::env::temp_dir().join(format!("layers-e2e-discovery-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let marked = format!("{E2E_MARKER}\nfn t() {{}}\n");
        for (name, text) in [
            ("zeta.rs", marked.as_str()),
            ("e2e.rs", marked.as_str()),
            ("alpha.rs", marked.as_str()),
            ("native.rs", "#[test]\nfn t() {}\n"),
            ("other_reason.rs", "#[ignore = \"slow\"]\nfn t() {}\n"),
            ("notes.txt", marked.as_str()),
        ] {
            std::fs::write(dir.join(name), text).unwrap();
        }
        assert_eq!(discover_targets(&dir).unwrap(), ["alpha", "e2e", "zeta"]);
        for name in ["zeta.rs", "e2e.rs", "alpha.rs"] {
            std::fs::remove_file(dir.join(name)).unwrap();
        }
        assert!(discover_targets(&dir).unwrap_err().contains("no end-to-end test"));
        std::fs::remove_dir_all(&dir).unwrap();
        // The repository's own: every file that calls the Worker is found.
        let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/tests");
        let found = discover_targets(&repo).unwrap();
        for t in ["admin", "ai", "blog", "e2e", "faults", "paths", "routing", "webmention"] {
            assert!(found.iter().any(|f| f == t), "{t} not discovered: {found:?}");
        }
    }
}
