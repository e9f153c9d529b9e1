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
}

impl LogCx {
    pub(crate) fn request(&self, status: u16, ms: u64, outcome: &str) {
        emit(&json!({
            "layer": "request", "ray": self.ray, "method": self.method, "route": self.route,
            "status": status, "outcome": outcome, "ms": ms,
        }));
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
        emit(&v);
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
        emit(&v);
    }

    pub(crate) fn error(&self, status: u16, detail: &str) {
        emit(&json!({
            "layer": "request", "ray": self.ray, "method": self.method, "route": self.route,
            "event": "handler_error", "status": status, "detail": detail,
        }));
    }
}
