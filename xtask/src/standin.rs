//! The local wrangler config for `dev` and `e2e`: Workers AI and Vectorize are remote-only
//! services (wrangler would open a remote proxy session and ask for a login), so the app's
//! `[ai]` and `[[vectorize]]` bindings are replaced, in a generated copy of app/wrangler.toml,
//! by RPC service bindings of the same names to the loopback stand-in in tests/standin/
//! (entrypoints `AiStandin`, and per index [`vectorize_entrypoint`]: each index has its own
//! in-memory map and dimensions there).
//!
//! The stand-in runs as its own `wrangler dev` (a second process, not a second `-c`: with two
//! workers in one process workerd prefixes every log line with `[worker-name]`, and the tests
//! read the app's JSON log lines as they are). The two processes find each other through a
//! dev registry private to this run (`WRANGLER_REGISTRY_PATH`), so parallel runs do not mix.
//!
//! app/wrangler.toml stays the source of truth: `app!` checks routes against it, and it keeps
//! the real declarations for `wrangler deploy`.

use std::ffi::OsString;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use layers_test::support::{self, answers_http, free_port};

use crate::e2e::stop_group;
use crate::util::{log, Result};
use crate::Ctx;

/// The generated config's file name (next to wrangler.toml, so `main`, `migrations_dir`,
/// `.dev.vars` and `.wrangler/state` resolve the same).
pub(crate) const LOCAL_CONFIG: &str = "wrangler.local.toml";
/// The stand-in's worker name (tests/standin/wrangler.toml `name`).
const STANDIN: &str = "layers-standin";
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// The stand-in's `wrangler dev`, in its own process group (tied to this process through the
/// watchdog); stopped on drop.
pub(crate) struct Standin {
    child: Child,
    registry: PathBuf,
    stopped: bool,
}

impl Standin {
    /// Starts the stand-in with its state and registry under `dir`, output to `log_path`, and
    /// waits until it answers and has registered itself.
    pub(crate) fn start(ctx: &Ctx, dir: &Path, log_path: &Path) -> Result<Standin> {
        let registry = dir.join("registry");
        std::fs::create_dir_all(&registry).map_err(|e| format!("cannot create {}: {e}", registry.display()))?;
        let out = File::create(log_path).map_err(|e| format!("cannot create {}: {e}", log_path.display()))?;
        let err = out.try_clone().map_err(|e| format!("cannot clone log file handle: {e}"))?;
        let port = free_port()?;
        let standin_dir = ctx.root.join("tests").join("standin");
        let mut cmd = support::tied_command(ctx.node_bin("wrangler"));
        cmd.args(["dev", "--local", "--ip", "127.0.0.1", "--port"])
            .arg(port.to_string())
            .arg("--persist-to")
            .arg(dir.join("standin-state"))
            .arg("--show-interactive-dev-session=false")
            .current_dir(&standin_dir)
            .env("WRANGLER_SEND_METRICS", "false")
            .env("WRANGLER_REGISTRY_PATH", &registry)
            .stdout(out)
            .stderr(err);
        log(format!(
            "$ (in {}) WRANGLER_REGISTRY_PATH={} wrangler dev --local --ip 127.0.0.1 --port {port}  > {}",
            standin_dir.display(),
            registry.display(),
            log_path.display()
        ));
        let child = cmd.spawn().map_err(|e| format!("could not start the stand-in: {e}"))?;
        let mut s = Standin { child, registry, stopped: false };
        let t0 = Instant::now();
        loop {
            if let Ok(Some(status)) = s.child.try_wait() {
                s.stop();
                return Err(format!("the stand-in exited before it was ready ({status}); see {}", log_path.display()));
            }
            if answers_http(port) && s.registry.join(STANDIN).exists() {
                log(format!("AI/Vectorize stand-in answers on 127.0.0.1:{port} after {:?}", t0.elapsed()));
                return Ok(s);
            }
            if t0.elapsed() > READY_TIMEOUT {
                s.stop();
                return Err(format!(
                    "the stand-in was not ready within {}s; see {}",
                    READY_TIMEOUT.as_secs(),
                    log_path.display()
                ));
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// The dev registry the app's `wrangler dev` must use (`WRANGLER_REGISTRY_PATH`) to reach it.
    pub(crate) fn registry(&self) -> &Path {
        &self.registry
    }

    /// SIGTERM to the process group, up to 5 s grace, then SIGKILL. Idempotent.
    pub(crate) fn stop(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        stop_group(&mut self.child, "the AI/Vectorize stand-in");
    }
}

impl Drop for Standin {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The app's wrangler config arguments (`-c wrangler.local.toml`, relative to app/). Writes
/// app/wrangler.local.toml (only when its content changes), with `extra` (e.g. the dev loop's
/// `[build]` table, [`crate::devloop::build_table`]) appended.
pub(crate) fn config_args(app: &Path, extra: &str) -> Result<Vec<OsString>> {
    let source = app.join("wrangler.toml");
    let text = std::fs::read_to_string(&source).map_err(|e| format!("cannot read {}: {e}", source.display()))?;
    let mut local = local_config(&text)?;
    if !extra.is_empty() {
        if text.parse::<toml::Table>().is_ok_and(|doc| doc.contains_key("build")) {
            return Err(format!(
                "{} has a [build] table; `cargo xtask` builds the app itself (remove it)",
                source.display()
            ));
        }
        local.push_str(extra);
        local.parse::<toml::Table>().map_err(|e| format!("the generated {LOCAL_CONFIG} is not valid TOML: {e}"))?;
    }
    let path = app.join(LOCAL_CONFIG);
    if std::fs::read_to_string(&path).ok().as_deref() != Some(local.as_str()) {
        std::fs::write(&path, &local).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(vec!["-c".into(), LOCAL_CONFIG.into()])
}

/// The stand-in's entrypoint for a `[[vectorize]]` binding: the post embeddings (`POSTS_INDEX`,
/// 384 dimensions) have their own, every other index shares the demo one (`DIMENSIONS`, 4).
fn vectorize_entrypoint(binding: &str) -> &'static str {
    match binding {
        "POSTS_INDEX" => "PostsIndexStandin",
        _ => "VectorizeStandin",
    }
}

/// app/wrangler.toml without its `[ai]` and `[[vectorize]]` tables, plus one `[[services]]`
/// binding to the stand-in for each of their binding names.
fn local_config(text: &str) -> Result<String> {
    let doc: toml::Table = text.parse().map_err(|e| format!("app/wrangler.toml is not valid TOML: {e}"))?;
    let ai: Vec<&str> =
        doc.get("ai").and_then(|a| a.get("binding")).and_then(toml::Value::as_str).into_iter().collect();
    let vectorize: Vec<&str> = doc
        .get("vectorize")
        .and_then(toml::Value::as_array)
        .map(|a| a.iter().filter_map(|t| t.get("binding").and_then(toml::Value::as_str)).collect())
        .unwrap_or_default();
    let mut out = String::from(
        "# GENERATED by `cargo xtask dev|e2e` from wrangler.toml — do not edit, do not deploy.\n\
         # `[ai]` and `[[vectorize]]` are replaced by RPC service bindings to the loopback stand-in\n\
         # (tests/standin/), so nothing here reaches Cloudflare.\n\n",
    );
    let mut skip = false;
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('[') {
            let header: String = t.split('#').next().unwrap_or("").chars().filter(|c| !c.is_whitespace()).collect();
            skip = header == "[ai]" || header == "[[vectorize]]";
        }
        if !skip {
            out.push_str(line);
            out.push('\n');
        }
    }
    for (binding, entrypoint) in
        ai.iter().map(|b| (*b, "AiStandin")).chain(vectorize.iter().map(|b| (*b, vectorize_entrypoint(b))))
    {
        out.push_str(&format!(
            "\n[[services]]\nbinding = \"{binding}\"\nservice = \"{STANDIN}\"\nentrypoint = \"{entrypoint}\"\n"
        ));
    }
    let check: toml::Table = out.parse().map_err(|e| format!("the generated {LOCAL_CONFIG} is not valid TOML: {e}"))?;
    if check.contains_key("ai") || check.contains_key("vectorize") {
        return Err(format!("the generated {LOCAL_CONFIG} still declares remote AI/Vectorize bindings"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::local_config;

    #[test]
    fn remote_bindings_become_standin_services() {
        let src = "name = \"x\"\n[vars]\nA = \"1\"\n\n[ai]\nbinding = \"AI\"\n\n[[vectorize]]\nbinding = \"VEC\"\nindex_name = \"i\"\n\n[[vectorize]]\nbinding = \"POSTS_INDEX\"\nindex_name = \"p\"\n\n[[kv_namespaces]]\nbinding = \"KV\"\nid = \"0\"\n";
        let out = local_config(src).unwrap();
        let doc: toml::Table = out.parse().unwrap();
        assert!(!doc.contains_key("ai") && !doc.contains_key("vectorize"));
        assert_eq!(doc["kv_namespaces"][0]["binding"].as_str(), Some("KV"));
        assert_eq!(doc["vars"]["A"].as_str(), Some("1"));
        let services = doc["services"].as_array().unwrap();
        assert_eq!(services.len(), 3);
        assert_eq!(services[0]["binding"].as_str(), Some("AI"));
        assert_eq!(services[0]["entrypoint"].as_str(), Some("AiStandin"));
        assert_eq!(services[1]["binding"].as_str(), Some("VEC"));
        assert_eq!(services[1]["service"].as_str(), Some("layers-standin"));
        assert_eq!(services[1]["entrypoint"].as_str(), Some("VectorizeStandin"));
        // The post index has an entrypoint (an in-memory index) of its own.
        assert_eq!(services[2]["binding"].as_str(), Some("POSTS_INDEX"));
        assert_eq!(services[2]["entrypoint"].as_str(), Some("PostsIndexStandin"));
        // Without remote bindings nothing is added.
        let plain = local_config("name = \"x\"\n").unwrap();
        assert!(!plain.parse::<toml::Table>().unwrap().contains_key("services"));
    }
}
