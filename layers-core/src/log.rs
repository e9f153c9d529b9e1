//! Three-layer logs: one JSON line per layer event, tagged with the request's `cf-ray`.
//!
//! `{"layer":"request",…}`, `{"layer":"identity","verifier":…,"outcome":…}`,
//! `{"layer":"storage","binding":…,"op":…,"ms":…}`. Lines carry route *patterns*, never raw
//! paths, and never a secret, token, cookie or header value.

use serde_json::Value;

/// Milliseconds since the Unix epoch (in Workers, time advances across I/O only).
#[must_use]
pub fn now_ms() -> u64 {
    #[cfg(target_arch = "wasm32")]
    {
        // The static `Date.now()`: no `Date` object per call.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let ms = worker::js_sys::Date::now() as u64;
        ms
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }
}

fn emit(line: &str) {
    // One string handed to `console.log` as is (no `format!` copy).
    #[cfg(target_arch = "wasm32")]
    worker::web_sys::console::log_1(&worker::wasm_bindgen::JsValue::from_str(line));
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("{line}");
}

/// Writes one JSON line of the app's own to the Worker's log (`console.log` in Workers, stderr
/// natively), beside the framework's layer lines. Put `"layer": "app"` in it so readers can tell
/// it apart; never put secrets, tokens or personal data in it.
pub fn app_line(v: &serde_json::Value) {
    emit(&v.to_string());
}

/// `s` as a JSON string, escaped exactly as `serde_json` escapes it (`"`, `\\`, the short
/// escapes `\b \f \n \r \t`, other control characters as `\u00xx`; nothing else).
pub(crate) fn push_json_str(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    // Most values (names, patterns, rays, numbers as text) need no escape: copied whole.
    if !s.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        out.push_str(s);
        out.push('"');
        return;
    }
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let b = u32::from(c) as usize;
                out.push_str("\\u00");
                out.push(char::from(HEX[b >> 4]));
                out.push(char::from(HEX[b & 0xf]));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// One log line being built: fields with their values already rendered as JSON. Written
/// compact, keys in byte order — byte for byte what a `serde_json::Value` object of the same
/// fields prints (its map is a `BTreeMap`) — without building one: fields are kept sorted by
/// key, and a field set twice keeps its last value, as `v[key] = …` would. The values are
/// written one after another into one buffer (two allocations per line, not one per field).
struct Line<'a> {
    /// Every value written so far, as JSON, back to back (a replaced value stays, unused).
    values: String,
    /// Each field's key and the range of its value in `values`, sorted by key.
    fields: Vec<(&'a str, std::ops::Range<usize>)>,
}

impl<'a> Line<'a> {
    /// A line starting with the fields every line carries.
    fn new(layer: &'a str, cx: &'a LogCx) -> Line<'a> {
        let mut line = Line { values: String::with_capacity(160), fields: Vec::with_capacity(12) };
        line.str("layer", layer);
        line.str("ray", cx.ray.get());
        line.str("method", &cx.method);
        line.str("route", cx.route);
        line
    }

    /// Records that the value of `key` is what was written to `values` since `start`.
    fn set(&mut self, key: &'a str, start: usize) {
        let range = start..self.values.len();
        // Kept sorted by key as fields arrive (no sort pass when rendering).
        match self.fields.binary_search_by(|(k, _)| (*k).cmp(key)) {
            Ok(i) => self.fields[i].1 = range,
            Err(i) => self.fields.insert(i, (key, range)),
        }
    }

    fn raw(&mut self, key: &'a str, json: &str) {
        let start = self.values.len();
        self.values.push_str(json);
        self.set(key, start);
    }

    fn get(&self, key: &str) -> Option<String> {
        self.fields.iter().find(|(k, _)| *k == key).map(|(_, r)| self.values[r.clone()].to_owned())
    }

    fn str(&mut self, key: &'a str, v: &str) {
        let start = self.values.len();
        push_json_str(&mut self.values, v);
        self.set(key, start);
    }

    fn num(&mut self, key: &'a str, v: u64) {
        use std::fmt::Write as _;
        let start = self.values.len();
        let _ = write!(self.values, "{v}");
        self.set(key, start);
    }

    fn value(&mut self, key: &'a str, v: &Value) {
        use std::fmt::Write as _;
        // A `Value` always serializes (its map keys are strings); `Display` is compact JSON.
        let start = self.values.len();
        let _ = write!(self.values, "{v}");
        self.set(key, start);
    }

    fn extra(&mut self, extra: &'a [(&'a str, Value)]) {
        for (k, x) in extra {
            self.value(k, x);
        }
    }

    fn render(self) -> String {
        let mut out = String::with_capacity(self.values.len() + 12 * self.fields.len() + 2);
        out.push('{');
        for (i, (k, r)) in self.fields.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_json_str(&mut out, k);
            out.push(':');
            out.push_str(&self.values[r.clone()]);
        }
        out.push('}');
        out
    }
}

/// The per-request fields every line carries.
#[derive(Debug, Clone)]
pub(crate) struct LogCx {
    pub(crate) ray: Ray,
    pub(crate) method: String,
    pub(crate) route: &'static str,
    /// `Some("scheduled" | "queue")` for platform events (then `route` is the cron or queue).
    pub(crate) event: Option<&'static str>,
    /// `LAYERS_LOG = "errors"`: only refusals and failures are printed (see [`quiet_from`]).
    pub(crate) quiet: bool,
}

/// The request's `cf-ray`, read from its headers only when a line is printed (a request that
/// logs nothing never asks the runtime for it); `-` when absent.
#[derive(Clone)]
pub(crate) struct Ray {
    value: std::cell::OnceCell<String>,
    request: Option<worker::web_sys::Request>,
}

impl std::fmt::Debug for Ray {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Printing must not call into the runtime: a ray not read yet shows as unread.
        f.write_str(self.value.get().map_or("(unread)", String::as_str))
    }
}

impl Ray {
    /// A ray known up front (platform events: `-`; tests).
    pub(crate) fn known(ray: &str) -> Ray {
        Ray { value: std::cell::OnceCell::from(ray.to_owned()), request: None }
    }

    /// The `cf-ray` of this request, read from its headers on first use.
    pub(crate) fn of(request: &worker::web_sys::Request) -> Ray {
        // `Clone::clone`: another handle on the same JS object (`Request::clone` is the Fetch
        // method that tees the body).
        Ray { value: std::cell::OnceCell::new(), request: Some(Clone::clone(request)) }
    }

    pub(crate) fn get(&self) -> &str {
        self.value.get_or_init(|| {
            self.request
                .as_ref()
                .and_then(|r| r.headers().get("cf-ray").ok().flatten())
                .unwrap_or_else(|| "-".to_owned())
        })
    }
}

/// Whether the `LAYERS_LOG` var asks for errors only.
///
/// `"errors"`: print request lines with a 4xx/5xx status, identity denials, storage errors,
/// handler errors and event notes — not the lines of requests that went well. Anything else,
/// or no var, prints every line (the default: one line per layer per request). An unknown
/// value means more logs, never fewer.
pub(crate) fn quiet_from(value: Option<&str>) -> bool {
    value.is_some_and(|v| v.trim().eq_ignore_ascii_case("errors"))
}

impl LogCx {
    /// Whether a line about something that went well (`ok`) is left out: only in errors-only mode.
    /// Whether a line about something that went well (`ok`) or not is left out (errors-only
    /// mode drops the former). Callers check it before timing a line they may not print.
    pub(crate) fn skip(&self, ok: bool) -> bool {
        self.quiet && ok
    }

    fn emit(&self, line: Line<'_>) {
        emit(&self.finish(line));
    }

    /// The line as printed (platform events get their `event` tag here).
    fn finish(&self, mut line: Line<'_>) -> String {
        if let Some(ev) = self.event {
            // Platform events tag every line `"event": "scheduled" | "queue"`; a line that had
            // its own `event` (a handler error) keeps it as its outcome.
            if let Some(own) = line.get("event") {
                line.raw("outcome", &own);
            }
            line.str("event", ev);
        }
        line.render()
    }

    fn request_line<'a>(&'a self, status: u16, ms: u64, outcome: &str) -> Line<'a> {
        let mut line = Line::new("request", self);
        line.num("status", status.into());
        line.str("outcome", outcome);
        line.num("ms", ms);
        line
    }

    pub(crate) fn request(&self, status: u16, ms: u64, outcome: &str) {
        if self.skip(status < 400) {
            return;
        }
        self.emit(self.request_line(status, ms, outcome));
    }

    /// A request line with extra fields (a queue batch's message count and attempts).
    pub(crate) fn request_with(&self, status: u16, ms: u64, outcome: &str, extra: &[(&str, Value)]) {
        if self.skip(status < 400) {
            return;
        }
        let mut line = self.request_line(status, ms, outcome);
        line.extra(extra);
        self.emit(line);
    }

    pub(crate) fn identity(&self, verifier: &str, result: Result<(), (u16, &str)>, ms: u64) {
        if self.skip(result.is_ok()) {
            return;
        }
        let mut line = Line::new("identity", self);
        line.str("verifier", verifier);
        line.num("ms", ms);
        match result {
            Ok(()) => line.str("outcome", "allow"),
            Err((status, detail)) => {
                line.str("outcome", "deny");
                line.num("status", status.into());
                line.str("detail", detail);
            }
        }
        self.emit(line);
    }

    fn storage_line<'a>(&'a self, kind: &str, binding: &str, op: &str, ms: u64, error: Option<&str>) -> Line<'a> {
        let mut line = Line::new("storage", self);
        line.str("kind", kind);
        line.str("binding", binding);
        line.str("op", op);
        line.num("ms", ms);
        line.str("outcome", if error.is_some() { "error" } else { "ok" });
        line
    }

    pub(crate) fn storage(&self, kind: &str, binding: &str, op: &str, ms: u64, error: Option<&str>) {
        if self.skip(error.is_none()) {
            return;
        }
        let mut line = self.storage_line(kind, binding, op, ms, error);
        if let Some(e) = error {
            line.str("error", e);
        }
        self.emit(line);
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
        if self.skip(error.is_none()) {
            return;
        }
        let mut line = self.storage_line(kind, binding, op, ms, error);
        line.extra(extra);
        if let Some(e) = error {
            line.str("error", e);
        }
        self.emit(line);
    }

    pub(crate) fn error(&self, status: u16, detail: &str) {
        let mut line = Line::new("request", self);
        line.str("event", "handler_error");
        line.num("status", status.into());
        line.str("detail", detail);
        self.emit(line);
    }

    /// A request-layer line about one step of a platform event (a message that did not
    /// decode, a cron with no handler…), with extra fields.
    pub(crate) fn note(&self, outcome: &str, extra: &[(&str, Value)]) {
        let mut line = Line::new("request", self);
        line.str("outcome", outcome);
        line.extra(extra);
        self.emit(line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// What the lines looked like when they were built as `serde_json::Value`s.
    fn via_value(cx: &LogCx, mut v: Value) -> String {
        if let Some(ev) = cx.event {
            if let Some(own) = v.get("event").cloned() {
                v["outcome"] = own;
            }
            v["event"] = ev.into();
        }
        v.to_string()
    }

    fn cx(ray: &str, event: Option<&'static str>) -> LogCx {
        LogCx { ray: Ray::known(ray), method: "GET".to_owned(), route: "/a/:b", event, quiet: false }
    }

    #[test]
    fn errors_only_mode_keeps_refusals_and_failures() {
        assert!(quiet_from(Some("errors")) && quiet_from(Some(" Errors ")));
        for v in [None, Some(""), Some("all"), Some("error"), Some("none"), Some("off")] {
            assert!(!quiet_from(v), "{v:?} must keep every line");
        }
        let loud = cx("r", None);
        let quiet = LogCx { quiet: true, ..cx("r", None) };
        assert!(!loud.skip(true) && !loud.skip(false));
        assert!(quiet.skip(true) && !quiet.skip(false));
    }

    #[test]
    fn strings_escape_like_serde_json() {
        let mut all: String = (0u8..0x80).map(char::from).collect();
        all.push_str("é€😀\u{2028}\u{fffd}\"\\/");
        for s in [all.as_str(), "", "plain", "a\"b\\c\u{1}\u{1f}\u{7f}"] {
            let mut out = String::new();
            push_json_str(&mut out, s);
            assert_eq!(out, serde_json::to_string(s).unwrap());
        }
    }

    #[test]
    fn lines_match_serde_json_values() {
        for event in [None, Some("queue")] {
            let c = cx("r\"ay\n", event);
            let mut l = c.request_line(404, 7, "not_found");
            let extra = [("messages", json!(3)), ("ms", json!([1, "x"])), ("a", json!({"z": null, "b": true}))];
            l.extra(&extra);
            let want = via_value(
                &c,
                json!({"layer": "request", "ray": c.ray.get(), "method": c.method, "route": c.route, "status": 404,
                       "outcome": "not_found", "ms": [1, "x"], "messages": 3, "a": {"z": null, "b": true}}),
            );
            assert_eq!(c.finish(l), want);

            let mut l = Line::new("request", &c);
            l.str("event", "handler_error");
            l.num("status", 500);
            l.str("detail", "boom \u{1}");
            let want = via_value(
                &c,
                json!({"layer": "request", "ray": c.ray.get(), "method": c.method, "route": c.route,
                       "event": "handler_error", "status": 500, "detail": "boom \u{1}"}),
            );
            assert_eq!(c.finish(l), want);

            let mut l = c.storage_line("D1", "DB", "first", u64::MAX, Some("no such table"));
            l.str("error", "no such table");
            let want = via_value(
                &c,
                json!({"layer": "storage", "ray": c.ray.get(), "method": c.method, "route": c.route, "kind": "D1",
                       "binding": "DB", "op": "first", "ms": u64::MAX, "outcome": "error", "error": "no such table"}),
            );
            assert_eq!(c.finish(l), want);
        }
    }
}
