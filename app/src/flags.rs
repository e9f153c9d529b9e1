//! Public feature-flag lookups: `GET /api/flags/:name` answers whether the flag admins switch
//! with `POST /admin/flags/:name` is on, for the page scripts that show or hide a feature.
//!
//! A flag read never fails the request: every flag has a declared default (off), which it takes
//! when the flag was never set *and* when KV cannot answer ([`Kv::flag`]: the failure is logged
//! as a storage line with outcome `fallback`).
//!
//! Names are 1–[`MAX_NAME`] of `A-Z a-z 0-9 - _`. The length limit is deliberately looser than
//! KV's own (keys are at most 512 bytes): a name that makes the key `flag:<name>` longer than
//! that is sent to KV, which refuses it. In local workerd this refusal is the KV failure that can
//! actually be provoked (there is no way to take the local KV down from a test), and it takes
//! the same fallback path as an outage or a timeout would in production — the `faults` e2e
//! target relies on it.

use layers_core::prelude::*;

/// Longest flag name looked up (bounds the input; KV refuses keys over 512 bytes on its own).
pub const MAX_NAME: usize = 1024;

/// The default of every flag: off.
pub const DEFAULT: bool = false;

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `{"flag": name, "on": bool}`; 400 (problem+json) for a name outside the charset or length.
#[route(GET "/api/flags/:name", identity = Public, storage(KV because(FlagsConfig, GlobalReads, "feature flags")))]
pub async fn public_flag(req: Request, _who: Claims<'_, Public>, kv: Kv<'_>) -> Result<Response> {
    let name = req.param("name").unwrap_or_default();
    if !valid_name(name) {
        return Err(Error::problem(400, "flag names are 1-1024 letters, digits, '-' or '_'"));
    }
    let on = kv.flag(name, DEFAULT).await;
    let resp = Response::from_json(&serde_json::json!({ "flag": name, "on": on }))?;
    let _ = resp.headers().set("cache-control", "no-store");
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(valid_name("banner"));
        assert!(valid_name("new-editor_2"));
        assert!(valid_name(&"x".repeat(MAX_NAME)));
        assert!(!valid_name(""));
        assert!(!valid_name(&"x".repeat(MAX_NAME + 1)));
        assert!(!valid_name("bad name"));
        assert!(!valid_name("a/b"));
        assert!(!valid_name("é"));
    }
}
