//! The other two layers, from the test: the Worker's local D1 and KV read (and written) through
//! wrangler on the run's state directory, and platform events — a cron trigger — fired.

use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::logs::LogEvent;
use crate::Worker;

/// A local D1 database of the Worker, by binding name: [`Worker::d1`].
///
/// Each call runs `wrangler d1 execute <binding> --local --persist-to <state> --json` (about a
/// second: a node process), against the same SQLite files the running Worker uses.
#[derive(Debug, Clone, Copy)]
pub struct D1<'w> {
    worker: &'w Worker,
    binding: &'w str,
}

impl Worker {
    /// The local D1 database bound as `binding` (e.g. `"DB"`).
    #[must_use]
    pub fn d1<'w>(&'w self, binding: &'w str) -> D1<'w> {
        D1 { worker: self, binding }
    }

    /// The local R2 bucket bound as `binding` (e.g. `"BUCKET"`).
    #[must_use]
    pub fn r2<'w>(&'w self, binding: &'w str) -> R2<'w> {
        R2 { worker: self, binding }
    }

    /// The local KV namespace bound as `binding`.
    #[must_use]
    pub fn kv<'w>(&'w self, binding: &'w str) -> Kv<'w> {
        Kv { worker: self, binding }
    }

    /// Fires the cron trigger `cron` (as written in the config, e.g. `"0 2 * * SUN"`) through
    /// `GET /__scheduled?cron=…` and waits (up to 30 s) for its log event: the scheduled run's
    /// request, identity (`System`) and storage sections.
    ///
    /// # Panics
    /// When the trigger is not answered with 200 or no event for this cron shows up.
    #[must_use]
    pub fn cron(&self, cron: &str) -> LogEvent {
        let mark = self.log_mark();
        let target = format!("/__scheduled?cron={}", crate::support::percent_encode(cron));
        let resp = self.get(&target).send();
        assert_eq!(resp.status(), 200, "GET {target}: {}", resp.text());
        self.wait_for_event(mark, Duration::from_secs(30), |e| e.event() == "scheduled" && e.route() == cron)
            .unwrap_or_else(|| panic!("no log event of the scheduled run `{cron}` within 30 s\n{}", self.log_tail(30)))
    }
}

impl D1<'_> {
    fn execute_json(&self, sql: &str) -> Vec<serde_json::Value> {
        let what = format!("`wrangler d1 execute {} --local`", self.binding);
        let out = self
            .worker
            .storage_command(&["d1", "execute", self.binding, "--local", "--json", "--command", sql], &what)
            .unwrap_or_else(|e| panic!("D1 {}: {sql}: {e}", self.binding));
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "D1 {}: {sql}: {what} failed ({}):\n{text}{}",
            self.binding,
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        let out = text;
        // The JSON array, after anything wrangler printed before it.
        let start = out.find('[').unwrap_or(0);
        let v: Vec<serde_json::Value> = serde_json::from_str(&out[start..])
            .unwrap_or_else(|e| panic!("D1 {}: {sql}: the answer is not JSON ({e}): {out}", self.binding));
        for r in &v {
            assert!(r["success"] != false, "D1 {}: {sql}: {r}", self.binding);
        }
        v
    }

    /// The rows of a query, each deserialized as `T` (a struct with the column names, or
    /// `serde_json::Value`).
    ///
    /// # Panics
    /// When the statement fails or a row does not deserialize.
    #[must_use]
    pub fn query<T: DeserializeOwned>(&self, sql: &str) -> Vec<T> {
        let mut rows = Vec::new();
        for r in self.execute_json(sql) {
            for row in r["results"].as_array().into_iter().flatten() {
                rows.push(
                    serde_json::from_value(row.clone()).unwrap_or_else(|e| {
                        panic!("D1 {}: {sql}: a row does not deserialize ({e}): {row}", self.binding)
                    }),
                );
            }
        }
        rows
    }

    /// The first column of the first row as an integer, e.g. `SELECT COUNT(*) FROM t`.
    ///
    /// # Panics
    /// When the statement fails or returns no integer.
    #[must_use]
    pub fn scalar(&self, sql: &str) -> i64 {
        let rows: Vec<serde_json::Map<String, serde_json::Value>> = self.query(sql);
        rows.first()
            .and_then(|r| r.values().next())
            .and_then(serde_json::Value::as_i64)
            .unwrap_or_else(|| panic!("D1 {}: {sql}: no integer in the first row: {rows:?}", self.binding))
    }

    /// Runs statements (`;`-separated) for their effect: seeding, or a reset between tests.
    ///
    /// # Panics
    /// When a statement fails.
    pub fn execute(&self, sql: &str) {
        let _ = self.execute_json(sql);
    }
}

/// A local KV namespace of the Worker, by binding name: [`Worker::kv`].
#[derive(Debug, Clone, Copy)]
pub struct Kv<'w> {
    worker: &'w Worker,
    binding: &'w str,
}

impl Kv<'_> {
    /// The value stored under `key`, as text (through `wrangler kv key get --local`, which
    /// prints it with a newline; that one newline is taken off); `None` when there is none.
    ///
    /// # Panics
    /// When wrangler fails for another reason.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<String> {
        let args = ["kv", "key", "get", key, "--binding", self.binding, "--local", "--text"];
        let out = self
            .worker
            .storage_command(&args, "`wrangler kv key get --local`")
            .unwrap_or_else(|e| panic!("KV {}: get {key}: {e}", self.binding));
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        if text.trim() == "Value not found" || err.contains("Value not found") {
            return None;
        }
        assert!(out.status.success(), "KV {}: get {key}: {text}{err}", self.binding);
        // wrangler prints the value with a newline after it.
        Some(text.strip_suffix('\n').map(str::to_owned).unwrap_or(text))
    }
}

/// A local R2 bucket of the Worker, by binding name: [`Worker::r2`].
///
/// Each read runs `wrangler r2 object get <bucket>/<key> --local --persist-to <state> --pipe`
/// (about a second), the bucket name being the binding's `bucket_name` in the config.
#[derive(Debug, Clone, Copy)]
pub struct R2<'w> {
    worker: &'w Worker,
    binding: &'w str,
}

impl R2<'_> {
    /// The bytes of the object stored under `key` (the full key, as the Worker wrote it);
    /// `None` when there is none.
    ///
    /// # Panics
    /// When the config has no R2 binding of this name, or wrangler fails for another reason.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<Vec<u8>> {
        let bucket = crate::config::r2_bucket(self.worker.config_path(), self.binding)
            .unwrap_or_else(|e| panic!("R2 {}: {e}", self.binding))
            .unwrap_or_else(|| panic!("R2 {}: the config has no `[[r2_buckets]]` binding of this name", self.binding));
        let path = format!("{bucket}/{key}");
        let missing = |out: &std::process::Output| {
            String::from_utf8_lossy(&out.stderr).contains("The specified key does not exist")
                || String::from_utf8_lossy(&out.stdout).contains("The specified key does not exist")
        };
        let args = ["r2", "object", "get", path.as_str(), "--local", "--pipe"];
        let out = self
            .worker
            .storage_command_until(&args, "`wrangler r2 object get --local`", missing)
            .unwrap_or_else(|e| panic!("R2 {}: get {key}: {e}", self.binding));
        if !out.status.success() && missing(&out) {
            return None;
        }
        assert!(
            out.status.success(),
            "R2 {}: get {key}: {}{}",
            self.binding,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        Some(out.stdout)
    }

    /// [`get`](Self::get) as UTF-8 text.
    ///
    /// # Panics
    /// As `get` does, and when the object is not UTF-8.
    #[must_use]
    pub fn get_text(&self, key: &str) -> Option<String> {
        self.get(key)
            .map(|b| String::from_utf8(b).unwrap_or_else(|e| panic!("R2 {}: {key} is not UTF-8: {e}", self.binding)))
    }
}
