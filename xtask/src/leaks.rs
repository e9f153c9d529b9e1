//! The e2e leak check: after each e2e target (and the soak) ran, the whole output of its
//! wrangler (`target/e2e/<target>.log`, which holds the framework's JSON log lines) must contain
//! none of
//!
//! - the secrets its Worker held (API keys, signing key, Turnstile secret, webhook secret, the
//!   federation private key's PEM lines; `<target>.secrets`), searched in every line;
//! - the values the e2e target registered as sensitive (`<target>.sensitive`: tokens,
//!   signatures, cookies, Turnstile responses and the full email addresses they sent; one per
//!   line, see `sensitive` in tests/tests/common/mod.rs) and the soak's addresses, searched in
//!   every line except wrangler's own access-log lines (`[wrangler:info] GET /path 200 OK (3ms)`):
//!   those print the raw request path, which legitimately carries path tokens such as
//!   `/api/unsubscribe/<token>` or `/api/subscribers/<email>`. Emails are compared
//!   case-insensitively and also in their `%40` form.
//!
//! Failures name the secret or show a redacted prefix of the value and the log line number;
//! the values themselves are never printed.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use crate::util::{log, Result};

/// Values shorter than this are not checked (they would match by chance).
const MIN_LEN: usize = 8;

/// Whether `line` is one of wrangler's access-log lines: `[wrangler:info] METHOD /path …`.
fn is_access_line(line: &str) -> bool {
    let Some(rest) = line.strip_prefix("[wrangler:info] ") else {
        return false;
    };
    let Some((method, path)) = rest.split_once(' ') else {
        return false;
    };
    !method.is_empty() && method.bytes().all(|b| b.is_ascii_uppercase()) && path.starts_with('/')
}

/// `abcd…(40 chars)`: enough to find the value in the test sources, not enough to use it.
fn redact(value: &str) -> String {
    let head: String = value.chars().take(4).collect();
    format!("{head}…({} chars)", value.chars().count())
}

/// Every email-like token (`local@domain`, lower-cased, `%40` read as `@`) in `line`.
fn emails_in(line: &str) -> Vec<String> {
    let line = line.to_ascii_lowercase().replace("%40", "@");
    let is_local = |c: char| c.is_ascii_alphanumeric() || "._%+-".contains(c);
    let is_domain = |c: char| c.is_ascii_alphanumeric() || ".-".contains(c);
    let mut out = Vec::new();
    for (at, _) in line.match_indices('@') {
        let start = line[..at].char_indices().rev().find(|&(_, c)| !is_local(c)).map_or(0, |(i, c)| i + c.len_utf8());
        let end = line[at + 1..].find(|c| !is_domain(c)).map_or(line.len(), |i| at + 1 + i);
        if start < at && at + 1 < end {
            out.push(line[start..end].to_owned());
        }
    }
    out
}

/// Checks `log_path` as described in the module docs. `secrets` are `(name, value)` pairs.
/// Returns how many values were registered; with `require_registered`, none is an error (the
/// registration broke, and the check would prove nothing).
pub(crate) fn check(
    log_path: &Path,
    secrets: &[(String, String)],
    sensitive: &Path,
    require_registered: bool,
) -> Result<usize> {
    let bytes = std::fs::read(log_path).map_err(|e| format!("cannot read {}: {e}", log_path.display()))?;
    let text = String::from_utf8_lossy(&bytes);
    let registered =
        std::fs::read_to_string(sensitive).map_err(|e| format!("cannot read {}: {e}", sensitive.display()))?;

    let mut emails: HashSet<String> = HashSet::new();
    let mut values: HashSet<&str> = HashSet::new();
    let mut short = 0usize;
    for v in registered.lines() {
        if v.len() < MIN_LEN {
            short += 1;
        } else if v.contains('@') {
            emails.insert(v.to_ascii_lowercase());
        } else {
            values.insert(v);
        }
    }
    let secrets: Vec<&(String, String)> = secrets.iter().filter(|(_, v)| v.len() >= MIN_LEN).collect();

    let mut checked_lines = 0usize;
    let mut access_lines = 0usize;
    // finding → first line number (1-based)
    let mut found: BTreeMap<String, usize> = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        for (name, value) in &secrets {
            if line.contains(value.as_str()) {
                found.entry(format!("secret `{name}`")).or_insert(i + 1);
            }
        }
        if is_access_line(line) {
            access_lines += 1;
            continue;
        }
        checked_lines += 1;
        for email in emails_in(line) {
            if emails.contains(&email) {
                found.entry(format!("email {}", redact(&email))).or_insert(i + 1);
            }
        }
        for value in &values {
            if line.contains(value) {
                found.entry(format!("registered value {}", redact(value))).or_insert(i + 1);
            }
        }
    }
    log(format!(
        "leak check of {}: {} generated secrets in all {} lines; {} registered emails and {} other registered \
         values in {checked_lines} lines (skipped {access_lines} wrangler access-log lines, which print raw \
         paths){}",
        log_path.display(),
        secrets.len(),
        text.lines().count(),
        emails.len(),
        values.len(),
        if short > 0 { format!("; ignored {short} values shorter than {MIN_LEN}") } else { String::new() }
    ));
    if require_registered && emails.is_empty() && values.is_empty() {
        // The soak always sends tokens or addresses (as the e2e targets do, together): an empty
        // list means the registration broke, and the check would prove nothing.
        return Err(format!("leak check: nothing was registered in {}", sensitive.display()));
    }
    if found.is_empty() {
        Ok(emails.len() + values.len())
    } else {
        let list: Vec<String> = found.iter().map(|(what, line)| format!("{what} at line {line}")).collect();
        Err(format!("leak check: the wrangler log holds {}", list.join(", ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_lines_are_only_wranglers_request_lines() {
        assert!(is_access_line("[wrangler:info] GET /api/unsubscribe/abc 403 Forbidden (3ms)"));
        assert!(is_access_line("[wrangler:info] DELETE /api/subscribers/a@example.com 200 OK (26ms)"));
        assert!(!is_access_line("[wrangler:info] Ready on http://127.0.0.1:8787"));
        assert!(!is_access_line("{\"layer\":\"request\",\"route\":\"/\"}"));
        assert!(!is_access_line("[wrangler:warn] GET /x"));
    }

    #[test]
    fn emails_are_found_in_json_and_encoded_forms() {
        assert_eq!(emails_in(r#"{"email":"Ada-1+x@Example.com","n":1}"#), vec!["ada-1+x@example.com"]);
        assert_eq!(emails_in("to=ada%40example.com&x=1"), vec!["ada@example.com"]);
        assert!(emails_in("model @cf/meta and a@ and @b").is_empty());
        assert_eq!(emails_in("⛅️x@example.com é"), vec!["x@example.com"]);
    }

    #[test]
    fn check_finds_secrets_and_registered_values_but_not_in_access_lines() {
        let dir = std::env::temp_dir().join(format!("xtask-leaks-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (log_path, reg) = (dir.join("log"), dir.join("sensitive"));
        std::fs::write(&reg, "tok-0123456789\nbob-77@example.com\nabc\n").unwrap();
        let secrets = vec![("API key".to_owned(), "s3cr3t-s3cr3t".to_owned())];

        let clean = "[wrangler:info] GET /api/unsubscribe/tok-0123456789 200 OK (1ms)\n\
                     [wrangler:info] DELETE /api/subscribers/bob-77@example.com 200 OK (1ms)\n\
                     {\"layer\":\"request\",\"status\":200}\n";
        std::fs::write(&log_path, clean).unwrap();
        assert!(check(&log_path, &secrets, &reg, true).is_ok());

        for leak in [
            "{\"detail\":\"token tok-0123456789\"}\n",
            "{\"email\":\"BOB-77@example.com\"}\n",
            "[wrangler:info] GET /?k=s3cr3t-s3cr3t 200 OK (1ms)\n",
        ] {
            std::fs::write(&log_path, format!("{clean}{leak}")).unwrap();
            let err = check(&log_path, &secrets, &reg, true).unwrap_err();
            assert!(err.contains("line 4"), "{err}");
            assert!(!err.contains("s3cr3t-s3cr3t") && !err.contains("0123456789") && !err.contains("bob-77"), "{err}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
