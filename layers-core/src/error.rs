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
}

/// The result type handlers return.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error with `status` and a public message (ignored for 5xx, which say only
    /// "internal error" or "service unavailable").
    pub fn new(status: u16, public: impl Into<Cow<'static, str>>) -> Error {
        Error { status, public: public.into(), detail: None }
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
        Error { status: 500, public: Cow::Borrowed("internal error"), detail: Some(detail.into()) }
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
