//! Outbound mail: one JSON `POST` per message to the mail sender at the var `MAIL_URL`
//! (an HTTP mail API or relay; in tests and `cargo xtask dev`, the loopback `layers-stubs`).
//!
//! The body is `{"from": MAIL_FROM, "to": …, "subject": …, "text": …}`; any 2xx answer means
//! accepted. `MAIL_URL` must be `https://`, or `http://` on 127.0.0.1 / localhost / `[::1]`
//! (local stand-ins); anything else is refused before a byte is sent. Neither the address nor
//! the text (which may hold a signed link) is ever logged or put in an error's detail.

use layers_core::outbound::{worker_fetch, OutboundRequest};
use layers_core::{Error, Result, Vars};

/// Sender address used when the var `MAIL_FROM` is unset.
pub const DEFAULT_FROM: &str = "blog@example.com";

/// One plain-text message.
#[derive(Clone, PartialEq, Eq)]
pub struct Mail<'a> {
    /// Recipient address.
    pub to: &'a str,
    /// Subject line.
    pub subject: &'a str,
    /// Plain-text body.
    pub text: &'a str,
}

impl std::fmt::Debug for Mail<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the address or the body (signed links): only the subject.
        f.debug_struct("Mail").field("subject", &self.subject).finish_non_exhaustive()
    }
}

/// Whether `url` is an acceptable mail sender URL: `https://host…`, or `http://` on loopback.
#[must_use]
pub fn url_allowed(url: &str) -> bool {
    if url.len() > 2048 || url.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return false;
    }
    if let Some(rest) = url.strip_prefix("https://") {
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        return !host.is_empty() && !host.contains('@');
    }
    let Some(rest) = url.strip_prefix("http://") else { return false };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let (host, port) = if let Some(p) = authority.strip_prefix("[::1]") {
        ("[::1]", p)
    } else {
        let host = authority.split(':').next().unwrap_or_default();
        (host, &authority[host.len()..])
    };
    let port_ok = port.is_empty()
        || port
            .strip_prefix(':')
            .is_some_and(|n| !n.is_empty() && n.len() <= 5 && n.bytes().all(|b| b.is_ascii_digit()));
    matches!(host, "127.0.0.1" | "localhost" | "[::1]") && port_ok
}

/// Hands `mail` to the sender at `MAIL_URL`.
///
/// # Errors
/// 503 when `MAIL_URL` is unset or not allowed, the sender cannot be reached, or it does not
/// answer 2xx.
pub async fn send(vars: &Vars<'_>, mail: &Mail<'_>) -> Result<()> {
    let unavailable = |why: String| Error::new(503, "mail delivery is unavailable").with_detail(why);
    let url = vars.get("MAIL_URL").filter(|u| !u.is_empty()).ok_or_else(|| unavailable("MAIL_URL is unset".into()))?;
    if !url_allowed(&url) {
        return Err(unavailable("MAIL_URL must be https:// (or http:// on loopback)".into()));
    }
    let from = vars.get("MAIL_FROM").filter(|f| !f.is_empty()).unwrap_or_else(|| DEFAULT_FROM.to_owned());
    let body = serde_json::json!({ "from": from, "to": mail.to, "subject": mail.subject, "text": mail.text });
    let req = OutboundRequest::post(&url, "application/json", body.to_string().into_bytes());
    let resp = worker_fetch()(req).await.map_err(|_| unavailable("the mail sender is unreachable".into()))?;
    if !(200..300).contains(&resp.status) {
        return Err(unavailable(format!("the mail sender answered {}", resp.status)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::url_allowed;

    #[test]
    fn mail_urls() {
        for ok in [
            "https://api.mail.example/v1/send",
            "http://127.0.0.1:8790/mail",
            "http://localhost/mail",
            "http://[::1]:9/m",
        ] {
            assert!(url_allowed(ok), "{ok}");
        }
        for bad in [
            "http://example.com/mail",
            "http://127.0.0.1.evil.example/mail",
            "http://127.0.0.1:80x/mail",
            "ftp://127.0.0.1/",
            "https://",
            "https://user@evil.example/",
            "https://a b/",
            "",
        ] {
            assert!(!url_allowed(bad), "{bad}");
        }
    }
}
