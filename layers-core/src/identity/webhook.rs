use std::marker::PhantomData;

use base64::alphabet::STANDARD as STANDARD_ALPHABET;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::{Deny, Verifier, VerifyCx};

type HmacSha256 = Hmac<Sha256>;

/// Configures a [`Webhook`] verifier.
///
/// ```
/// use layers_core::identity::{Webhook, WebhookConfig};
///
/// pub struct ResendInbound;
/// impl WebhookConfig for ResendInbound {
///     const SECRET: &'static str = "RESEND_WEBHOOK_SECRET";
/// }
/// pub type Inbound = Webhook<ResendInbound>; // use as `identity = Inbound`
/// ```
pub trait WebhookConfig: 'static {
    /// The Worker secret holding the signing secret: `whsec_<base64>` as the sender shows it
    /// (the bare base64 without `whsec_` is accepted too, as the Svix libraries do).
    const SECRET: &'static str;
    /// How far (seconds) the signed timestamp may be from the Worker's clock, either way.
    const TOLERANCE_SECS: u64 = 5 * 60;
    /// Name in logs and the manifest.
    const NAME: &'static str = "Webhook";
}

/// The default [`Webhook`] configuration: secret `WEBHOOK_SECRET`, ±5 minutes.
#[derive(Debug)]
pub struct DefaultWebhook;

impl WebhookConfig for DefaultWebhook {
    const SECRET: &'static str = "WEBHOOK_SECRET";
}

/// Longest accepted message id (`svix-id`), in bytes.
pub const MAX_WEBHOOK_ID_LEN: usize = 256;
/// Longest accepted signature header (`svix-signature`), in bytes.
pub const MAX_WEBHOOK_SIGNATURE_LEN: usize = 4096;
/// Most signature entries looked at in one header (several appear during secret rotation).
pub const MAX_WEBHOOK_SIGNATURES: usize = 16;
/// Shortest accepted signing key, in decoded bytes (Svix and Standard Webhooks issue 24 to 64).
pub const MIN_WEBHOOK_KEY_LEN: usize = 16;

/// A Svix / Standard Webhooks signature (Resend, Clerk and other senders "powered by Svix").
///
/// * Headers `svix-id`, `svix-timestamp`, `svix-signature`, or their unbranded aliases
///   `webhook-id`, `webhook-timestamp`, `webhook-signature` (each looked up independently,
///   as the Svix libraries do). When both spellings of one header are sent they must agree.
/// * The MAC is HMAC-SHA256, keyed with the base64-decoded secret (standard alphabet, after an
///   optional `whsec_` prefix), over `"{id}.{timestamp}.{raw body}"` — the raw bytes as
///   received, so the verifier asks for the body ([`Verifier::BODY`]) and the handler gets the
///   same, untouched bytes.
/// * The signature header is a space-separated list of `version,base64` entries; the request
///   passes when any `v1` entry matches (constant-time). Other versions (`v1a`, …) are ignored.
/// * The timestamp (decimal Unix seconds) must be within [`WebhookConfig::TOLERANCE_SECS`] of
///   the clock, either way; with the Svix id, which stays the same across retries, the handler
///   can deduplicate deliveries.
///
/// A missing header → 401; anything malformed, tampered, stale or conflicting → 403; the secret
/// unset, not base64 or shorter than [`MIN_WEBHOOK_KEY_LEN`] bytes → 503. The id is restricted to
/// visible ASCII without `.`, so the signed string `"{id}.{timestamp}.{body}"` parses one way only.
#[derive(Debug)]
pub struct Webhook<C: WebhookConfig = DefaultWebhook>(PhantomData<C>);

/// What a [`Webhook`] proves: the sender holding the shared secret signed this body, with this
/// message id, recently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookClaims {
    /// The message id (`svix-id`): the same on every retry of a message, so use it to deduplicate.
    pub id: String,
    /// The signed timestamp, seconds since the Unix epoch.
    pub timestamp: u64,
}

/// Standard alphabet, padding optional: how a configured secret is decoded.
const SECRET_B64: GeneralPurpose = GeneralPurpose::new(
    &STANDARD_ALPHABET,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Decodes a webhook signing secret (`whsec_<base64>` or bare base64) into the HMAC key.
///
/// # Errors
/// A description (without key material) when the secret is empty, not base64, or shorter than
/// [`MIN_WEBHOOK_KEY_LEN`] bytes once decoded.
pub fn webhook_key(secret: &str) -> Result<Vec<u8>, String> {
    let s = secret.trim();
    let b64 = s.strip_prefix("whsec_").unwrap_or(s);
    if b64.is_empty() {
        return Err("webhook secret is empty".into());
    }
    let key = SECRET_B64.decode(b64).map_err(|_| "webhook secret is not base64 (standard alphabet)".to_owned())?;
    if key.len() < MIN_WEBHOOK_KEY_LEN {
        return Err(format!("webhook secret decodes to {} bytes, fewer than {MIN_WEBHOOK_KEY_LEN}", key.len()));
    }
    Ok(key)
}

fn mac(key: &[u8], id: &str, timestamp: &str, body: &[u8]) -> [u8; 32] {
    let mut m = HmacSha256::new_from_slice(key).expect("HMAC accepts keys of any length");
    m.update(id.as_bytes());
    m.update(b".");
    m.update(timestamp.as_bytes());
    m.update(b".");
    m.update(body);
    m.finalize().into_bytes().into()
}

/// Signs a message the way Svix does, returning the `svix-signature` value (`v1,<base64>`) —
/// for sending webhooks, and for testing a receiving endpoint.
///
/// ```
/// // Svix's published example.
/// let sig = layers_core::identity::sign_webhook(
///     "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
///     "msg_p5jXN8AQM9LWM0D4loKWxJek",
///     1614265330,
///     br#"{"test": 2432232314}"#,
/// )
/// .unwrap();
/// assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
/// ```
///
/// # Errors
/// As [`webhook_key`], when the secret does not decode.
pub fn sign_webhook(secret: &str, id: &str, timestamp: u64, body: &[u8]) -> Result<String, crate::ConfigError> {
    let key = webhook_key(secret)?;
    Ok(format!("v1,{}", STANDARD.encode(mac(&key, id, &timestamp.to_string(), body))))
}

/// Header `svix-<name>` or `webhook-<name>`: `Ok(None)` when neither is sent (or both are empty), a denial when
/// one is sent twice or the two spellings disagree.
fn pick<'c>(cx: &'c VerifyCx<'_>, name: &str) -> Result<Option<&'c str>, Deny> {
    let svix = format!("svix-{name}");
    let plain = format!("webhook-{name}");
    if cx.header_count(&svix) > 1 || cx.header_count(&plain) > 1 {
        return Err(Deny::invalid(format!("webhook {name} header sent more than once")));
    }
    let present = |h: &str| cx.header(h).filter(|v| !v.is_empty());
    match (present(&svix), present(&plain)) {
        (Some(a), Some(b)) if a != b => Err(Deny::invalid(format!("{svix} and {plain} disagree"))),
        (Some(a), _) => Ok(Some(a)),
        (None, b) => Ok(b),
    }
}

impl<C: WebhookConfig> Webhook<C> {
    /// Checks a delivery: its three header values, raw body and the clock.
    ///
    /// # Errors
    /// The [`Deny`] for the client, as [`Verifier::verify`] would return it.
    pub fn check(key: &[u8], id: &str, timestamp: &str, signature: &str, body: &[u8], now: u64) -> Result<u64, Deny> {
        if id.is_empty() || id.len() > MAX_WEBHOOK_ID_LEN {
            return Err(Deny::invalid(format!("webhook id is empty or longer than {MAX_WEBHOOK_ID_LEN} bytes")));
        }
        if !id.bytes().all(|b| b.is_ascii_graphic() && b != b'.') {
            return Err(Deny::invalid("webhook id holds characters other than visible ASCII without '.'"));
        }
        // Canonical decimal only: no sign, no leading zero, at most 20 digits.
        if timestamp.is_empty()
            || timestamp.len() > 20
            || !timestamp.bytes().all(|b| b.is_ascii_digit())
            || (timestamp.len() > 1 && timestamp.starts_with('0'))
        {
            return Err(Deny::invalid("webhook timestamp is not decimal Unix seconds"));
        }
        let ts: u64 = timestamp.parse().map_err(|_| Deny::invalid("webhook timestamp out of range"))?;
        if ts.saturating_add(C::TOLERANCE_SECS) < now {
            return Err(Deny::invalid(format!("webhook timestamp too old ({}s)", now - ts)));
        }
        if ts > now.saturating_add(C::TOLERANCE_SECS) {
            return Err(Deny::invalid(format!("webhook timestamp in the future ({}s)", ts - now)));
        }
        if signature.len() > MAX_WEBHOOK_SIGNATURE_LEN {
            return Err(Deny::invalid(format!(
                "webhook signature header longer than {MAX_WEBHOOK_SIGNATURE_LEN} bytes"
            )));
        }
        let entries: Vec<&str> = signature.split(' ').filter(|e| !e.is_empty()).collect();
        if entries.len() > MAX_WEBHOOK_SIGNATURES {
            return Err(Deny::invalid(format!("more than {MAX_WEBHOOK_SIGNATURES} webhook signature entries")));
        }
        let expected = mac(key, id, timestamp, body);
        let mut v1_seen = 0usize;
        let mut matched = subtle::Choice::from(0);
        for entry in entries {
            let Some(("v1", sig)) = entry.split_once(',') else { continue };
            v1_seen += 1;
            let Ok(sig) = STANDARD.decode(sig) else { continue };
            if sig.len() == expected.len() {
                matched |= sig.as_slice().ct_eq(&expected);
            }
        }
        if bool::from(matched) {
            Ok(ts)
        } else if v1_seen == 0 {
            Err(Deny::invalid("webhook signature header has no v1 entry"))
        } else {
            Err(Deny::invalid(format!("none of {v1_seen} v1 webhook signatures matches")))
        }
    }
}

impl<C: WebhookConfig> Verifier for Webhook<C> {
    type Claims = WebhookClaims;
    const NAME: &'static str = C::NAME;
    const SECRETS: &'static [&'static str] = &[C::SECRET];
    const BODY: bool = true;

    fn openapi_security() -> super::Security {
        use super::{Location, Scheme, SchemeKind, Security};
        Security::one(
            Scheme::new(
                C::NAME,
                SchemeKind::ApiKey { name: "webhook-signature", location: Location::Header },
                format!(
                    "A Svix / Standard Webhooks signature: headers `webhook-id`, `webhook-timestamp` and \
                     `webhook-signature` (or `svix-id`, `svix-timestamp`, `svix-signature`), keyed with secret `{}`.",
                    C::SECRET
                ),
            )
            .with_extension(
                "x-layers-signature",
                format!(
                    "v1 = base64(HMAC-SHA256(key, \"{{id}}.{{timestamp}}.{{raw body}}\")); timestamp within ±{} s",
                    C::TOLERANCE_SECS
                ),
            )
            .with_extension("x-layers-signed-headers", "webhook-id webhook-timestamp webhook-signature"),
        )
    }

    async fn verify(cx: &VerifyCx<'_>) -> Result<WebhookClaims, Deny> {
        let Some(secret) = cx.secret(C::SECRET) else {
            return Err(Deny::unavailable(format!("secret {} is not set", C::SECRET)));
        };
        let key = webhook_key(&secret).map_err(|e| Deny::unavailable(format!("secret {}: {e}", C::SECRET)))?;
        let id = pick(cx, "id")?;
        let timestamp = pick(cx, "timestamp")?;
        let signature = pick(cx, "signature")?;
        let (Some(id), Some(timestamp), Some(signature)) = (id, timestamp, signature) else {
            let missing: Vec<&str> = [("id", id), ("timestamp", timestamp), ("signature", signature)]
                .iter()
                .filter(|(_, v)| v.is_none())
                .map(|(n, _)| *n)
                .collect();
            return Err(Deny::missing(format!("webhook header(s) missing: {}", missing.join(", "))));
        };
        let Some(body) = cx.body() else {
            return Err(Deny::unavailable("the request body was not handed to the verifier"));
        };
        let ts = Self::check(&key, id, timestamp, signature, body, cx.now())?;
        Ok(WebhookClaims { id: id.to_owned(), timestamp: ts })
    }
}
