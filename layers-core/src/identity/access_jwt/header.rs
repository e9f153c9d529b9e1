//! The JOSE header of an Access token, checked strictly before anything else of the token is
//! read, and the memo of header segments that passed the check.

use jwt_compact::Empty;
use serde_json::Value;

use super::state::AccessState;
use super::{MAX_ACCESS_JWT_LEN, MAX_KID_LEN};
use crate::identity::jwt_parse::{b64url_decode, strict_json_object};
use crate::identity::Deny;

/// What the header check found.
pub(super) struct CheckedHeader {
    pub(super) kid: Option<String>,
}

/// Parses the token's header strictly: three segments, base64url without padding, a JSON
/// object without duplicate names, `alg` exactly `RS256`, `kid` (if any) a short printable
/// string, no `crit` or `cty`. The payload and signature are not looked at. With `memo`, a
/// header segment that passed before is not parsed again (and one that passes now is kept).
pub(super) fn check_token_header(token: &str, memo: Option<&AccessState>) -> Result<CheckedHeader, Deny> {
    if token.len() > MAX_ACCESS_JWT_LEN {
        return Err(Deny::invalid(format!("token longer than {MAX_ACCESS_JWT_LEN} bytes")));
    }
    let mut parts = token.split('.');
    let (Some(h), Some(_), Some(_), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(Deny::invalid("token is not three dot-separated segments"));
    };
    if let Some(kid) = memo.and_then(|m| m.checked_header(h)) {
        return Ok(CheckedHeader { kid });
    }
    let checked = check_header_segment(h)?;
    if let Some(m) = memo {
        m.header_passed(h, checked.kid.clone());
    }
    Ok(checked)
}

/// The header segment's checks: base64url without padding, a JSON object without duplicate
/// names, `alg` exactly `RS256`, `kid` (if any) a short printable string, no `crit` or `cty`.
fn check_header_segment(h: &str) -> Result<CheckedHeader, Deny> {
    let raw = b64url_decode(h).ok_or_else(|| Deny::invalid("token header is not base64url"))?;
    let mut header = strict_json_object(&raw).map_err(|e| Deny::invalid(format!("token header: {e}")))?;
    match header.remove("alg") {
        Some(Value::String(a)) if a == "RS256" => {}
        Some(Value::String(_)) => return Err(Deny::invalid("token alg is not RS256 (the only algorithm accepted)")),
        Some(_) => return Err(Deny::invalid("token alg is not a string")),
        None => return Err(Deny::invalid("token header has no alg")),
    }
    if header.contains_key("crit") {
        return Err(Deny::invalid("token header has crit (no extensions are understood)"));
    }
    if header.contains_key("cty") {
        return Err(Deny::invalid("token header has cty (nested or non-JSON tokens are refused)"));
    }
    let kid = match header.remove("kid") {
        None => None,
        Some(Value::String(k)) if valid_kid(&k) => Some(k),
        Some(Value::String(_)) => {
            return Err(Deny::invalid(format!("token kid is empty, over {MAX_KID_LEN} bytes, or not printable ASCII")))
        }
        Some(_) => return Err(Deny::invalid("token kid is not a string")),
    };
    // The registered names jwt-compact types (`jku`, `x5u`, `x5t`, `x5t#S256`, `typ`) must read
    // as it reads them: what its token parse refused stays refused, now that the payload and
    // signature are read without it (see `identity::jwt_parse`).
    if serde_json::from_slice::<jwt_compact::Header<Empty>>(&raw).is_err() {
        return Err(Deny::invalid(NOT_JWS));
    }
    Ok(CheckedHeader { kid })
}

/// The denial for a token that is not three base64url segments jwt-compact could read.
pub(super) const NOT_JWS: &str = "token is not a well-formed JWS";

pub(super) fn valid_kid(k: &str) -> bool {
    !k.is_empty() && k.len() <= MAX_KID_LEN && k.bytes().all(|b| b.is_ascii_graphic())
}

// ---- header segments that passed ----------------------------------------------------------------

/// How many checked header segments are kept. The check depends on the segment alone, and an
/// issuer signs every token of a key with the same header, so most tokens find theirs here.
/// Headers are not secret (a token carries its own, readable by anyone who holds it); only
/// segments that passed are kept.
const MAX_CHECKED_HEADERS: usize = 8;

impl AccessState {
    /// The kid of header segment `h` if it passed the check before.
    fn checked_header(&self, h: &str) -> Option<Option<String>> {
        self.checked_headers.borrow().iter().find(|(seg, _)| seg == h).map(|(_, k)| k.clone())
    }

    /// Remembers that header segment `h` passed, naming `kid`.
    fn header_passed(&self, h: &str, kid: Option<String>) {
        let mut c = self.checked_headers.borrow_mut();
        if c.len() >= MAX_CHECKED_HEADERS {
            c.remove(0);
        }
        c.push((h.to_owned(), kid));
    }

    #[cfg(test)]
    fn checked_headers(&self) -> Vec<(String, Option<String>)> {
        self.checked_headers.borrow().clone()
    }
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;

    use super::*;

    fn b64(bytes: impl AsRef<[u8]>) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    #[test]
    fn checked_headers_are_remembered_only_when_they_pass() {
        let seg = |h: &str| b64(h);
        let good = seg(r#"{"alg":"RS256","kid":"k1"}"#);
        let hostile = [
            seg(r#"{"alg":"HS256","kid":"k1"}"#),
            seg(r#"{"alg":"RS256","alg":"RS256","kid":"k1"}"#),
            seg(r#"{"alg":"RS256","kid":"k1","crit":["b64"]}"#),
            // The good segment with one character changed (no longer base64url).
            format!("{}*", &good[..good.len() - 1]),
        ];
        let state = AccessState::default();
        let memo = Some(&state);
        for round in 0..2 {
            let kid = check_token_header(&format!("{good}.e30.c2ln"), memo).unwrap().kid;
            assert_eq!(kid.as_deref(), Some("k1"), "round {round}");
            for h in &hostile {
                assert!(check_token_header(&format!("{h}.e30.c2ln"), memo).is_err(), "round {round}: {h}");
            }
            // A remembered header does not excuse the token's shape or length.
            assert!(check_token_header(&format!("{good}.e30"), memo).is_err());
            assert!(check_token_header(&format!("{good}.e30.c2ln.x"), memo).is_err());
            let long = format!("{good}.{}.c2ln", "A".repeat(MAX_ACCESS_JWT_LEN));
            assert!(check_token_header(&long, memo).is_err());
        }
        let c = state.checked_headers();
        assert!(c.iter().any(|(s, k)| *s == good && k.as_deref() == Some("k1")));
        assert!(c.iter().all(|(s, _)| !hostile.contains(s)), "a failed header is never remembered");
        // Bounded: old entries make way.
        for i in 0..3 * MAX_CHECKED_HEADERS {
            let h = seg(&format!(r#"{{"alg":"RS256","kid":"k{i}"}}"#));
            let kid = check_token_header(&format!("{h}.e30.c2ln"), memo).unwrap().kid;
            assert_eq!(kid, Some(format!("k{i}")));
        }
        assert_eq!(state.checked_headers().len(), MAX_CHECKED_HEADERS);
        assert_eq!(check_token_header(&format!("{good}.e30.c2ln"), memo).unwrap().kid.as_deref(), Some("k1"));
        // Without a memo nothing is kept anywhere.
        assert!(check_token_header(&format!("{good}.e30.c2ln"), None).is_ok());
    }
}
