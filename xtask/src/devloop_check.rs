//! The dev loop, tried as a user meets it: `wrangler dev` in a project generated from the
//! template (a step of `cargo xtask test`, after the project's own tests). A save that changes
//! a response must be rebuilt and served; a save that does not compile must show the
//! compiler's error and leave the previous build answering.

use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::bench::http::get;
use crate::e2e::{free_port, Server};
use crate::util::{fmt_duration, log, Result};
use crate::Ctx;

/// How long a rebuild may take (a release build with LTO of a changed crate, on 2 cores).
const REBUILD_TIMEOUT: Duration = Duration::from_secs(600);

/// The template's home page says this (src/lib.rs), and the check's first save changes it.
const BEFORE: &str = "hello from";
const AFTER: &str = "hello again from";

/// Runs the check in the generated project `dir`, whose Worker builds into `target_dir`.
pub(crate) fn check(ctx: &Ctx, dir: &Path, target_dir: &Path, tools: &crate::ensure::Tools) -> Result<()> {
    let port = free_port().map_err(|e| e.to_string())?;
    let log_path = dir.join("wrangler-dev.log");
    let mut envs: Vec<(&str, OsString)> = crate::devloop::tool_env(ctx, tools).into();
    envs.push(("CARGO_TARGET_DIR", target_dir.as_os_str().to_owned()));
    let env_refs: Vec<(&str, &OsStr)> = envs.iter().map(|(k, v)| (*k, v.as_os_str())).collect();
    let mut server = Server::launch(ctx, dir, &[], port, &log_path, &env_refs)?;
    let outcome = exercise(dir, port, &log_path);
    server.stop();
    if outcome.is_err() {
        log(format!("wrangler dev's output: {}", log_path.display()));
    }
    outcome
}

fn exercise(dir: &Path, port: u16, log_path: &Path) -> Result<()> {
    let (status, body) = get(port, "/", None)?;
    if status != 200 || !body.starts_with(BEFORE) {
        return Err(format!("GET / before any change: {status} {body:?}"));
    }

    // 1. A save that changes the response: rebuilt, reloaded, served.
    let lib = dir.join("src").join("lib.rs");
    let source = std::fs::read_to_string(&lib).map_err(|e| format!("cannot read {}: {e}", lib.display()))?;
    if source.matches(BEFORE).count() != 1 {
        return Err(format!("{} should say `{BEFORE}` once (the check edits it)", lib.display()));
    }
    let saved = Instant::now();
    write(&lib, &source.replacen(BEFORE, AFTER, 1))?;
    wait_for(REBUILD_TIMEOUT, "the changed response", || {
        Ok(matches!(get(port, "/", None), Ok((200, body)) if body.starts_with(AFTER)))
    })?;
    let reloaded = saved.elapsed();
    let text = read_log(log_path)?;
    let rebuilt = text
        .lines()
        .find(|l| l.contains("[layers] rebuilt in"))
        .ok_or("the new response is served, but no `[layers] rebuilt in` line was printed")?;
    log(format!(
        "dev loop: the changed response is served {} after the save ({})",
        fmt_duration(reloaded),
        tail(rebuilt)
    ));

    // 2. A save that does not compile: the error shows, the previous build keeps answering.
    let broken =
        format!("{}\nfn does_not_compile() -> u32 {{ \"not a number\" }}\n", source.replacen(BEFORE, AFTER, 1));
    let saved = Instant::now();
    write(&lib, &broken)?;
    wait_for(REBUILD_TIMEOUT, "`[layers] build FAILED`", || Ok(read_log(log_path)?.contains("[layers] build FAILED")))?;
    let reported = saved.elapsed();
    let text = read_log(log_path)?;
    if !text.contains("error[E0308]") {
        return Err(
            "the build failed, but the compiler's error (E0308, mismatched types) is not in wrangler's output".into()
        );
    }
    // wrangler reloads the unchanged build/ after the failed build; give it a moment, then ask.
    std::thread::sleep(Duration::from_secs(2));
    let answered = Instant::now();
    let (status, body) = get(port, "/", None)?;
    if status != 200 || !body.starts_with(AFTER) {
        return Err(format!("after a failed build, GET / answered {status} {body:?}: the previous build should serve"));
    }
    log(format!(
        "dev loop: a compile error is reported {} after the save; the previous build still answers 200 (in {})",
        fmt_duration(reported),
        fmt_duration(answered.elapsed())
    ));
    Ok(())
}

/// The part of a `[layers] …` line from `[layers]` on (wrangler prefixes build output).
fn tail(line: &str) -> &str {
    line.find("[layers]").map_or(line, |i| &line[i..])
}

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn read_log(path: &Path) -> Result<String> {
    std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Polls `done` every 500 ms until it says yes, or fails after `limit`.
fn wait_for(limit: Duration, what: &str, mut done: impl FnMut() -> Result<bool>) -> Result<()> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if done()? {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    Err(format!("no {what} within {}", fmt_duration(limit)))
}
