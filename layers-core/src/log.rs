//! Three-layer logs: one JSON line per layer event, tagged with the request's `cf-ray`.
//!
//! `{"layer":"request",…}`, `{"layer":"identity","verifier":…,"outcome":…}`,
//! `{"layer":"storage","binding":…,"op":…,"ms":…}`. Lines carry route *patterns*, never raw
//! paths, and never a secret, token, cookie or header value.

use serde_json::{json, Value};

/// Milliseconds since the Unix epoch (in Workers, time advances across I/O only).
#[must_use]
pub fn now_ms() -> u64 {
    #[cfg(target_arch = "wasm32")]
    {
        worker::Date::now().as_millis()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }
}

fn emit(v: &Value) {
    #[cfg(target_arch = "wasm32")]
    worker::console_log!("{}", v);
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("{v}");
}

/// The per-request fields every line carries.
#[derive(Debug, Clone)]
pub(crate) struct LogCx {
    pub(crate) ray: String,
    pub(crate) method: String,
    pub(crate) route: &'static str,
    /// `Some("scheduled" | "queue")` for platform events (then `route` is the cron or queue).
    pub(crate) event: Option<&'static str>,
}

impl LogCx {
    fn emit(&self, mut v: Value) {
        if let Some(ev) = self.event {
            // Platform events tag every line `"event": "scheduled" | "queue"`; a line that had
            // its own `event` (a handler error) keeps it as its outcome.
            if let Some(own) = v.get("event").cloned() {
                v["outcome"] = own;
            }
            v["event"] = ev.into();
        }
        emit(&v);
    }

    pub(crate) fn request(&self, status: u16, ms: u64, outcome: &str) {
        self.emit(json!({
            "layer": "request", "ray": self.ray, "method": self.method, "route": self.route,
            "status": status, "outcome": outcome, "ms": ms,
        }));
    }

    /// A request line with extra fields (a queue batch's message count and attempts).
    pub(crate) fn request_with(&self, status: u16, ms: u64, outcome: &str, extra: &[(&str, Value)]) {
        let mut v = json!({
            "layer": "request", "ray": self.ray, "method": self.method, "route": self.route,
            "status": status, "outcome": outcome, "ms": ms,
        });
        for (k, x) in extra {
            v[*k] = x.clone();
        }
        self.emit(v);
    }

    pub(crate) fn identity(&self, verifier: &str, result: Result<(), (u16, &str)>, ms: u64) {
        let mut v = json!({
            "layer": "identity", "ray": self.ray, "method": self.method, "route": self.route,
            "verifier": verifier, "ms": ms,
        });
        match result {
            Ok(()) => v["outcome"] = "allow".into(),
            Err((status, detail)) => {
                v["outcome"] = "deny".into();
                v["status"] = status.into();
                v["detail"] = detail.into();
            }
        }
        self.emit(v);
    }

    pub(crate) fn storage(&self, kind: &str, binding: &str, op: &str, ms: u64, error: Option<&str>) {
        let mut v = json!({
            "layer": "storage", "ray": self.ray, "method": self.method, "route": self.route,
            "kind": kind, "binding": binding, "op": op, "ms": ms,
            "outcome": if error.is_some() { "error" } else { "ok" },
        });
        if let Some(e) = error {
            v["error"] = e.into();
        }
        self.emit(v);
    }

    /// A storage line with extra fields (e.g. the AI model or a vector count) — never inputs.
    pub(crate) fn storage_with(
        &self,
        kind: &str,
        binding: &str,
        op: &str,
        ms: u64,
        error: Option<&str>,
        extra: &[(&str, Value)],
    ) {
        let mut v = json!({
            "layer": "storage", "ray": self.ray, "method": self.method, "route": self.route,
            "kind": kind, "binding": binding, "op": op, "ms": ms,
            "outcome": if error.is_some() { "error" } else { "ok" },
        });
        for (k, x) in extra {
            v[*k] = x.clone();
        }
        if let Some(e) = error {
            v["error"] = e.into();
        }
        self.emit(v);
    }

    pub(crate) fn error(&self, status: u16, detail: &str) {
        self.emit(json!({
            "layer": "request", "ray": self.ray, "method": self.method, "route": self.route,
            "event": "handler_error", "status": status, "detail": detail,
        }));
    }

    /// A request-layer line about one step of a platform event (a message that did not
    /// decode, a cron with no handler…), with extra fields.
    pub(crate) fn note(&self, outcome: &str, extra: &[(&str, Value)]) {
        let mut v = json!({
            "layer": "request", "ray": self.ray, "method": self.method, "route": self.route,
            "outcome": outcome,
        });
        for (k, x) in extra {
            v[*k] = x.clone();
        }
        self.emit(v);
    }
}
