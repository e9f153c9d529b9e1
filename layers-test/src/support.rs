//! The building blocks the harness is made of, for your own stubs and tooling: a server in its
//! own process group that dies with this process, stopping such a group, a free loopback port
//! and whether a server there answers, a private (mode 0600) file, the tail of a log, and two
//! bits of HTTP/1.1 for hand-written clients (a response head, a chunked body, a query value).
//!
//! ```no_run
//! use std::time::Duration;
//! use layers_test::support;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let port = support::free_port()?;
//! let log = std::env::temp_dir().join("my-stub.log");
//! let mut child = support::tied_command("node")
//!     .args(["stub.js", "--port", &port.to_string()])
//!     .stdout(std::fs::File::create(&log)?)
//!     .spawn()?;
//! while !support::answers_http(port) {
//!     std::thread::sleep(Duration::from_millis(100));
//! }
//! // … use it; it also goes away when this process exits, however it exits.
//! if !support::stop_group(&mut child, support::STOP_GRACE) {
//!     eprintln!("the stub needed SIGKILL:\n{}", support::tail(&log, 20));
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Unix only, like the harness (process groups, `sh`, file modes).

use std::ffi::OsStr;
use std::io::{Read as _, Write as _};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt as _;
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

/// How long the harness gives a process group to exit after SIGTERM before it sends SIGKILL.
pub const STOP_GRACE: Duration = Duration::from_secs(5);

/// A command that runs `program` (add its arguments, directory, environment and output to the
/// returned [`Command`]) in a process group of its own, tied to this process: it runs under a
/// watchdog shell that holds the read end of a pipe from us (the child's stdin, which the
/// [`Child`] keeps open), and when this process goes away for any reason — a panic, `exit`,
/// SIGKILL, Ctrl-C — the pipe closes and the watchdog sends SIGTERM to the whole group.
///
/// The program's own stdin is `/dev/null`; do not replace the command's stdin (it is the pipe),
/// and keep the [`Child`] (or its stdin) as long as the program should run. The group's id is
/// the child's [`id`](Child::id); stop it with [`stop_group`].
#[must_use]
pub fn tied_command(program: impl AsRef<OsStr>) -> Command {
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg(WATCHDOG).arg(program).stdin(Stdio::piped()).process_group(0);
    cmd
}

/// Stops the process group of `child` (started with [`tied_command`]): SIGTERM to the group,
/// up to `grace` for `child` to be reaped and no live process to be left in the group, then
/// SIGKILL. Returns whether the group was gone within `grace` (`false`: it was killed).
pub fn stop_group(child: &mut Child, grace: Duration) -> bool {
    let pgid = child.id();
    signal_group(pgid, "TERM");
    let deadline = Instant::now() + grace;
    let mut reaped = false;
    while Instant::now() < deadline {
        if !reaped {
            reaped = matches!(child.try_wait(), Ok(Some(_)));
        }
        if reaped && !group_alive(pgid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    signal_group(pgid, "KILL");
    let _ = child.wait();
    false
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
        // No procfs: fall back to `kill -0`, which also counts zombies.
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

/// What [`start_registered_worker`] starts: a Worker other Workers bind to by name (a loopback
/// stand-in for a remote-only service, say), run by `wrangler dev --local` in its own process
/// group and registered in a private dev registry.
#[derive(Debug, Clone)]
pub struct RegisteredWorker<'a> {
    /// The `wrangler` binary.
    pub wrangler: &'a Path,
    /// The Worker's directory (its wrangler config is read there).
    pub dir: &'a Path,
    /// Its `name` in that config: what appears in the registry once it is up.
    pub name: &'a str,
    /// The dev registry (`WRANGLER_REGISTRY_PATH`) the Workers that bind to it also use.
    pub registry: &'a Path,
    /// Its local state (`--persist-to`).
    pub state: &'a Path,
    /// Where its output goes.
    pub log: &'a Path,
}

/// Starts `w` on a free loopback port ([`tied_command`]: it goes away with this process) and
/// waits until it registered in `w.registry`, at most 60 s.
///
/// # Errors
/// When it cannot be started, exits, or does not register in time (the message names its log).
pub fn start_registered_worker(w: &RegisteredWorker<'_>) -> Result<Child, Error> {
    std::fs::create_dir_all(w.registry)
        .map_err(|e| Error::new(format!("cannot create {}: {e}", w.registry.display())))?;
    let out =
        std::fs::File::create(w.log).map_err(|e| Error::new(format!("cannot create {}: {e}", w.log.display())))?;
    let err = out.try_clone().map_err(|e| Error::new(e.to_string()))?;
    let port = free_port()?;
    let mut child = tied_command(w.wrangler)
        .args(["dev", "--local", "--ip", "127.0.0.1", "--port", &port.to_string()])
        .arg("--persist-to")
        .arg(w.state)
        .arg("--show-interactive-dev-session=false")
        .current_dir(w.dir)
        .env("WRANGLER_SEND_METRICS", "false")
        .env("WRANGLER_REGISTRY_PATH", w.registry)
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(|e| Error::new(format!("could not start {}: {e}", w.wrangler.display())))?;
    let t0 = Instant::now();
    while !w.registry.join(w.name).exists() {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(Error::new(format!("{} exited ({status}); see {}", w.name, w.log.display())));
        }
        if t0.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            return Err(Error::new(format!("{} did not register within 60 s; see {}", w.name, w.log.display())));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(child)
}

/// A free TCP port on 127.0.0.1 (bound, then released).
///
/// # Errors
/// When no port can be bound.
pub fn free_port() -> Result<u16, Error> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| Error::new(format!("cannot find a free port on 127.0.0.1: {e}")))
}

/// Whether something on 127.0.0.1:`port` answers `GET /` with an HTTP status line (waits up to
/// 20 s for it: a Worker's first request compiles its wasm). Poll it to wait for a server.
#[must_use]
pub fn answers_http(port: u16) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) else {
        return false;
    };
    let _ = stream.set_write_timeout(Some(Duration::from_secs(5)));
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

/// Creates or truncates `path` with mode 0600 and writes `contents` (a file that holds
/// secrets). The mode applies when the file is created.
///
/// # Errors
/// When the file cannot be opened or written.
pub fn write_private(path: &Path, contents: &str) -> Result<(), Error> {
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut f| f.write_all(contents.as_bytes()))
        .map_err(|e| Error::new(format!("cannot write {}: {e}", path.display())))
}

/// The last `n` lines of a (log) file, lossily decoded, or a note why it could not be read
/// (for error messages).
#[must_use]
pub fn tail(path: &Path, n: usize) -> String {
    match std::fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(n)..].join("\n")
        }
        Err(e) => format!("(cannot read {}: {e})", path.display()),
    }
}

/// The payload of an HTTP/1.1 chunked body (`Transfer-Encoding: chunked`, after the head):
/// the chunks' data up to the last chunk; extensions are ignored, a truncated body gives what
/// arrived, and trailers are dropped.
#[must_use]
pub fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(nl) = body.windows(2).position(|w| w == b"\r\n") {
        let size_line = std::str::from_utf8(&body[..nl]).unwrap_or("0");
        let size = usize::from_str_radix(size_line.split(';').next().unwrap_or("0").trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = nl + 2;
        out.extend_from_slice(&body[start..(start + size).min(body.len())]);
        body = &body[(start + size + 2).min(body.len())..];
    }
    out
}

/// `s` with every byte outside RFC 3986's unreserved set (`A-Z a-z 0-9 - . _ ~`)
/// percent-encoded, e.g. a query value.
#[must_use]
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A response head as sent: its status and headers (names and values trimmed, in order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    /// The status code.
    pub status: u16,
    /// The headers.
    pub headers: Vec<(String, String)>,
}

impl ResponseHead {
    /// Parses the bytes of an HTTP/1.1 response head (before the blank line).
    ///
    /// # Errors
    /// `InvalidData` when the first line carries no status code.
    pub fn parse(head: &[u8]) -> std::io::Result<ResponseHead> {
        let head = String::from_utf8_lossy(head);
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "no HTTP status line"))?;
        let headers =
            lines.filter_map(|l| l.split_once(':').map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))).collect();
        Ok(ResponseHead { status, headers })
    }

    /// The first value of header `name` (case-insensitive).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_response_head_parses() {
        let h = super::ResponseHead::parse(b"HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\nX-A:  b ").unwrap();
        assert_eq!(h.status, 404);
        assert_eq!(h.header("content-length"), Some("3"));
        assert_eq!(h.header("x-a"), Some("b"));
        assert!(super::ResponseHead::parse(b"garbage").is_err());
    }

    use super::{dechunk, percent_encode, stop_group, tail, tied_command, write_private, STOP_GRACE};

    #[test]
    fn a_tied_group_stops_on_sigterm() {
        let mut child = tied_command("sleep").arg("30").spawn().unwrap();
        // Let the watchdog set itself up (a server is stopped once it answered, not at once).
        std::thread::sleep(std::time::Duration::from_millis(300));
        let t0 = std::time::Instant::now();
        assert!(stop_group(&mut child, STOP_GRACE), "needed SIGKILL");
        assert!(t0.elapsed() < STOP_GRACE);
        assert!(!super::group_alive(child.id()));
    }

    #[test]
    fn chunked_bodies_are_joined() {
        assert_eq!(dechunk(b"5\r\nhello\r\n6;x=y\r\n world\r\n0\r\n\r\n"), b"hello world");
        assert_eq!(dechunk(b"5\r\nhel"), b"hel");
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(percent_encode("0 2 * * SUN"), "0%202%20%2A%20%2A%20SUN");
        assert_eq!(percent_encode("soak-ab-0-12@example.com"), "soak-ab-0-12%40example.com");
        assert_eq!(percent_encode("a b+c/é~"), "a%20b%2Bc%2F%C3%A9~");
    }

    #[test]
    fn private_files_and_tails() {
        use std::os::unix::fs::PermissionsExt as _;
        let path = std::env::temp_dir().join(format!("layers-test-support-{}", std::process::id()));
        write_private(&path, "a\nb\nc\n").unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(tail(&path, 2), "b\nc");
        assert_eq!(tail(&path, 9), "a\nb\nc");
        let _ = std::fs::remove_file(&path);
        assert!(tail(&path, 1).starts_with("(cannot read "));
    }
}
