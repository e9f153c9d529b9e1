use std::fmt;
use std::marker::PhantomData;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{Deny, Location, Scheme, SchemeKind, Security, Verifier, VerifyCx};

type HmacSha256 = Hmac<Sha256>;

/// Where a [`SignedToken`] is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    /// A path parameter, e.g. `Param("token")` for `/unsubscribe/:token`.
    Param(&'static str),
    /// A query parameter (must occur once).
    Query(&'static str),
    /// A header carrying the token as is.
    Header(&'static str),
    /// A cookie (must occur once).
    Cookie(&'static str),
    /// `Authorization: Bearer <token>`.
    Bearer,
}

/// Configures a [`SignedToken`] verifier.
///
/// ```
/// use layers_core::identity::{SignedToken, TokenConfig, TokenSource};
///
/// pub struct Unsubscribe;
/// impl TokenConfig for Unsubscribe {
///     const SECRET: &'static str = "SIGNING_KEY";
///     const PURPOSE: &'static str = "unsubscribe";
///     const SOURCE: TokenSource = TokenSource::Param("token");
/// }
/// pub type UnsubscribeToken = SignedToken<Unsubscribe>;
/// ```
pub trait TokenConfig: 'static {
    /// The Worker secret holding the HMAC key (at least [`MIN_KEY_LEN`] bytes).
    const SECRET: &'static str;
    /// Bound into the MAC: a token minted for one purpose never verifies for another.
    const PURPOSE: &'static str;
    /// Where the token is read from.
    const SOURCE: TokenSource;
    /// Name in logs.
    const NAME: &'static str = "SignedToken";
    /// Set only by layers' own [`DefaultToken`]: a configuration any app could opt in to, so
    /// it is never mintable ([`MayMint`](super::MayMint) needs a configuration of your app).
    #[doc(hidden)]
    const LAYERS_DEFAULT: bool = false;
}

/// The key a token configuration is compared by: `secret \0 purpose \0 name \0 source`. Two
/// keys with the same secret and purpose but anything else different are two configurations
/// whose tokens would verify for each other (see `check::table_problem`).
pub(crate) const fn token_key<C: TokenConfig>() -> &'static str {
    TokenKey::<C>::KEY.as_str()
}

struct TokenKey<C>(PhantomData<C>);

impl<C: TokenConfig> TokenKey<C> {
    const KEY: &'static super::const_text::ConstKey = &super::const_text::ConstKey::join(&[
        C::SECRET,
        "\0",
        C::PURPOSE,
        "\0",
        C::NAME,
        "\0",
        C::SOURCE.kind(),
        ":",
        C::SOURCE.name(),
    ]);
}

impl TokenSource {
    /// What kind of source this is (`param`, `query`, `header`, `cookie`, `bearer`).
    #[must_use]
    pub const fn kind(self) -> &'static str {
        match self {
            TokenSource::Param(_) => "param",
            TokenSource::Query(_) => "query",
            TokenSource::Header(_) => "header",
            TokenSource::Cookie(_) => "cookie",
            TokenSource::Bearer => "bearer",
        }
    }
    /// The parameter, header or cookie name (empty for `Bearer`).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            TokenSource::Param(n) | TokenSource::Query(n) | TokenSource::Header(n) | TokenSource::Cookie(n) => n,
            TokenSource::Bearer => "",
        }
    }
}

/// The default [`SignedToken`] configuration: secret `SIGNING_KEY`, purpose `token`, read
/// from the `:token` path parameter. Routes can verify such tokens (minted elsewhere with
/// [`mint`]), but no handler can mint them: only configurations of your app can opt in to
/// minting ([`MayMint`](super::MayMint)).
#[derive(Debug)]
pub struct DefaultToken;

impl TokenConfig for DefaultToken {
    const SECRET: &'static str = "SIGNING_KEY";
    const PURPOSE: &'static str = "token";
    const SOURCE: TokenSource = TokenSource::Param("token");
    #[doc(hidden)]
    const LAYERS_DEFAULT: bool = true;
}

/// Shortest accepted signing key, in bytes.
pub const MIN_KEY_LEN: usize = 32;
/// Longest token looked at; longer ones are refused unread.
pub const MAX_TOKEN_LEN: usize = 4096;

/// An HMAC-SHA256 token with an expiry, URL-safe, verified in constant time.
///
/// Format: `v1.<base64url(payload)>.<expiry, Unix seconds>.<base64url(mac)>`, where the MAC
/// covers a version tag, the configured purpose, the encoded payload and the expiry. Make
/// tokens with [`mint`].
#[derive(Debug)]
pub struct SignedToken<C: TokenConfig = DefaultToken>(PhantomData<C>);

/// What a [`SignedToken`] proves: the server signed this payload, and it has not expired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenClaims {
    /// The signed payload (e.g. an email address).
    pub payload: String,
    /// Expiry, seconds since the Unix epoch.
    pub expires_at: u64,
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    /// Not of the token's shape (parts, encoding, digits, UTF-8, length).
    Malformed,
    /// The MAC does not match: forged, tampered, other key or other purpose.
    BadSignature,
    /// Past its expiry.
    Expired,
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TokenError::Malformed => "malformed token",
            TokenError::BadSignature => "token signature does not verify",
            TokenError::Expired => "token expired",
        })
    }
}

impl std::error::Error for TokenError {}

fn mac_for(key: &[u8], purpose: &str, payload_b64: &str, exp: &str) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(b"layers-token-v1\0");
    mac.update(purpose.as_bytes());
    mac.update(b"\0");
    mac.update(payload_b64.as_bytes());
    mac.update(b".");
    mac.update(exp.as_bytes());
    mac
}

/// Mints a token for `payload`, valid for `purpose` until `expires_at` (Unix seconds).
///
/// ```
/// use layers_core::identity::{mint, SignedToken, TokenError};
/// let key = b"0123456789abcdef0123456789abcdef";
/// let t = mint(key, "unsubscribe", "ada@example.com", 2_000_000_000);
/// let claims = SignedToken::<layers_core::identity::DefaultToken>::verify_token(key, "unsubscribe", &t, 1_900_000_000).unwrap();
/// assert_eq!(claims.payload, "ada@example.com");
/// assert_eq!(
///     SignedToken::<layers_core::identity::DefaultToken>::verify_token(key, "login", &t, 1_900_000_000),
///     Err(TokenError::BadSignature)
/// );
/// ```
#[must_use]
pub fn mint(key: &[u8], purpose: &str, payload: &str, expires_at: u64) -> String {
    let p = URL_SAFE_NO_PAD.encode(payload.as_bytes());
    let exp = expires_at.to_string();
    let tag = mac_for(key, purpose, &p, &exp).finalize().into_bytes();
    format!("v1.{p}.{exp}.{}", URL_SAFE_NO_PAD.encode(tag))
}

impl<C: TokenConfig> SignedToken<C> {
    /// Verifies `token` for `purpose` with `key` at time `now` (Unix seconds).
    ///
    /// # Errors
    /// The [`TokenError`] saying why the token is refused.
    pub fn verify_token(key: &[u8], purpose: &str, token: &str, now: u64) -> Result<TokenClaims, TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::Malformed);
        }
        let mut parts = token.split('.');
        let (Some("v1"), Some(p), Some(exp), Some(sig), None) =
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed);
        };
        // Canonical decimal only: no sign, no leading zero, at most u64.
        if exp.is_empty()
            || exp.len() > 20
            || !exp.bytes().all(|b| b.is_ascii_digit())
            || (exp.len() > 1 && exp.starts_with('0'))
        {
            return Err(TokenError::Malformed);
        }
        let expires_at: u64 = exp.parse().map_err(|_| TokenError::Malformed)?;
        let payload = URL_SAFE_NO_PAD.decode(p).map_err(|_| TokenError::Malformed)?;
        let sig = URL_SAFE_NO_PAD.decode(sig).map_err(|_| TokenError::Malformed)?;
        if sig.len() != 32 {
            return Err(TokenError::Malformed);
        }
        // Signature before expiry: a forged token learns nothing about the clock check.
        mac_for(key, purpose, p, exp).verify_slice(&sig).map_err(|_| TokenError::BadSignature)?;
        if now >= expires_at {
            return Err(TokenError::Expired);
        }
        let payload = String::from_utf8(payload).map_err(|_| TokenError::Malformed)?;
        Ok(TokenClaims { payload, expires_at })
    }
}

impl<C: TokenConfig> Verifier for SignedToken<C> {
    type Claims = TokenClaims;
    const NAME: &'static str = C::NAME;
    const SECRETS: &'static [&'static str] = &[C::SECRET];
    #[doc(hidden)]
    const TOKENS: &'static [&'static str] = &[token_key::<C>()];

    async fn verify(cx: &VerifyCx<'_>) -> Result<TokenClaims, Deny> {
        let Some(key) = cx.secret(C::SECRET) else {
            return Err(Deny::unavailable(format!("secret {} is not set", C::SECRET)));
        };
        if key.len() < MIN_KEY_LEN {
            return Err(Deny::unavailable(format!("secret {} is shorter than {MIN_KEY_LEN} bytes", C::SECRET)));
        }
        let token: Option<String> = match C::SOURCE {
            TokenSource::Param(p) => cx.param(p).map(str::to_owned),
            TokenSource::Query(q) => {
                let mut all = cx.query_all(q);
                if all.len() > 1 {
                    return Err(Deny::invalid(format!("query parameter {q} sent more than once")));
                }
                all.pop()
            }
            TokenSource::Header(h) => {
                if cx.header_count(h) > 1 {
                    return Err(Deny::invalid(format!("header {h} sent more than once")));
                }
                cx.header(h).map(str::to_owned)
            }
            TokenSource::Cookie(c) => cx.cookie(c),
            TokenSource::Bearer => match cx.header("authorization") {
                None => None,
                Some(v) => match v.split_once(' ') {
                    Some((s, t)) if s.eq_ignore_ascii_case("bearer") => Some(t.trim().to_owned()),
                    _ => return Err(Deny::invalid("Authorization header is not a Bearer credential")),
                },
            },
        };
        let token = match token {
            None => return Err(Deny::missing("no token presented")),
            Some(t) if t.is_empty() => return Err(Deny::missing("empty token")),
            Some(t) => t,
        };
        Self::verify_token(key.as_bytes(), C::PURPOSE, &token, cx.now()).map_err(|e| Deny::invalid(e.to_string()))
    }

    fn openapi_security() -> Security {
        let kind = match C::SOURCE {
            TokenSource::Query(name) => SchemeKind::ApiKey { name, location: Location::Query },
            TokenSource::Header(name) => SchemeKind::ApiKey { name, location: Location::Header },
            TokenSource::Cookie(name) => SchemeKind::ApiKey { name, location: Location::Cookie },
            TokenSource::Bearer => SchemeKind::Bearer { format: None },
            // OpenAPI's `apiKey` cannot sit in the path: the path parameter documents it.
            TokenSource::Param(_) => SchemeKind::Undeclared,
        };
        let scheme = Scheme::new(
            C::NAME,
            kind,
            format!(
                "A token signed with HMAC-SHA256 for purpose `{}` (with an expiry), in {} `{}`.",
                C::PURPOSE,
                C::SOURCE.kind(),
                C::SOURCE.name()
            ),
        )
        .with_extension("x-layers-token-source", format!("{}:{}", C::SOURCE.kind(), C::SOURCE.name()));
        Security::one(scheme)
    }
}
