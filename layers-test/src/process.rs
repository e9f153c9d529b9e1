//! Child processes that never outlive the test binary: `wrangler dev` runs in its own process
//! group under a watchdog shell that holds the read end of a pipe from us. When the test
//! process goes away for any reason (a panic in a test, `exit`, SIGKILL, Ctrl-C) the pipe
//! closes and the watchdog sends SIGTERM to the whole group, so no workerd is left holding a
//! port. This is what stops a Worker kept in a `static` ([`Builder::shared`](crate::Builder::shared)):
//! Rust never drops statics. The pieces are public in [`support`](crate::support).

use std::fs::File;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::{support, Error};

/// A server in its own process group, tied to this process through the watchdog; stopped on
/// drop (SIGTERM to the group, 5 s grace, SIGKILL).
pub(crate) struct Tied {
    child: Child,
    stopped: bool,
}

impl Tied {
    /// Starts `program args…` in `dir` with `envs`, output written to `log` (appended to it
    /// when `append`, e.g. a restart keeping the log of the run; else the file is truncated).
    pub(crate) fn spawn(
        program: &Path,
        args: &[std::ffi::OsString],
        dir: &Path,
        envs: &[(&str, &std::ffi::OsStr)],
        log: &Path,
        append: bool,
    ) -> Result<Tied, Error> {
        let out = File::options()
            .create(true)
            .write(true)
            .append(append)
            .truncate(!append)
            .open(log)
            .map_err(|e| Error::new(format!("cannot create {}: {e}", log.display())))?;
        let err = out.try_clone().map_err(|e| Error::new(format!("cannot clone a file handle: {e}")))?;
        let mut cmd = support::tied_command(program);
        cmd.args(args).current_dir(dir).envs(envs.iter().copied()).stdout(out).stderr(err);
        let child = cmd.spawn().map_err(|e| Error::new(format!("could not start {}: {e}", program.display())))?;
        Ok(Tied { child, stopped: false })
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
        support::stop_group(&mut self.child, support::STOP_GRACE);
    }
}

impl Drop for Tied {
    fn drop(&mut self) {
        self.stop();
    }
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
