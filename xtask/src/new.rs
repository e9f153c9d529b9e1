//! `cargo xtask new PATH [--name NAME]`: a Worker project of one's own, from `templates/worker/`,
//! outside this repository — and, in `cargo xtask test`, the same project generated into a
//! temporary directory, built to wasm and tested in workerd.
//!
//! The project depends on this checkout's `layers-core` and `layers-test` by path (the crates
//! are not on crates.io yet), starts from this checkout's `Cargo.lock` and npm lockfile (so it
//! builds with the versions CI tests), and has its npm tools installed.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{log, run, Result};
use crate::Ctx;

/// What `new` was asked for.
pub(crate) struct NewOptions {
    pub(crate) path: PathBuf,
    pub(crate) name: String,
}

/// `new PATH [--name NAME]`: NAME defaults to PATH's last component.
pub(crate) fn parse_options(rest: &[String]) -> Result<NewOptions> {
    let usage = "usage: cargo xtask new PATH [--name NAME]";
    let mut path = None;
    let mut name = None;
    let mut args = rest.iter();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--name" => name = Some(args.next().ok_or(format!("`--name` needs a value; {usage}"))?.clone()),
            s if s.starts_with('-') => return Err(format!("unknown option `{s}`; {usage}")),
            s if path.is_none() => path = Some(PathBuf::from(s)),
            s => return Err(format!("unexpected argument `{s}`; {usage}")),
        }
    }
    let path = path.ok_or(format!("which directory? {usage}"))?;
    let name = match name {
        Some(n) => n,
        None => path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or(format!("cannot take a project name from {}: pass `--name NAME`", path.display()))?
            .to_owned(),
    };
    if let Some(problem) = name_problem(&name) {
        return Err(format!("`{name}` cannot name the project: {problem} (pass `--name NAME`)"));
    }
    Ok(NewOptions { path, name })
}

/// Why `name` cannot be the package's (and the Worker's) name: wrangler wants lowercase letters,
/// digits and `-`, at most 63, not starting or ending with `-`; cargo then accepts it too.
fn name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() || name.len() > 63 {
        return Some("a Worker's name is 1 to 63 characters");
    }
    if !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
        return Some("a Worker's name has only lowercase letters, digits and `-`");
    }
    if name.starts_with('-') || name.ends_with('-') || name.starts_with(|c: char| c.is_ascii_digit()) {
        return Some("a Worker's name starts with a letter and does not end with `-`");
    }
    None
}

/// `cargo xtask new`: creates the project and installs its npm tools.
pub(crate) fn new(ctx: &mut Ctx, o: &NewOptions) -> Result<()> {
    ctx.step(&format!("new: {} from templates/worker", o.path.display()), |ctx| create(ctx, &o.path, &o.name))?;
    ctx.step("new: npm packages (wrangler, binaryen)", |ctx| npm_install(ctx, &o.path))?;
    log(format!(
        "created {} — next:\n    cd {}\n    cp .dev.vars.example .dev.vars   # then put a long random key in it\n    npm run dev                      # http://127.0.0.1:8787\n    cargo test                       # the Worker in workerd, with real credentials",
        o.name,
        o.path.display()
    ));
    Ok(())
}

/// Writes the project: the template with its placeholders filled, this checkout's lockfiles and
/// toolchain file.
fn create(ctx: &Ctx, dir: &Path, name: &str) -> Result<()> {
    if dir.exists()
        && std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?.next().is_some()
    {
        return Err(format!("{} exists and is not empty: pick a new directory", dir.display()));
    }
    let dir_abs = std::path::absolute(dir).map_err(|e| format!("cannot resolve {}: {e}", dir.display()))?;
    if dir_abs.starts_with(&ctx.root) {
        return Err(format!(
            "{} is inside this repository: create the project elsewhere (it is a workspace of its own)",
            dir.display()
        ));
    }
    let dep = |krate: &str| {
        let path = ctx.root.join(krate);
        format!("{{ path = {:?} }}", path.display().to_string())
    };
    let fill = |text: &str| {
        text.replace("{{name}}", name)
            .replace("{{layers_core}}", &dep("layers-core"))
            .replace("{{layers_test}}", &dep("layers-test"))
    };
    let template = ctx.root.join("templates").join("worker");
    crate::util::copy_dir_filled(&template, dir, Some(&fill))?;
    // The versions CI builds with: cargo and npm start from this checkout's lockfiles.
    copy(&ctx.root.join("Cargo.lock"), &dir.join("Cargo.lock"))?;
    copy(&ctx.root.join("rust-toolchain.toml"), &dir.join("rust-toolchain.toml"))?;
    let lock = std::fs::read_to_string(ctx.app.join("package-lock.json"))
        .map_err(|e| format!("cannot read app/package-lock.json: {e}"))?;
    let lock = lock.replacen("\"name\": \"layers-app\"", &format!("\"name\": \"{name}\""), 2);
    std::fs::write(dir.join("package-lock.json"), lock).map_err(|e| format!("cannot write package-lock.json: {e}"))?;
    Ok(())
}

fn copy(from: &Path, to: &Path) -> Result<()> {
    std::fs::copy(from, to).map(drop).map_err(|e| format!("cannot copy {} to {}: {e}", from.display(), to.display()))
}

/// `npm ci` in the project (from the npm cache when it has the packages).
fn npm_install(ctx: &Ctx, dir: &Path) -> Result<()> {
    let mut cmd = Command::new("npm");
    cmd.args(["ci", "--no-audit", "--no-fund", "--prefer-offline"]).current_dir(dir);
    if ctx.ci {
        cmd.arg("--no-progress");
    }
    run(&mut cmd)
        .map_err(|e| format!("{e}\n        (Node.js 20+ with npm is required: wrangler 4.86 runs on node ≥ 20)"))
}

/// The step of `cargo xtask test`: a project generated outside the repository, its tests run
/// (the Worker built to wasm by worker-build and tested in workerd through layers-test). It
/// builds in the repository's `target/template` so later runs reuse the build.
pub(crate) fn test_template(ctx: &mut Ctx, tools: &crate::ensure::Tools) -> Result<()> {
    let dir = std::env::temp_dir().join(format!("layers-template-{}", std::process::id()));
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| format!("cannot clear {}: {e}", dir.display()))?;
    }
    let options = NewOptions { path: dir.clone(), name: "layers-template-check".to_owned() };
    let target_dir = ctx.root.join("target").join("template");
    let outcome = new(ctx, &options)
        .and_then(|()| {
            ctx.step("template: cargo test (the new project's Worker in workerd)", |ctx| {
                let mut cmd = Command::new(&ctx.cargo);
                cmd.args(["test"])
                    .current_dir(&dir)
                    .env("CARGO_TARGET_DIR", &target_dir)
                    .env("LAYERS_TEST_REQUIRE", "1");
                run(&mut cmd)
            })
        })
        .and_then(|()| {
            ctx.step(
                "template: the dev loop (wrangler dev; a save rebuilds; a compile error keeps the old build)",
                |ctx| crate::devloop_check::check(ctx, &dir, &target_dir, tools),
            )
        });
    if outcome.is_ok() {
        let _ = std::fs::remove_dir_all(&dir);
    } else {
        log(format!("the generated project is kept for a look: {}", dir.display()));
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::{name_problem, parse_options};

    #[test]
    fn names_are_what_wrangler_accepts() {
        assert_eq!(name_problem("my-worker"), None);
        assert_eq!(name_problem("w2"), None);
        for bad in ["", "My-Worker", "my_worker", "-w", "w-", "2w", &"w".repeat(64)] {
            assert!(name_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn the_name_defaults_to_the_directory() {
        let o = parse_options(&["/tmp/x/my-worker".to_owned()]).unwrap();
        assert_eq!(o.name, "my-worker");
        let o = parse_options(&["/tmp/x/Dir".to_owned(), "--name".to_owned(), "notes".to_owned()]).unwrap();
        assert_eq!(o.name, "notes");
        assert!(parse_options(&["/tmp/x/Dir".to_owned()]).is_err(), "an invalid default name is refused");
        assert!(parse_options(&[]).is_err());
    }
}
