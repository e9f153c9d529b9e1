//! Three-layer logs: **one wide JSON event** per request (and per cron run, queue batch or
//! Durable Object call), written when its scope ends — after its `After` work — so that the
//! three layers of one request read together, and can be walked in reverse (storage error?
//! identity? request?) in one object:
//!
//! ```json
//! {"ray":"8f1c…","event":"fetch","method":"POST","route":"/api/subscribe",
//!  "request":{"status":200,"outcome":"handled","ms":12},
//!  "identity":{"verifier":"Turnstile","outcome":"allow","ms":9},
//!  "storage":[{"kind":"D1","binding":"DB","op":"run","ms":2,"outcome":"ok"},
//!             {"kind":"Queue","binding":"JOBS","op":"send","ms":1,"outcome":"ok","after":true}]}
//! ```
//!
//! - `event`: `fetch`, `scheduled`, `queue` or `durable_object`; `route` is the route *pattern*
//!   (or the cron, the queue, the Durable Object class) — never the raw path, `-` when no route
//!   matched.
//! - `request`: the status answered, the outcome (`handled`, `denied`, `not_found`,
//!   `body_rejected`, …), `ms` until the answer; `scope_ms` when `After` work ran past it. A queue
//!   batch adds `messages` and `attempts`.
//! - `identity`: the verifier, `allow` or `deny` (with the status and the reason, for the log
//!   only); `null` when the request never reached a verifier.
//! - `storage`: every operation in order — kind, binding, op, `ms`, `ok`/`error` (with the
//!   error) — those of `After` work marked `"after":true`.
//! - `errors` (handler errors, misconfiguration) and `notes` (a message that did not decode, a
//!   cron without a handler, …) when there are any.
//!
//! `LAYERS_LOG = "errors"` writes only the events of requests that went wrong: a status of 400
//! or more, a denial, a storage error, an error or a note. Events carry no secret, token,
//! cookie, header or body value.

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
/// natively), beside the framework's events. Put `"layer": "app"` in it so readers can tell
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

/// One JSON object being written: `{"key":value,…}` in the order the fields come. A field
/// whose key was already written is left out (the first value stands), so a caller's extra
/// fields can never make a key appear twice.
struct Obj<'o> {
    out: &'o mut String,
    /// Where each key written so far sits in `out` (escaped, without its quotes' meaning).
    keys: Vec<std::ops::Range<usize>>,
}

impl<'o> Obj<'o> {
    fn open(out: &'o mut String) -> Obj<'o> {
        out.push('{');
        Obj { out, keys: Vec::new() }
    }

    /// Writes `"key":` (and the comma before it); `false` when `key` is already there.
    fn key(&mut self, key: &str) -> bool {
        let mark = self.out.len();
        if !self.keys.is_empty() {
            self.out.push(',');
        }
        let start = self.out.len();
        push_json_str(self.out, key);
        let written = start..self.out.len();
        if self.keys.iter().any(|r| self.out[r.clone()] == self.out[written.clone()]) {
            self.out.truncate(mark);
            return false;
        }
        self.keys.push(written);
        self.out.push(':');
        true
    }

    fn str(&mut self, key: &str, v: &str) -> &mut Self {
        if self.key(key) {
            push_json_str(self.out, v);
        }
        self
    }

    fn num(&mut self, key: &str, v: u64) -> &mut Self {
        use std::fmt::Write as _;
        if self.key(key) {
            let _ = write!(self.out, "{v}");
        }
        self
    }

    fn flag(&mut self, key: &str) -> &mut Self {
        if self.key(key) {
            self.out.push_str("true");
        }
        self
    }

    fn extra(&mut self, extra: &[(&str, Value)]) -> &mut Self {
        use std::fmt::Write as _;
        for (k, v) in extra {
            if self.key(k) {
                // A `Value` always serializes (its map keys are strings); `Display` is compact JSON.
                let _ = write!(self.out, "{v}");
            }
        }
        self
    }

    fn close(&mut self) {
        self.out.push('}');
    }
}

/// What one scope has recorded so far, each section already written as JSON.
#[derive(Debug, Default)]
struct Wide {
    /// The `request` object, once the scope answered.
    request: Option<String>,
    /// The `identity` object, once a verifier decided.
    identity: Option<String>,
    /// The `storage` operations, as `{…},{…}`.
    storage: String,
    /// The `errors`, as `{…},{…}`.
    errors: String,
    /// The `notes`, as `{…},{…}`.
    notes: String,
    /// Something went wrong: written even in errors-only mode.
    failed: bool,
    /// The scope has answered: what it records now is `After` work.
    answered: bool,
    /// Some storage operation ran after the answer.
    after: bool,
}

/// Appends one object to a `{…},{…}` list.
fn push_item(list: &mut String, write: impl FnOnce(&mut Obj<'_>)) {
    if !list.is_empty() {
        list.push(',');
    }
    let mut o = Obj::open(list);
    write(&mut o);
    o.close();
}

/// One scope's event: a request, a cron run, a queue batch or a Durable Object call. Every
/// layer records into it (handles hold it in an `Rc`), and it is written — once — when the
/// last holder lets go of it: the end of the scope, after its `After` work.
#[derive(Debug)]
pub(crate) struct LogCx {
    ray: Ray,
    method: String,
    /// The route pattern (or cron, queue, class) once known; `-` before.
    pub(crate) route: &'static str,
    /// `"fetch"`, `"scheduled"`, `"queue"` or `"durable_object"`.
    event: &'static str,
    /// `LAYERS_LOG = "errors"`: only events of scopes that went wrong are written (see [`quiet_from`]).
    quiet: bool,
    /// When the scope began, ms since the epoch.
    t0: u64,
    wide: std::cell::RefCell<Wide>,
}

/// The request's `cf-ray`, read from its headers only when an event is written (a request that
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
/// `"errors"`: write only the events of scopes that went wrong — a status of 400 or more, an
/// identity denial, a storage error, a handler error or a note. Anything else, or no var,
/// writes every event (the default: one per request). An unknown value means more logs,
/// never fewer.
pub(crate) fn quiet_from(value: Option<&str>) -> bool {
    value.is_some_and(|v| v.trim().eq_ignore_ascii_case("errors"))
}

impl LogCx {
    /// The event of a scope that begins now. `event`: `"fetch"`, `"scheduled"`, `"queue"` or
    /// `"durable_object"`; `method`: the request's (or the event's name, upper-case).
    pub(crate) fn new(ray: Ray, method: String, route: &'static str, event: &'static str, quiet: bool) -> LogCx {
        LogCx { ray, method, route, event, quiet, t0: now_ms(), wide: std::cell::RefCell::default() }
    }

    /// The event as written, or `None` when errors-only mode leaves it out.
    fn render(&self) -> Option<String> {
        let w = self.wide.borrow();
        if self.quiet && !w.failed {
            return None;
        }
        let mut out = String::with_capacity(
            96 + self.route.len()
                + w.request.as_ref().map_or(4, String::len)
                + w.identity.as_ref().map_or(4, String::len)
                + w.storage.len()
                + w.errors.len()
                + w.notes.len(),
        );
        let mut o = Obj::open(&mut out);
        o.str("ray", self.ray.get()).str("event", self.event).str("method", &self.method).str("route", self.route);
        o.key("request");
        match &w.request {
            Some(r) if w.after => {
                // `ms` is the time to the answer; the scope, with its `After` work, took longer.
                o.out.push_str(&r[..r.len() - 1]);
                o.out.push_str(",\"scope_ms\":");
                o.out.push_str(&now_ms().saturating_sub(self.t0).to_string());
                o.out.push('}');
            }
            Some(r) => o.out.push_str(r),
            None => o.out.push_str("null"),
        }
        o.key("identity");
        o.out.push_str(w.identity.as_deref().unwrap_or("null"));
        o.key("storage");
        o.out.push('[');
        o.out.push_str(&w.storage);
        o.out.push(']');
        for (key, list) in [("errors", &w.errors), ("notes", &w.notes)] {
            if !list.is_empty() {
                o.key(key);
                o.out.push('[');
                o.out.push_str(list);
                o.out.push(']');
            }
        }
        o.close();
        Some(out)
    }

    fn set_request(&self, status: u16, ms: u64, outcome: &str, extra: &[(&str, Value)]) {
        let mut w = self.wide.borrow_mut();
        w.failed |= status >= 400;
        w.answered = true;
        let mut r = String::with_capacity(48 + outcome.len());
        let mut o = Obj::open(&mut r);
        o.num("status", status.into()).str("outcome", outcome).num("ms", ms).extra(extra).close();
        // The first answer stands (a later one would be about the same scope's cleanup).
        if w.request.is_none() {
            w.request = Some(r);
        }
    }

    /// The scope answered `status` after `ms` (its `outcome`: `handled`, `denied`, …).
    pub(crate) fn request(&self, status: u16, ms: u64, outcome: &str) {
        self.set_request(status, ms, outcome, &[]);
    }

    /// The request section with extra fields (a queue batch's message count and attempts).
    pub(crate) fn request_with(&self, status: u16, ms: u64, outcome: &str, extra: &[(&str, Value)]) {
        self.set_request(status, ms, outcome, extra);
    }

    /// The verifier's decision.
    pub(crate) fn identity(&self, verifier: &str, result: Result<(), (u16, &str)>, ms: u64) {
        let mut w = self.wide.borrow_mut();
        let mut r = String::with_capacity(64);
        let mut o = Obj::open(&mut r);
        o.str("verifier", verifier);
        match result {
            Ok(()) => o.str("outcome", "allow"),
            Err((status, detail)) => {
                w.failed = true;
                o.str("outcome", "deny").num("status", status.into()).str("detail", detail)
            }
        };
        o.num("ms", ms).close();
        w.identity = Some(r);
    }

    /// One storage operation.
    pub(crate) fn storage(&self, kind: &str, binding: &str, op: &str, ms: u64, error: Option<&str>) {
        self.storage_with(kind, binding, op, ms, error, &[]);
    }

    /// One storage operation with extra fields (e.g. the AI model or a vector count) — never inputs.
    pub(crate) fn storage_with(
        &self,
        kind: &str,
        binding: &str,
        op: &str,
        ms: u64,
        error: Option<&str>,
        extra: &[(&str, Value)],
    ) {
        self.storage_outcome(kind, binding, op, ms, if error.is_some() { "error" } else { "ok" }, error, extra);
    }

    /// One storage operation with an outcome of its own (a flag read that fell back to its
    /// default: `fallback`, with KV's error).
    #[allow(clippy::too_many_arguments)] // the fields of one record
    pub(crate) fn storage_outcome(
        &self,
        kind: &str,
        binding: &str,
        op: &str,
        ms: u64,
        outcome: &str,
        error: Option<&str>,
        extra: &[(&str, Value)],
    ) {
        let mut w = self.wide.borrow_mut();
        w.failed |= error.is_some();
        let after = w.answered;
        w.after |= after;
        push_item(&mut w.storage, |o| {
            o.str("kind", kind).str("binding", binding).str("op", op).num("ms", ms).str("outcome", outcome);
            if let Some(e) = error {
                o.str("error", e);
            }
            o.extra(extra);
            if after {
                o.flag("after");
            }
        });
    }

    /// An error of the scope (a handler's, a misconfiguration), with the detail for the log.
    pub(crate) fn error(&self, status: u16, detail: &str) {
        let mut w = self.wide.borrow_mut();
        w.failed = true;
        push_item(&mut w.errors, |o| {
            o.num("status", status.into()).str("detail", detail);
        });
    }

    /// A note about one step of a platform event (a message that did not decode, a cron with
    /// no handler…), with extra fields.
    pub(crate) fn note(&self, outcome: &str, extra: &[(&str, Value)]) {
        let mut w = self.wide.borrow_mut();
        w.failed = true;
        push_item(&mut w.notes, |o| {
            o.str("outcome", outcome).extra(extra);
        });
    }
}

impl Drop for LogCx {
    /// The end of the scope: the event is written.
    fn drop(&mut self) {
        if let Some(line) = self.render() {
            emit(&line);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cx(ray: &str, event: &'static str, quiet: bool) -> LogCx {
        LogCx::new(Ray::known(ray), "GET".to_owned(), "/a/:b", event, quiet)
    }

    /// The event as a `Value` (it must parse as JSON), with its `scope_ms` (a time) checked
    /// and taken out.
    fn parsed(cx: &LogCx) -> Value {
        let line = cx.render().expect("written");
        assert!(!line.contains('\n'), "one line: {line}");
        let mut v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
        if let Some(r) = v["request"].as_object_mut() {
            if let Some(ms) = r.remove("scope_ms") {
                assert!(ms.is_u64(), "{line}");
            }
        }
        v
    }

    #[test]
    fn errors_only_mode_writes_the_events_that_went_wrong() {
        assert!(quiet_from(Some("errors")) && quiet_from(Some(" Errors ")));
        for v in [None, Some(""), Some("all"), Some("error"), Some("none"), Some("off")] {
            assert!(!quiet_from(v), "{v:?} must keep every event");
        }
        // Went well: written by default, not in errors-only mode.
        for quiet in [false, true] {
            let c = cx("r", "fetch", quiet);
            c.identity("Public", Ok(()), 0);
            c.storage("D1", "DB", "first", 1, None);
            c.request(200, 1, "handled");
            assert_eq!(c.render().is_some(), !quiet);
        }
        // Each way of going wrong is written in errors-only mode.
        let wrong: [fn(&LogCx); 5] = [
            |c| c.request(404, 0, "not_found"),
            |c| c.identity("AccessJwt", Err((403, "bad signature")), 0),
            |c| c.storage("KV", "CACHE", "get", 0, Some("boom")),
            |c| c.error(500, "misconfigured"),
            |c| c.note("no_handler", &[]),
        ];
        for f in wrong {
            let c = cx("r", "fetch", true);
            c.request(200, 0, "handled");
            f(&c);
            assert!(c.render().is_some());
        }
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
    fn one_event_holds_the_three_layers_in_order() {
        let c = cx("r\"ay\n", "fetch", false);
        c.identity("AccessJwt<Admin>", Ok(()), 3);
        c.storage("D1", "DB", "first", 2, None);
        c.storage_with("Ai", "AI", "run", 7, Some("no \"model\""), &[("model", json!("@cf/x")), ("ms", json!(99))]);
        c.request(200, 12, "handled");
        c.storage("Queue", "JOBS", "send", 1, None);
        let v = parsed(&c);
        assert_eq!(
            v,
            json!({
                "ray": "r\"ay\n", "event": "fetch", "method": "GET", "route": "/a/:b",
                "request": {"status": 200, "outcome": "handled", "ms": 12},
                "identity": {"verifier": "AccessJwt<Admin>", "outcome": "allow", "ms": 3},
                "storage": [
                    {"kind": "D1", "binding": "DB", "op": "first", "ms": 2, "outcome": "ok"},
                    // An extra field never replaces one of the event's own (`ms` stays 7).
                    {"kind": "Ai", "binding": "AI", "op": "run", "ms": 7, "outcome": "error",
                     "error": "no \"model\"", "model": "@cf/x"},
                    {"kind": "Queue", "binding": "JOBS", "op": "send", "ms": 1, "outcome": "ok", "after": true},
                ],
            })
        );
        // The sections come in the order of the layers.
        let line = c.render().unwrap();
        let at = |k: &str| line.find(&format!("\"{k}\":")).unwrap();
        assert!(at("ray") < at("request") && at("request") < at("identity") && at("identity") < at("storage"));
        // `After` work ran: the scope's own duration is there too.
        assert!(line.contains("\"scope_ms\":"), "{line}");
    }

    #[test]
    fn a_scope_that_stops_early_says_which_layers_it_never_reached() {
        let c = cx("-", "fetch", false);
        c.request(404, 0, "not_found");
        assert_eq!(
            parsed(&c),
            json!({"ray": "-", "event": "fetch", "method": "GET", "route": "/a/:b",
                   "request": {"status": 404, "outcome": "not_found", "ms": 0}, "identity": null, "storage": []})
        );
        let c = cx("-", "fetch", false);
        c.identity("ApiKey", Err((401, "no key")), 1);
        c.request(401, 1, "denied");
        c.request(500, 1, "later");
        let v = parsed(&c);
        assert_eq!(
            v["identity"],
            json!({"verifier": "ApiKey", "outcome": "deny", "status": 401, "detail": "no key", "ms": 1})
        );
        assert_eq!(v["request"]["status"], 401, "the first answer stands");
        assert_eq!(v["storage"], json!([]));
    }

    #[test]
    fn platform_events_carry_their_extras_errors_and_notes() {
        let c = LogCx::new(Ray::known("-"), "QUEUE".to_owned(), "jobs", "queue", false);
        c.identity("System", Ok(()), 0);
        c.note("message_undecodable", &[("message_id", json!("m1")), ("attempts", json!(2))]);
        c.error(500, "handler \u{1} failed");
        c.request_with(
            500,
            4,
            "handler_error",
            &[("messages", json!(3)), ("attempts", json!(2)), ("status", json!(1))],
        );
        c.note("batch_retried", &[("messages", json!(2))]);
        assert_eq!(
            parsed(&c),
            json!({
                "ray": "-", "event": "queue", "method": "QUEUE", "route": "jobs",
                "request": {"status": 500, "outcome": "handler_error", "ms": 4, "messages": 3, "attempts": 2},
                "identity": {"verifier": "System", "outcome": "allow", "ms": 0},
                "storage": [],
                "errors": [{"status": 500, "detail": "handler \u{1} failed"}],
                "notes": [{"outcome": "message_undecodable", "message_id": "m1", "attempts": 2},
                          {"outcome": "batch_retried", "messages": 2}],
            })
        );
    }

    #[test]
    fn keys_with_odd_characters_are_escaped_and_never_written_twice() {
        let mut out = String::new();
        let mut o = Obj::open(&mut out);
        o.str("a\"b", "1").str("a\"b", "2").extra(&[("x", json!({"a\"b": 1})), ("x", json!(2)), ("y", json!(null))]);
        o.close();
        assert_eq!(serde_json::from_str::<Value>(&out).unwrap(), json!({"a\"b": "1", "x": {"a\"b": 1}, "y": null}));
        assert_eq!(out.matches("\"x\"").count(), 1, "{out}");
    }
}
