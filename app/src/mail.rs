//! Outbound mail: one JSON `POST` per message to the mail sender at the var `MAIL_URL`
//! (an HTTP mail API or relay; in tests and `cargo xtask dev`, the loopback `layers-stubs`).
//!
//! The body is `{"from": MAIL_FROM, "to": …, "subject": …, "text": …}`; any 2xx answer means
//! accepted. `MAIL_URL` must be `https://`, or `http://` on 127.0.0.1 / localhost / `[::1]`
//! (local stand-ins); anything else is refused before a byte is sent. Neither the address nor
//! the text (which may hold a signed link) is ever logged or put in an error's detail.

use layers_core::outbound::OutboundRequest;
use layers_core::{Error, Outbound, Result, Vars};

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

/// Hands `mail` to the sender at `MAIL_URL`, through the handler's `Outbound` (which must
/// declare `outbound(MAIL_URL)`; it checks the URL is `https://`, or `http://` on loopback).
///
/// # Errors
/// 503 when `MAIL_URL` is unset or not allowed (the detail starts with `MAIL_URL`), the sender
/// cannot be reached, or it does not answer 2xx.
pub async fn send(out: &Outbound<'_>, vars: &Vars<'_>, mail: &Mail<'_>) -> Result<()> {
    let unavailable = |why: String| Error::new(503, "mail delivery is unavailable").with_detail(why);
    let url = out.url("MAIL_URL").map_err(|e| unavailable(e.detail().unwrap_or("MAIL_URL is unusable").to_owned()))?;
    let from = vars.get("MAIL_FROM").filter(|f| !f.is_empty()).unwrap_or_else(|| DEFAULT_FROM.to_owned());
    let body = serde_json::json!({ "from": from, "to": mail.to, "subject": mail.subject, "text": mail.text });
    let req = OutboundRequest::post(&url, "application/json", body.to_string().into_bytes());
    let resp = out.send(req).await.map_err(|_| unavailable("the mail sender is unreachable".into()))?;
    if !(200..300).contains(&resp.status) {
        return Err(unavailable(format!("the mail sender answered {}", resp.status)));
    }
    Ok(())
}
