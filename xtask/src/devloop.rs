//! The dev loop of `cargo xtask dev`: `wrangler dev` rebuilds the Worker when a `.rs` file
//! changes and reloads it; a build that fails shows the compiler's errors, and the previous
//! build keeps serving.
//!
//! The build command is the template's, `templates/worker/scripts/build.mjs` — one dev loop for
//! user projects and for the reference app (its comments say how it works and why: builds only
//! when a source is newer than the last build, one at a time, `--no-opt`, and a failed build
//! that exits 0 because wrangler 4.86 would otherwise hold every request until the next good
//! build). What differs here is only what is watched: the app's sources and those of the path
//! crates it is compiled from (layers-core, layers-macros, layers-spec), and which tools run.
//!
//! The config `dev` runs wrangler with (app/wrangler.local.toml, see [`crate::standin`]) gets a
//! `[build]` table with that command and those `watch_dir`s; wrangler runs it when a watched
//! file changes and reloads the Worker from `build/`.
//!
//! Measured here (`cargo xtask dev`, one changed line in `app/src/request_demo.rs`): the
//! rebuild takes ~9 s and the new response is served ~9.5 s after the save; a compile error is
//! reported after ~2 s while the old build keeps answering 200.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::Result;
use crate::Ctx;

/// The source directories of the app's build, relative to app/ (wrangler resolves `watch_dir`
/// against the config's directory): wrangler watches them.
const WATCHED_DIRS: [&str; 4] = ["src", "../layers-core/src", "../macros/src", "../spec/src"];

/// What else a change of makes a build necessary (the script compares modification times).
const WATCHED_FILES: [&str; 2] = ["Cargo.toml", "../Cargo.lock"];

/// The build script, relative to the workspace root.
const SCRIPT: [&str; 4] = ["templates", "worker", "scripts", "build.mjs"];

fn script(root: &Path) -> PathBuf {
    SCRIPT.iter().fold(root.to_path_buf(), |p, part| p.join(part))
}

/// The script's arguments: the paths whose modification times decide whether to build.
fn script_args() -> impl Iterator<Item = &'static str> {
    WATCHED_DIRS.iter().chain(WATCHED_FILES.iter()).copied()
}

/// The `[build]` table for app/wrangler.local.toml.
pub(crate) fn build_table(ctx: &Ctx) -> String {
    build_table_for(&script(&ctx.root))
}

fn build_table_for(script: &Path) -> String {
    let words: Vec<String> = std::iter::once("node".to_owned())
        .chain(std::iter::once(shell_quote(&script.to_string_lossy())))
        .chain(script_args().map(shell_quote))
        .collect();
    let watch: Vec<toml::Value> = WATCHED_DIRS.iter().map(|d| toml::Value::String((*d).to_owned())).collect();
    format!(
        "\n# `cargo xtask dev`: rebuild on save (see xtask/src/devloop.rs).\n[build]\ncommand = {}\nwatch_dir = {}\n",
        toml::Value::String(words.join(" ")),
        toml::Value::Array(watch),
    )
}

/// The tools the script's worker-build runs with (wrangler passes its environment on), so
/// nothing is downloaded: `ensure`'s worker-build and wasm-bindgen, app/'s wasm-opt and esbuild.
pub(crate) fn tool_env(ctx: &Ctx, tools: &crate::ensure::Tools) -> [(&'static str, OsString); 4] {
    [
        ("WORKER_BUILD_BIN", tools.worker_build.clone().into()),
        ("WASM_BINDGEN_BIN", tools.wasm_bindgen.clone().into()),
        ("WASM_OPT_BIN", ctx.node_bin("wasm-opt").into()),
        ("ESBUILD_BIN", ctx.node_bin("esbuild").into()),
    ]
}

/// The first dev build, before wrangler starts: the script as wrangler runs it (so wrangler's
/// own first run finds nothing to do), except that here a failed build fails `dev`
/// (`LAYERS_BUILD_STRICT`: there is no previous build to keep serving).
pub(crate) fn first_build(ctx: &Ctx, tools: &crate::ensure::Tools) -> Result<()> {
    let mut cmd = Command::new("node");
    cmd.arg(script(&ctx.root))
        .args(script_args())
        .current_dir(&ctx.app)
        .env("WRANGLER_COMMAND", "dev")
        .env("LAYERS_BUILD_STRICT", "1")
        .envs(tool_env(ctx, tools));
    crate::util::run(&mut cmd)
}

/// `s` as one POSIX shell word.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::build_table_for;
    use std::path::Path;

    #[test]
    fn the_build_table_runs_the_script_and_watches_every_source_crate() {
        let table = build_table_for(Path::new("/w/it's here/build.mjs"));
        let doc: toml::Table = format!("name = \"x\"\n{table}").parse().unwrap();
        let build = doc["build"].as_table().unwrap();
        assert_eq!(
            build["command"].as_str(),
            Some(
                r"node '/w/it'\''s here/build.mjs' 'src' '../layers-core/src' '../macros/src' '../spec/src' 'Cargo.toml' '../Cargo.lock'"
            )
        );
        let dirs: Vec<&str> = build["watch_dir"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        assert_eq!(dirs, ["src", "../layers-core/src", "../macros/src", "../spec/src"]);
    }

    #[test]
    fn the_watched_paths_and_the_script_exist() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        for dir in super::WATCHED_DIRS {
            assert!(root.join("app").join(dir).is_dir(), "{dir} (relative to app/) is not a directory");
        }
        for file in super::WATCHED_FILES {
            assert!(root.join("app").join(file).is_file(), "{file} (relative to app/) is not a file");
        }
        assert!(super::script(root).is_file());
    }
}
