//! Child processes that never outlive the test binary: `wrangler dev` runs in its own process
//! group under a watchdog shell that holds the read end of a pipe from us. When the test
//! process goes away for any reason (a panic in a test, `exit`, SIGKILL, Ctrl-C) the pipe
//! closes and the watchdog sends SIGTERM to the whole group, so no workerd is left holding a
//! port. This is what stops a Worker kept in a `static` ([`Builder::shared`](crate::Builder::shared)):
//! Rust never drops statics.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::Error;

/// Runs `$0 "$@"` in the background and waits for it; a watchdog reading our pipe (fd 3)
/// kills the whole process group when the pipe closes. On SIGTERM the shell waits for the
/// server to finish shutting down, so reaping the shell means the server is gone.
const WATCHDOG: &str = r#"exec 3<&0
"$0" "$@" </dev/null 3<&- &
server=$!
trap 'wait "$server"; exit 143' TERM
{ cat <&3 >/dev/null; kill -s TERM -- "-$$" 2>/dev/null; } &
exec 3<&-
wait "$server"
"#;

const STOP_GRACE: Duration = Duration::from_secs(5);

/// A free TCP port on 127.0.0.1 (bound, then released).
pub(crate) fn free_port() -> Result<u16, Error> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| Error::new(format!("cannot find a free port on 127.0.0.1: {e}")))
}

/// A server in its own process group, tied to this process through the watchdog; stopped on
/// drop (SIGTERM to the group, 5 s grace, SIGKILL).
pub(crate) struct Tied {
    child: Child,
    pgid: u32,
    stopped: bool,
}

impl Tied {
    /// Starts `program args…` in `dir` with `envs`, output appended to `log`.
    pub(crate) fn spawn(
        program: &Path,
        args: &[std::ffi::OsString],
        dir: &Path,
        envs: &[(&str, &std::ffi::OsStr)],
        log: &Path,
    ) -> Result<Tied, Error> {
        let out = File::create(log).map_err(|e| Error::new(format!("cannot create {}: {e}", log.display())))?;
        let err = out.try_clone().map_err(|e| Error::new(format!("cannot clone a file handle: {e}")))?;
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(WATCHDOG)
            .arg(program)
            .args(args)
            .current_dir(dir)
            .envs(envs.iter().copied())
            .stdin(Stdio::piped())
            .stdout(out)
            .stderr(err)
            .process_group(0);
        let child = cmd.spawn().map_err(|e| Error::new(format!("could not start {}: {e}", program.display())))?;
        Ok(Tied { pgid: child.id(), child, stopped: false })
    }

    /// `Some(status)` when the server already exited.
    pub(crate) fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// SIGTERM to the process group, up to 5 s grace, then SIGKILL. Idempotent.
    pub(crate) fn stop(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        signal_group(self.pgid, "TERM");
        let deadline = Instant::now() + STOP_GRACE;
        let mut reaped = false;
        while Instant::now() < deadline {
            if !reaped {
                reaped = matches!(self.child.try_wait(), Ok(Some(_)));
            }
            if reaped && !group_alive(self.pgid) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        signal_group(self.pgid, "KILL");
        let _ = self.child.wait();
    }
}

impl Drop for Tied {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `kill -s SIG -- -PGID` through the shell builtin (no `unsafe`, no procps).
fn signal_group(pgid: u32, signal: &str) {
    let _ = Command::new("sh")
        .args(["-c", "kill -s \"$0\" -- \"-$1\" 2>/dev/null", signal])
        .arg(pgid.to_string())
        .stdin(Stdio::null())
        .status();
}

/// Whether a live (non-zombie) process is still in process group `pgid`.
fn group_alive(pgid: u32) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Command::new("sh")
            .args(["-c", "kill -0 -- \"-$0\" 2>/dev/null"])
            .arg(pgid.to_string())
            .status()
            .is_ok_and(|s| s.success());
    };
    let want = pgid.to_string();
    entries.flatten().any(|entry| {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            return false;
        };
        // `pid (comm) state ppid pgrp …`; comm may hold spaces and parentheses.
        let Some(after) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            return false;
        };
        let mut fields = after.split_whitespace();
        let state = fields.next();
        let pgrp = fields.nth(1);
        state != Some("Z") && state != Some("X") && pgrp == Some(want.as_str())
    })
}

/// Removes the state of runs whose process is gone (a shared Worker's state outlives its test
/// binary: statics are never dropped).
pub(crate) fn clean_stale_runs(root: &Path) {
    let Ok(entries) = std::fs::read_dir(root) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let pid = name.strip_prefix("run-").and_then(|r| r.split('-').next()).and_then(|p| p.parse::<u32>().ok());
        if let Some(pid) = pid {
            if pid != std::process::id() && !pid_alive(pid) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
}

/// Whether a process with this id exists (for cleaning state left by earlier runs).
pub(crate) fn pid_alive(pid: u32) -> bool {
    Path::new("/proc").join(pid.to_string()).exists()
}

/// Whether something on 127.0.0.1:`port` answers `GET /` with an HTTP status line.
pub(crate) fn probe(port: u16) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) else {
        return false;
    };
    let _ = stream.set_write_timeout(Some(Duration::from_secs(5)));
    // The first request compiles the wasm module: give it time.
    let _ = stream.set_read_timeout(Some(Duration::from_secs(20)));
    let request = format!("GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = Vec::new();
    let mut buf = [0u8; 64];
    while head.len() < 12 {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    head.starts_with(b"HTTP/1.") && head.len() >= 12
}

/// The last `n` lines of a log file (for error messages).
pub(crate) fn tail(path: &Path, n: usize) -> String {
    match std::fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(n)..].join("\n")
        }
        Err(e) => format!("(cannot read {}: {e})", path.display()),
    }
}

/// Runs `cmd` to completion; its combined output on failure is in the error.
pub(crate) fn run_captured(cmd: &mut Command, what: &str) -> Result<String, Error> {
    let out = cmd.stdin(Stdio::null()).output().map_err(|e| Error::new(format!("could not run {what}: {e}")))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if out.status.success() {
        Ok(stdout)
    } else {
        Err(Error::new(format!("{what} failed ({}):\n{stdout}{}", out.status, String::from_utf8_lossy(&out.stderr))))
    }
}
