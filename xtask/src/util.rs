//! Small helpers: logging, running commands, finding binaries, randomness, formatting.

use std::ffi::OsStr;
use std::io::{self, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// From the harness: `?` turns their `layers_test::Error` into xtask's `String` errors.
pub(crate) use layers_test::support::{percent_encode, tail, write_private};

/// Errors are human-readable messages; `main` prints them and exits non-zero.
pub(crate) type Result<T> = std::result::Result<T, String>;

/// Prints one `[xtask] …` progress line (stderr, so it interleaves with child output).
pub(crate) fn log(msg: impl AsRef<str>) {
    eprintln!("[xtask] {}", msg.as_ref());
}

/// Shell-like rendering of a command for progress and error messages.
pub(crate) fn describe(cmd: &Command) -> String {
    let mut parts = vec![display_program(cmd.get_program())];
    parts.extend(cmd.get_args().map(|a| {
        let a = a.to_string_lossy();
        if a.is_empty() || a.contains(char::is_whitespace) {
            format!("'{a}'")
        } else {
            a.into_owned()
        }
    }));
    parts.join(" ")
}

/// [`describe`] prefixed with the working directory, for progress lines.
pub(crate) fn describe_with_dir(cmd: &Command) -> String {
    match cmd.get_current_dir() {
        Some(dir) => format!("(in {}) {}", dir.display(), describe(cmd)),
        None => describe(cmd),
    }
}

fn display_program(program: &OsStr) -> String {
    let path = Path::new(program);
    // `/abs/app/node_modules/.bin/wrangler` → `node_modules/.bin/wrangler`, `/root/.cargo/bin/x` → `x`.
    let s = path.to_string_lossy();
    if let Some(idx) = s.find("node_modules/.bin/") {
        return s[idx..].to_owned();
    }
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| s.into_owned())
}

/// Runs a command with inherited stdio; fails unless it exits successfully.
pub(crate) fn run(cmd: &mut Command) -> Result<()> {
    let desc = describe(cmd);
    log(format!("$ {}", describe_with_dir(cmd)));
    let status = cmd.status().map_err(|e| format!("could not start `{desc}`: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{desc}` failed ({status})"))
    }
}

/// Runs a command quietly and returns its stdout+stderr if it succeeded.
pub(crate) fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.stdin(Stdio::null()).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    Some(text)
}

/// `$CARGO_HOME/bin`, defaulting to `~/.cargo/bin`.
pub(crate) fn cargo_bin_dir() -> Option<PathBuf> {
    if let Some(home) = std::env::var_os("CARGO_HOME").filter(|h| !h.is_empty()) {
        return Some(PathBuf::from(home).join("bin"));
    }
    std::env::var_os("HOME").filter(|h| !h.is_empty()).map(|h| PathBuf::from(h).join(".cargo").join("bin"))
}

/// Every executable called `name` on `PATH`, then in `$CARGO_HOME/bin`, without duplicates.
pub(crate) fn find_all(name: &str) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> =
        std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect()).unwrap_or_default();
    dirs.extend(cargo_bin_dir());
    let mut found: Vec<PathBuf> = Vec::new();
    for dir in dirs {
        let candidate = dir.join(name);
        if is_executable(&candidate) && !found.contains(&candidate) {
            found.push(candidate);
        }
    }
    found
}

pub(crate) fn is_executable(path: &Path) -> bool {
    path.metadata().map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false)
}

/// Whether `--version` output names exactly `version` (as a whole word, optionally `v`-prefixed).
pub(crate) fn version_matches(output: &str, version: &str) -> bool {
    output
        .split(|c: char| c.is_whitespace() || c == ',' || c == '(' || c == ')')
        .any(|word| word.strip_prefix('v').unwrap_or(word) == version)
}

/// The first executable called `name` (PATH, then `$CARGO_HOME/bin`) whose `--version` is `version`.
pub(crate) fn find_with_version(name: &str, version: &str) -> Option<PathBuf> {
    find_all(name)
        .into_iter()
        .find(|path| output(Command::new(path).arg("--version")).is_some_and(|out| version_matches(&out, version)))
}

/// `n` random bytes from `/dev/urandom`, hex-encoded (`2n` characters).
pub(crate) fn random_hex(n: usize) -> Result<String> {
    let mut buf = vec![0u8; n];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .map_err(|e| format!("cannot read /dev/urandom: {e}"))?;
    Ok(hex(&buf))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    s
}

/// Copies the directory tree `from` into `to` (created; files and directories only).
pub(crate) fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    copy_dir_filled(from, to, None)
}

/// [`copy_dir`], passing each file's text through `fill` when given (for templates).
pub(crate) fn copy_dir_filled(from: &Path, to: &Path, fill: Option<&dyn Fn(&str) -> String>) -> Result<()> {
    std::fs::create_dir_all(to).map_err(|e| format!("cannot create {}: {e}", to.display()))?;
    let entries = std::fs::read_dir(from).map_err(|e| format!("cannot read {}: {e}", from.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot read {}: {e}", from.display()))?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        let kind = entry.file_type().map_err(|e| format!("cannot stat {}: {e}", src.display()))?;
        if kind.is_dir() {
            copy_dir_filled(&src, &dst, fill)?;
        } else if let (true, Some(fill)) = (kind.is_file(), fill) {
            let text = std::fs::read_to_string(&src).map_err(|e| format!("cannot read {}: {e}", src.display()))?;
            std::fs::write(&dst, fill(&text)).map_err(|e| format!("cannot write {}: {e}", dst.display()))?;
        } else if kind.is_file() {
            std::fs::copy(&src, &dst).map_err(|e| format!("cannot copy {}: {e}", src.display()))?;
        }
    }
    Ok(())
}

/// The first `label:key` entry of `API_KEYS=` in a `.dev.vars`/dotenv text.
pub(crate) fn first_api_key(dev_vars: &str) -> Option<(String, String)> {
    let value = dev_vars.lines().find_map(|line| {
        let line = line.trim();
        let line = line.strip_prefix("export ").unwrap_or(line);
        line.strip_prefix("API_KEYS")?.trim_start().strip_prefix('=').map(str::trim)
    })?;
    let value = value.trim_matches(|c| c == '"' || c == '\'');
    let entry = value.split(',').map(str::trim).find(|e| !e.is_empty())?;
    let (label, key) = entry.split_once(':')?;
    Some((label.to_owned(), key.to_owned()))
}

/// Size of `data` after gzip at the best compression level (like `gzip -9`).
pub(crate) fn gzip_best_len(data: &[u8]) -> io::Result<u64> {
    struct Counter(u64);
    impl Write for Counter {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0 += buf.len() as u64;
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let mut enc = flate2::write::GzEncoder::new(Counter(0), flate2::Compression::best());
    enc.write_all(data)?;
    Ok(enc.finish()?.0)
}

pub(crate) fn fmt_size(bytes: u64) -> String {
    format!("{bytes} B ({:.1} KiB)", bytes as f64 / 1024.0)
}

pub(crate) fn fmt_duration(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 60.0 {
        format!("{secs:.1}s")
    } else {
        let whole = d.as_secs();
        format!("{}m {:02}s", whole / 60, whole % 60)
    }
}

/// Reads a subcommand's options, each of which takes a value (`--name value` or
/// `--name=value`): returns `(name as written, value)` pairs; an argument whose name is not in
/// `known` is refused with the subcommand's name.
pub(crate) fn option_values(rest: &[String], known: &[&str], command: &str) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut it = rest.iter();
    while let Some(arg) = it.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) => (n, Some(v.to_owned())),
            None => (arg.as_str(), None),
        };
        if !known.contains(&name) {
            return Err(format!("unexpected argument `{arg}` for `{command}`; see `cargo xtask --help`"));
        }
        let value = inline.or_else(|| it.next().cloned()).ok_or_else(|| format!("`{name}` needs a value"))?;
        out.push((name.to_owned(), value));
    }
    Ok(out)
}

/// `v` as a number within `range`, or an error naming `--option v` and the accepted range.
pub(crate) fn number_in<T>(option: &str, v: &str, range: std::ops::RangeInclusive<T>, expected: &str) -> Result<T>
where
    T: std::str::FromStr + PartialOrd,
{
    v.parse::<T>()
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| format!("invalid `{option} {v}` (expected {expected})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_dir_copies_nested_files() {
        let root = std::env::temp_dir().join(format!("xtask-copy-dir-{}", std::process::id()));
        let (from, to) = (root.join("from"), root.join("to"));
        std::fs::create_dir_all(from.join("a").join("b")).unwrap();
        std::fs::write(from.join("top.txt"), "1").unwrap();
        std::fs::write(from.join("a").join("b").join("deep.sqlite"), "2").unwrap();
        copy_dir(&from, &to).unwrap();
        assert_eq!(std::fs::read_to_string(to.join("top.txt")).unwrap(), "1");
        assert_eq!(std::fs::read_to_string(to.join("a").join("b").join("deep.sqlite")).unwrap(), "2");
        assert!(copy_dir(&root.join("missing"), &root.join("x")).is_err());
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn hex_encodes() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
        assert_eq!(random_hex(32).unwrap().len(), 64);
    }

    #[test]
    fn version_words() {
        assert!(version_matches("wasm-bindgen 0.2.130\n", "0.2.130"));
        assert!(version_matches("worker-build v0.8.7", "0.8.7"));
        assert!(!version_matches("wasm-bindgen 0.2.1300", "0.2.130"));
        assert!(!version_matches("worker-build 0.8.70", "0.8.7"));
    }

    #[test]
    fn api_key_from_dev_vars() {
        let text = "# comment\nSIGNING_KEY=abc\nAPI_KEYS = \"dev:k1,old:k2\"\n";
        assert_eq!(first_api_key(text), Some(("dev".to_owned(), "k1".to_owned())));
        assert_eq!(first_api_key("SIGNING_KEY=x\n"), None);
    }

    #[test]
    fn durations() {
        assert_eq!(fmt_duration(Duration::from_millis(1234)), "1.2s");
        assert_eq!(fmt_duration(Duration::from_secs(185)), "3m 05s");
    }

    #[test]
    fn gzip_shrinks_repetitive_data() {
        let data = vec![b'a'; 100_000];
        let n = gzip_best_len(&data).unwrap();
        assert!(n > 18 && n < 1_000, "{n}");
    }
}
