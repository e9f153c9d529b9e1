//! A Worker served by plain `workerd serve` — the runtime alone, without `wrangler dev`'s
//! machinery (its proxy workerd in front, the inspector attached to the Worker, and the Node.js
//! process that receives and source-maps every console line). `cargo xtask bench` uses it to
//! measure what a Worker itself costs per request and whether its memory levels off; routes
//! that need local D1/KV/R2 still need `wrangler dev`, which provides those.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::e2e::free_port;
use crate::util::{self, Result};
use crate::Ctx;

/// One module of a Worker: its name in the bundle and the file it is read from.
pub(crate) enum Module<'a> {
    /// An ES module (`index.js`).
    Es(&'a str, &'a Path),
    /// A WebAssembly module the ES module imports (`index_bg.wasm`).
    Wasm(&'a str, &'a Path),
}

/// A running `workerd serve` on 127.0.0.1; stopped on drop.
pub(crate) struct Plain {
    child: Option<Child>,
    pub(crate) port: u16,
    pub(crate) log: PathBuf,
}

impl Plain {
    /// Writes a config for one Worker (its modules copied next to it, `vars` as text bindings,
    /// outbound `fetch` allowed to loopback and private addresses only) under `dir`, starts
    /// workerd on a free loopback port and waits until it answers `ready_path`.
    pub(crate) fn start(
        ctx: &Ctx,
        dir: &Path,
        modules: &[Module<'_>],
        vars: &[(&str, &str)],
        ready_path: &str,
    ) -> Result<Plain> {
        let mut plain = Plain::spawn(ctx, dir, modules, vars)?;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            plain.exited()?;
            if crate::bench::http::get(plain.port, ready_path, None).is_ok_and(|(s, _)| s == 200) {
                return Ok(plain);
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "workerd did not answer GET {ready_path} within 30 s; its log:\n{}",
                    util::tail(&plain.log, 20)
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// An error when workerd has exited (with the end of its log).
    pub(crate) fn exited(&mut self) -> Result<()> {
        if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
            return Err(format!("workerd exited ({status}) before answering; its log:\n{}", util::tail(&self.log, 20)));
        }
        Ok(())
    }

    /// Writes the config (see [`Plain::start`]) and starts workerd, without waiting for it.
    pub(crate) fn spawn(ctx: &Ctx, dir: &Path, modules: &[Module<'_>], vars: &[(&str, &str)]) -> Result<Plain> {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let port = free_port()?;
        let mut module_list = String::new();
        for m in modules {
            let (name, kind, src) = match m {
                Module::Es(n, p) => (n, "esModule", p),
                Module::Wasm(n, p) => (n, "wasm", p),
            };
            std::fs::copy(src, dir.join(name)).map_err(|e| format!("cannot copy {}: {e}", src.display()))?;
            let _ = writeln!(module_list, "    (name = {}, {kind} = embed {}),", capnp_str(name), capnp_str(name));
        }
        let mut bindings = String::new();
        for (k, v) in vars {
            let _ = writeln!(bindings, "    (name = {}, text = {}),", capnp_str(k), capnp_str(v));
        }
        let config = format!(
            "using Workerd = import \"/workerd/workerd.capnp\";\n\
             const config :Workerd.Config = (\n  \
               services = [\n    (name = \"main\", worker = .worker),\n    \
                 (name = \"loopback\", network = (allow = [\"local\", \"private\"])),\n  ],\n  \
               sockets = [ (name = \"http\", address = \"127.0.0.1:{port}\", http = (), service = \"main\") ],\n\
             );\n\
             const worker :Workerd.Worker = (\n  modules = [\n{module_list}  ],\n  \
               compatibilityDate = \"2026-04-01\",\n  bindings = [\n{bindings}  ],\n  \
               globalOutbound = \"loopback\",\n);\n"
        );
        let config_path = dir.join("config.capnp");
        util::write_private(&config_path, &config)?;
        let log = dir.join("workerd.log");
        let out = std::fs::File::create(&log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
        let err = out.try_clone().map_err(|e| format!("cannot open {}: {e}", log.display()))?;
        let mut cmd = Command::new(ctx.node_bin("workerd"));
        cmd.args(["serve", "config.capnp", "--experimental"])
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        let child = cmd.spawn().map_err(|e| format!("cannot start `{}`: {e}", util::describe(&cmd)))?;
        Ok(Plain { child: Some(child), port, log })
    }

    fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// CPU time workerd has used so far (user + system), in clock ticks of `/proc`.
    pub(crate) fn cpu_ticks(&self) -> Option<u64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid()?)).ok()?;
        let after = &stat[stat.rfind(')')? + 1..];
        let fields: Vec<&str> = after.split_whitespace().collect();
        // After `pid (comm)`: state is field 3, utime 14 and stime 15 (1-based, of the whole line).
        let utime: u64 = fields.get(11)?.parse().ok()?;
        let stime: u64 = fields.get(12)?.parse().ok()?;
        Some(utime + stime)
    }

    /// workerd's resident memory (KiB).
    pub(crate) fn rss_kb(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()?)).ok()?;
        status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?.split_whitespace().next()?.parse().ok()
    }

    /// Stops workerd (SIGKILL to its PID: it holds no state worth a clean shutdown).
    pub(crate) fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Plain {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Clock ticks per second of `/proc/<pid>/stat` (`getconf CLK_TCK`; 100 on Linux).
pub(crate) fn ticks_per_second() -> u64 {
    util::output(Command::new("getconf").arg("CLK_TCK")).and_then(|s| s.trim().parse().ok()).unwrap_or(100)
}

/// `s` as a Cap'n Proto text literal.
fn capnp_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capnp_strings_are_escaped() {
        assert_eq!(capnp_str("plain"), "\"plain\"");
        assert_eq!(capnp_str("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
    }
}
