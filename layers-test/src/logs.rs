//! The Worker's log, read back: wrangler's output goes to a file of the run, and the
//! framework's wide events (one JSON line per request, cron run, queue batch or Durable Object
//! call; see `layers_core::log`) are read from it.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

/// One wide event of the Worker's log: a request (or cron run, queue batch, Durable Object
/// call) with its `request`, `identity` and `storage` sections.
///
/// ```
/// # let e = layers_test::LogEvent::from_value(serde_json::json!({"ray": "r", "event": "fetch",
/// #   "method": "POST", "route": "/admin/flags/:name", "request": {"status": 403, "outcome": "denied"},
/// #   "identity": {"verifier": "AccessJwt", "outcome": "deny", "status": 403}, "storage": []})).unwrap();
/// e.assert_denied_before_storage();
/// assert_eq!(e.route(), "/admin/flags/:name");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct LogEvent(Value);

impl LogEvent {
    /// The event, when `v` is one (`ray`, `event`, `request`, `identity`, `storage`).
    #[must_use]
    pub fn from_value(v: Value) -> Option<LogEvent> {
        let is_event = v.get("ray").is_some_and(Value::is_string)
            && v.get("event").is_some_and(Value::is_string)
            && v.get("request").is_some()
            && v.get("identity").is_some()
            && v.get("storage").is_some_and(Value::is_array);
        is_event.then_some(LogEvent(v))
    }

    /// The whole event as logged.
    #[must_use]
    pub fn raw(&self) -> &Value {
        &self.0
    }

    /// `fetch`, `scheduled`, `queue` or `durable_object`.
    #[must_use]
    pub fn event(&self) -> &str {
        self.0["event"].as_str().unwrap_or_default()
    }

    /// The route pattern (or the cron, the queue, the Durable Object class); `-` when no route
    /// matched.
    #[must_use]
    pub fn route(&self) -> &str {
        self.0["route"].as_str().unwrap_or_default()
    }

    /// The `cf-ray` of the request (`-` for platform events).
    #[must_use]
    pub fn ray(&self) -> &str {
        self.0["ray"].as_str().unwrap_or_default()
    }

    /// The status answered.
    #[must_use]
    pub fn status(&self) -> Option<u16> {
        self.0["request"]["status"].as_u64().and_then(|s| u16::try_from(s).ok())
    }

    /// The request's outcome: `handled`, `denied`, `not_found`, `body_rejected`, …
    #[must_use]
    pub fn outcome(&self) -> Option<&str> {
        self.0["request"]["outcome"].as_str()
    }

    /// The identity section (`verifier`, `outcome` `allow`/`deny`, `status`, `detail`);
    /// `None` when the request never reached a verifier.
    #[must_use]
    pub fn identity(&self) -> Option<&Value> {
        Some(&self.0["identity"]).filter(|v| !v.is_null())
    }

    /// The verifier that ran, by its name in logs.
    #[must_use]
    pub fn verifier(&self) -> Option<&str> {
        self.identity().and_then(|i| i["verifier"].as_str())
    }

    /// Whether the verifier allowed the request.
    #[must_use]
    pub fn identity_allowed(&self) -> bool {
        self.identity().is_some_and(|i| i["outcome"] == "allow")
    }

    /// Whether the verifier denied the request.
    #[must_use]
    pub fn identity_denied(&self) -> bool {
        self.identity().is_some_and(|i| i["outcome"] == "deny")
    }

    /// Every storage operation, in order (`kind`, `binding`, `op`, `ms`, `outcome`, and
    /// `"after": true` for `After` work).
    #[must_use]
    pub fn storage(&self) -> &[Value] {
        self.0["storage"].as_array().map_or(&[], Vec::as_slice)
    }

    /// The storage operations on one binding (`"DB"`, `"KV"`, …).
    #[must_use]
    pub fn storage_on(&self, binding: &str) -> Vec<&Value> {
        self.storage().iter().filter(|s| s["binding"] == binding).collect()
    }

    /// Handler errors and misconfigurations logged with the event.
    #[must_use]
    pub fn errors(&self) -> &[Value] {
        self.0["errors"].as_array().map_or(&[], Vec::as_slice)
    }

    /// The event read layer by layer, in the order the layers ran: `{"layer":"request"…}`,
    /// `{"layer":"identity"…}`, one `{"layer":"storage"…}` per operation, then errors and
    /// notes — each with the event's `ray`, `event`, `method` and `route`.
    #[must_use]
    pub fn records(&self) -> Vec<Value> {
        let ev = &self.0;
        let mut out = Vec::new();
        let mut push = |layer: &str, fields: &Value| {
            let mut v = serde_json::json!({ "layer": layer });
            for k in ["ray", "event", "method", "route"] {
                v[k] = ev[k].clone();
            }
            for (k, x) in fields.as_object().into_iter().flatten() {
                if v.get(k).is_none() {
                    v[k] = x.clone();
                }
            }
            out.push(v);
        };
        if !ev["request"].is_null() {
            push("request", &ev["request"]);
        }
        if !ev["identity"].is_null() {
            push("identity", &ev["identity"]);
        }
        for (layer, key) in [("storage", "storage"), ("error", "errors"), ("note", "notes")] {
            for item in ev[key].as_array().into_iter().flatten() {
                push(layer, item);
            }
        }
        out
    }

    /// Asserts the order the framework promises for a refusal: the verifier denied the request
    /// and not one storage operation happened (handles are only opened with claims in hand).
    ///
    /// # Panics
    /// When the identity did not deny, or any storage operation is logged.
    #[track_caller]
    pub fn assert_denied_before_storage(&self) -> &Self {
        assert!(self.identity_denied(), "identity did not deny: {}", self.0);
        assert!(self.storage().is_empty(), "storage was touched on a denied request: {}", self.0);
        self
    }
}

/// The wide events in a log text, in order.
pub(crate) fn events(text: &str) -> Vec<LogEvent> {
    text.lines()
        .filter_map(|l| {
            let l = l.trim();
            // A JSON line, possibly after wrangler's own prefix.
            let start = l.find('{')?;
            serde_json::from_str::<Value>(&l[start..]).ok()
        })
        .filter_map(LogEvent::from_value)
        .collect()
}

/// Waits until an event in the log at `path` satisfies `pred` (checked every 50 ms).
pub(crate) fn wait_for(path: &Path, timeout: Duration, pred: impl Fn(&LogEvent) -> bool) -> Option<LogEvent> {
    let start = Instant::now();
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if let Some(e) = events(&text).into_iter().find(|e| pred(e)) {
            return Some(e);
        }
        if start.elapsed() >= timeout {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A position in the log: the events written after it are the ones a wait looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogMark(pub(crate) usize);

/// The events after `mark` in the log at `path`.
pub(crate) fn since(path: &Path, mark: LogMark) -> Vec<LogEvent> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    events(&text).into_iter().skip(mark.0).collect()
}

#[cfg(test)]
mod tests {
    use super::events;

    #[test]
    fn reads_wide_events_and_skips_other_lines() {
        let text = "[wrangler:info] Ready on http://127.0.0.1:1\n\
            {\"ray\":\"a\",\"event\":\"fetch\",\"method\":\"GET\",\"route\":\"/\",\"request\":{\"status\":200},\"identity\":null,\"storage\":[]}\n\
            {\"layer\":\"app\",\"msg\":\"x\"}\n\
            [wrangler:info] GET / 200 OK (3ms)\n";
        let ev = events(text);
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].ray(), "a");
        assert_eq!(ev[0].status(), Some(200));
        assert!(ev[0].identity().is_none());
        assert_eq!(ev[0].records().len(), 1);
    }
}
