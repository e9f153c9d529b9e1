//! Errors a handler returns: a status and a short public message; detail only for the log.

use std::borrow::Cow;
use std::fmt;

/// An HTTP error. The client gets `status` and the public message (for 5xx always a generic
/// one); `detail` is written to the log and never sent.
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    status: u16,
    public: Cow<'static, str>,
    detail: Option<String>,
    /// Sent as RFC 9457 `application/problem+json` (4xx only) instead of plain text.
    problem: bool,
}

/// The result type handlers return.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error with `status` and a public message (ignored for 5xx, which say only
    /// "internal error" or "service unavailable").
    pub fn new(status: u16, public: impl Into<Cow<'static, str>>) -> Error {
        Error { status, public: public.into(), detail: None, problem: false }
    }
    /// 400 Bad Request with a public message.
    pub fn bad_request(public: impl Into<Cow<'static, str>>) -> Error {
        Error::new(400, public)
    }
    /// 404 Not Found.
    #[must_use]
    pub fn not_found() -> Error {
        Error::new(404, "not found")
    }
    /// 500 with a detail for the log.
    pub fn internal(detail: impl Into<String>) -> Error {
        Error { status: 500, public: Cow::Borrowed("internal error"), detail: Some(detail.into()), problem: false }
    }
    /// An error the client gets as RFC 9457 `application/problem+json`:
    /// `{"type":"about:blank","title":<status phrase>,"status":…,"detail":<public>}`. The public
    /// text must name what is wrong without repeating the client's input. 5xx stay generic
    /// plain text.
    pub fn problem(status: u16, public: impl Into<Cow<'static, str>>) -> Error {
        Error { problem: true, ..Error::new(status, public) }
    }
    /// The same error, rendered as problem+json when it is a 4xx.
    #[must_use]
    pub fn into_problem(mut self) -> Error {
        self.problem = true;
        self
    }
    /// Whether the client gets `application/problem+json` (only 4xx are rendered so).
    #[must_use]
    pub fn is_problem(&self) -> bool {
        self.problem && (400..500).contains(&self.status)
    }
    /// The RFC 9457 body for a problem error (`None` unless [`Error::is_problem`]).
    #[must_use]
    pub fn problem_json(&self) -> Option<String> {
        if !self.is_problem() {
            return None;
        }
        // Written by hand, byte for byte what `serde_json::json!({..}).to_string()` printed
        // (keys in byte order, compact), without building a `serde_json::Value`.
        let mut body = String::with_capacity(96);
        body.push_str("{\"detail\":");
        crate::log::push_json_str(&mut body, self.public_message());
        body.push_str(",\"status\":");
        body.push_str(&self.status.to_string());
        body.push_str(",\"title\":");
        crate::log::push_json_str(&mut body, status_title(self.status));
        body.push_str(",\"type\":\"about:blank\"}");
        Some(body)
    }
    /// Adds a detail for the log.
    #[must_use]
    pub fn with_detail(mut self, detail: impl Into<String>) -> Error {
        self.detail = Some(detail.into());
        self
    }
    /// The HTTP status.
    #[must_use]
    pub fn status(&self) -> u16 {
        self.status
    }
    /// What the client is told.
    #[must_use]
    pub fn public_message(&self) -> &str {
        match self.status {
            503 => "service unavailable",
            500..=599 => "internal error",
            _ => &self.public,
        }
    }
    /// The detail for the log, if any.
    #[must_use]
    pub fn detail(&self) -> Option<&str> {
        self.detail.as_deref()
    }
}

/// The status phrase RFC 9457 asks `title` to be for `about:blank` problems.
fn status_title(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Content",
        429 => "Too Many Requests",
        _ => "Client Error",
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Error({} {:?}", self.status, self.public)?;
        if let Some(d) = &self.detail {
            write!(f, ", detail: {d:?}")?;
        }
        f.write_str(")")
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status, self.public_message())
    }
}

impl std::error::Error for Error {}

impl From<worker::Error> for Error {
    fn from(e: worker::Error) -> Error {
        Error::internal(e.to_string())
    }
}

impl From<worker::KvError> for Error {
    fn from(e: worker::KvError) -> Error {
        Error::internal(format!("kv: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::Error;

    #[test]
    fn problem_errors_render_rfc9457_for_4xx_only() {
        let e = Error::problem(400, "JSON body: missing field `email`");
        let v: serde_json::Value = serde_json::from_str(&e.problem_json().unwrap()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"type":"about:blank","title":"Bad Request","status":400,"detail":"JSON body: missing field `email`"})
        );
        assert!(Error::new(413, "payload too large")
            .into_problem()
            .problem_json()
            .unwrap()
            .contains("Content Too Large"));
        for (status, msg) in [(404, "a \"quoted\" \\ path\n\u{1}é"), (422, ""), (499, "x")] {
            let e = Error::problem(status, msg);
            let want = serde_json::json!({
                "type": "about:blank", "title": super::status_title(status), "status": status, "detail": msg,
            });
            assert_eq!(e.problem_json().unwrap(), want.to_string());
        }
        assert_eq!(Error::bad_request("x").problem_json(), None);
        assert_eq!(Error::internal("db down").into_problem().problem_json(), None);
    }
}

/// A configuration value, key, document or route table that layers refused before using it,
/// and why — in words that never repeat a secret. Returned by the checks that run ahead of
/// use: [`AccessSettings::new`](crate::identity::AccessSettings::new),
/// [`Jwks::parse`](crate::identity::Jwks::parse),
/// [`FederationKey::parse`](crate::identity::FederationKey::parse),
/// [`EmailAllowlist::allows`](crate::identity::EmailAllowlist::allows),
/// [`sign_webhook`](crate::identity::sign_webhook) and
/// [`Router::new`](crate::request::router::Router::new).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(String);

impl ConfigError {
    /// An error saying `why`.
    #[must_use]
    pub fn new(why: impl Into<String>) -> ConfigError {
        ConfigError(why.into())
    }

    /// What was wrong, and (where there is one) the fix.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

impl From<String> for ConfigError {
    fn from(why: String) -> ConfigError {
        ConfigError(why)
    }
}

impl From<&str> for ConfigError {
    fn from(why: &str) -> ConfigError {
        ConfigError(why.to_owned())
    }
}
