use std::borrow::Cow;
use std::fmt;

/// Why a verifier refused: decides the status; the detail goes to the log, never the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DenyKind {
    /// No credentials at all: **401**.
    Missing,
    /// Credentials present but invalid, expired or not allowed: **403**.
    Invalid,
    /// The verifier cannot decide (a secret is unset, a key server is down): **503**.
    Unavailable,
}

/// A verifier's refusal. The client sees only the status and a one-word body.
#[derive(Clone, PartialEq, Eq)]
pub struct Deny {
    kind: DenyKind,
    detail: Cow<'static, str>,
}

impl Deny {
    /// No credentials were presented (401). `detail` is logged, never sent.
    pub fn missing(detail: impl Into<Cow<'static, str>>) -> Deny {
        Deny { kind: DenyKind::Missing, detail: detail.into() }
    }
    /// Credentials were presented but are not good (403). `detail` is logged, never sent.
    pub fn invalid(detail: impl Into<Cow<'static, str>>) -> Deny {
        Deny { kind: DenyKind::Invalid, detail: detail.into() }
    }
    /// The verifier cannot decide, so it refuses (503). `detail` is logged, never sent.
    pub fn unavailable(detail: impl Into<Cow<'static, str>>) -> Deny {
        Deny { kind: DenyKind::Unavailable, detail: detail.into() }
    }
    /// The kind of refusal.
    #[must_use]
    pub fn kind(&self) -> DenyKind {
        self.kind
    }
    /// The HTTP status sent to the client.
    #[must_use]
    pub fn status(&self) -> u16 {
        match self.kind {
            DenyKind::Missing => 401,
            DenyKind::Invalid => 403,
            DenyKind::Unavailable => 503,
        }
    }
    /// The body sent to the client: short, and the same for every refusal of a kind.
    #[must_use]
    pub fn public_body(&self) -> &'static str {
        match self.kind {
            DenyKind::Missing => "unauthorized\n",
            DenyKind::Invalid => "forbidden\n",
            DenyKind::Unavailable => "service unavailable\n",
        }
    }
    /// The detail for the log. Verifiers must never put a secret or a token in it.
    #[must_use]
    pub fn detail(&self) -> &str {
        &self.detail
    }
}

impl fmt::Debug for Deny {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Deny({} {:?}: {})", self.status(), self.kind, self.detail)
    }
}

impl fmt::Display for Deny {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.public_body().trim_end(), self.detail)
    }
}
