//! `POST /api/email-inbound`: inbound email events from the mail provider, signed with the
//! Svix scheme (the [`Webhook`] verifier checks `svix-id`, `svix-timestamp` and
//! `svix-signature` before this code runs), parsed and stored in D1 (`inbound_emails`).
//!
//! Accepted payload (the shape of a typical inbound-email webhook, e.g. Resend's
//! `email.received`):
//!
//! ```json
//! {
//!   "type": "email.received",
//!   "created_at": "2026-11-28T10:00:00Z",
//!   "data": {
//!     "message_id": "<abc@mail.example>",
//!     "from": "Ada Lovelace <ada@example.com>",
//!     "to": ["blog@example.com"],
//!     "subject": "Hello",
//!     "text": "Plain-text body"
//!   }
//! }
//! ```
//!
//! - `data.from` is required: an address, or `Name <address>`.
//! - `data.to` is optional: one such string or an array of at most [`MAX_TO`].
//! - `data.subject` (≤ [`MAX_SUBJECT`] chars) and `data.text` (≤ [`MAX_TEXT`] chars) are optional
//!   strings; `data.message_id` (or `data.email_id`, ≤ 998 chars) optional.
//! - `type` is optional; an event of another type (`email.delivered`, …) is acknowledged
//!   (`200 {"stored": false, "ignored": true}`) and not stored, so the provider stops retrying.
//!
//! A verified event that does not fit is refused with a 400 `application/problem+json` that
//! names the field (never echoing its value). Storing is idempotent: a redelivery with the
//! same `svix-id`, or the same message id under a new `svix-id`, answers `{"stored": false}`.

use layers_core::identity::Webhook;
use layers_core::prelude::*;
use serde::Serialize;

/// Most recipients kept from `data.to`.
pub const MAX_TO: usize = 50;
/// Longest subject accepted, in characters.
pub const MAX_SUBJECT: usize = 998;
/// Longest text body accepted, in characters.
pub const MAX_TEXT: usize = 100_000;
/// Largest event accepted, in bytes.
pub const MAX_BODY: usize = 512 * 1024;

/// A parsed inbound message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InboundEmail {
    /// The provider's message id, when it sends one.
    pub message_id: Option<String>,
    /// Sender address (lower-case).
    pub from: String,
    /// Recipient addresses (lower-case).
    pub to: Vec<String>,
    /// Subject (empty when absent).
    pub subject: String,
    /// Plain-text body (empty when absent).
    pub text: String,
}

/// What [`parse`] makes of an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// An inbound email to store.
    Email(InboundEmail),
    /// Another event type: acknowledged, not stored.
    Ignored,
}

/// The address in `Name <addr>` or `addr`, lower-cased, if it looks like one.
#[must_use]
pub fn address(s: &str) -> Option<String> {
    let s = s.trim();
    let addr = match (s.rfind('<'), s.ends_with('>')) {
        (Some(i), true) => &s[i + 1..s.len() - 1],
        (None, false) => s,
        _ => return None,
    };
    let addr = addr.trim();
    let (local, domain) = addr.split_once('@')?;
    let ok = !local.is_empty()
        && addr.len() <= 254
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !addr.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"' | ','));
    ok.then(|| addr.to_ascii_lowercase())
}

fn optional_string(data: &serde_json::Value, key: &str, max: usize, what: &'static str) -> Result<Option<String>> {
    match data.get(key) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) if s.chars().count() <= max => Ok(Some(s.clone())),
        Some(_) => Err(Error::problem(400, what)),
    }
}

/// Parses a verified event body (see the module docs for the shape).
///
/// # Errors
/// A 400 problem naming the field that does not fit.
pub fn parse(body: &str) -> Result<Parsed> {
    let event: serde_json::Value =
        serde_json::from_str(body).map_err(|_| Error::problem(400, "the body is not JSON"))?;
    let Some(obj) = event.as_object() else {
        return Err(Error::problem(400, "the body is not a JSON object"));
    };
    match obj.get("type") {
        None | Some(serde_json::Value::Null) => {}
        Some(serde_json::Value::String(t)) if t == "email.received" => {}
        Some(serde_json::Value::String(_)) => return Ok(Parsed::Ignored),
        Some(_) => return Err(Error::problem(400, "field `type` must be a string")),
    }
    let Some(data) = obj.get("data").filter(|d| d.is_object()) else {
        return Err(Error::problem(400, "field `data` must be an object"));
    };
    let from = data
        .get("from")
        .and_then(serde_json::Value::as_str)
        .and_then(address)
        .ok_or_else(|| Error::problem(400, "field `data.from` must be an email address"))?;
    let to_err = || Error::problem(400, "field `data.to` must be an address or a list of at most 50 addresses");
    let to = match data.get("to") {
        None | Some(serde_json::Value::Null) => Vec::new(),
        Some(serde_json::Value::String(s)) => vec![address(s).ok_or_else(to_err)?],
        Some(serde_json::Value::Array(list)) if list.len() <= MAX_TO => {
            list.iter().map(|v| v.as_str().and_then(address).ok_or_else(to_err)).collect::<Result<Vec<_>>>()?
        }
        Some(_) => return Err(to_err()),
    };
    let subject = optional_string(
        data,
        "subject",
        MAX_SUBJECT,
        "field `data.subject` must be a string of at most 998 characters",
    )?;
    let text =
        optional_string(data, "text", MAX_TEXT, "field `data.text` must be a string of at most 100000 characters")?;
    let id_err = "field `data.message_id` must be a string of at most 998 characters";
    let message_id = match optional_string(data, "message_id", 998, id_err)? {
        Some(id) => Some(id),
        None => {
            optional_string(data, "email_id", 998, "field `data.email_id` must be a string of at most 998 characters")?
        }
    }
    .filter(|id| !id.trim().is_empty());
    Ok(Parsed::Email(InboundEmail {
        message_id,
        from,
        to,
        subject: subject.unwrap_or_default(),
        text: text.unwrap_or_default(),
    }))
}

/// Inbound email events, signed by the mail provider (Svix scheme), parsed and stored once.
#[route(POST "/api/email-inbound", identity = Webhook, storage(D1 because(FixedSchema, "inbound mail")))]
pub async fn email_inbound(mut req: Request, hook: Claims<'_, Webhook>, db: D1<'_>) -> Result<Response> {
    let body = req.text().await?;
    if body.len() > MAX_BODY {
        return Err(Error::problem(413, "the event is larger than 512 KiB"));
    }
    let Parsed::Email(mail) = parse(&body)? else {
        return Ok(Response::from_json(&serde_json::json!({ "stored": false, "ignored": true }))?);
    };
    let to = serde_json::to_string(&mail.to).map_err(|e| Error::internal(e.to_string()))?;
    let info = db
        .prepare(
            "INSERT INTO inbound_emails (svix_id, received_at, payload, message_id, from_addr, to_addrs, subject, text_body) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO NOTHING",
        )
        .bind(&[&hook.id, &hook.timestamp, &body, &mail.message_id, &mail.from, &to, &mail.subject, &mail.text])
        .run()
        .await?;
    Ok(Response::from_json(&serde_json::json!({ "stored": info.changes == 1 }))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(body: &str) -> InboundEmail {
        match parse(body).unwrap() {
            Parsed::Email(m) => m,
            Parsed::Ignored => panic!("ignored: {body}"),
        }
    }

    #[test]
    fn full_and_minimal_events() {
        let m = email(
            r#"{"type":"email.received","data":{"message_id":"<a@b.c>","from":"Ada L <Ada@Example.COM>","to":["blog@example.com","Bob <bob@x.org>"],"subject":"Hi","text":"Body"}}"#,
        );
        assert_eq!(m.message_id.as_deref(), Some("<a@b.c>"));
        assert_eq!(m.from, "ada@example.com");
        assert_eq!(m.to, vec!["blog@example.com", "bob@x.org"]);
        assert_eq!((m.subject.as_str(), m.text.as_str()), ("Hi", "Body"));
        let m = email(r#"{"data":{"from":"ada@example.com","to":"blog@example.com","email_id":"e1"}}"#);
        assert_eq!((m.message_id.as_deref(), m.to.len(), m.subject.as_str()), (Some("e1"), 1, ""));
        assert_eq!(parse(r#"{"type":"email.delivered","data":{}}"#).unwrap(), Parsed::Ignored);
    }

    #[test]
    fn malformed_events_are_400_without_echo() {
        for bad in [
            "not json",
            "[1]",
            r#"{"type":"email.received"}"#,
            r#"{"type":7,"data":{"from":"a@b.co"}}"#,
            r#"{"data":"x"}"#,
            r#"{"data":{}}"#,
            r#"{"data":{"from":"SECRET-not-an-address"}}"#,
            r#"{"data":{"from":"a@b.co","to":5}}"#,
            r#"{"data":{"from":"a@b.co","to":["ok@b.co","SECRET"]}}"#,
            r#"{"data":{"from":"a@b.co","subject":["x"]}}"#,
            r#"{"data":{"from":"a@b.co","message_id":1}}"#,
        ] {
            let e = parse(bad).unwrap_err();
            assert_eq!(e.status(), 400, "{bad}");
            assert!(e.is_problem());
            assert!(!e.public_message().contains("SECRET"), "{bad}");
        }
        let long = format!(r#"{{"data":{{"from":"a@b.co","subject":"{}"}}}}"#, "s".repeat(999));
        assert_eq!(parse(&long).unwrap_err().status(), 400);
        let many: Vec<String> = (0..51).map(|i| format!("\"u{i}@b.co\"")).collect();
        let many = format!(r#"{{"data":{{"from":"a@b.co","to":[{}]}}}}"#, many.join(","));
        assert_eq!(parse(&many).unwrap_err().status(), 400);
    }

    #[test]
    fn addresses() {
        assert_eq!(address(" Ada <ada@example.com> ").as_deref(), Some("ada@example.com"));
        assert_eq!(address("ADA@EXAMPLE.COM").as_deref(), Some("ada@example.com"));
        for bad in ["", "ada", "ada@", "@x.com", "a@b", "a@.b.c", "a b@c.de", "<a@b.co", "a@b.co>", "a@b@c.de"] {
            assert_eq!(address(bad), None, "{bad}");
        }
    }
}
