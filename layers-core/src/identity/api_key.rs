use std::marker::PhantomData;

use super::{constant_time_eq, Deny, Location, Scheme, SchemeKind, Security, Verifier, VerifyCx};

/// Where an [`ApiKey`] is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiKeyHeader {
    /// A header of this name carries the key as is (e.g. `x-api-key`).
    Named(&'static str),
    /// `Authorization: Bearer <key>`.
    Bearer,
}

/// Configures an [`ApiKey`] verifier: where the key is sent and which Worker secret holds
/// the accepted keys.
///
/// ```
/// use layers_core::identity::{ApiKey, ApiKeyConfig, ApiKeyHeader};
///
/// pub struct IngestKeys;
/// impl ApiKeyConfig for IngestKeys {
///     const HEADER: ApiKeyHeader = ApiKeyHeader::Bearer;
///     const SECRET: &'static str = "INGEST_KEYS";
/// }
/// pub type Ingest = ApiKey<IngestKeys>; // use as `identity = Ingest`
/// ```
pub trait ApiKeyConfig: 'static {
    /// Where the key is read from.
    const HEADER: ApiKeyHeader;
    /// The Worker secret listing the accepted keys: entries separated by commas or
    /// whitespace, each `label:key` — a label of letters, digits, `_`, `-` or `.` (at most 64),
    /// one `:`, and a key without `:`. Several entries allow rotation. An entry without a label,
    /// or with a second `:`, makes the whole secret a misconfiguration (503), never a shorter key.
    const SECRET: &'static str;
    /// Name in logs and the manifest.
    const NAME: &'static str = "ApiKey";
}

/// The default [`ApiKey`] configuration: header `x-api-key`, secret `API_KEYS`.
#[derive(Debug)]
pub struct DefaultApiKey;

impl ApiKeyConfig for DefaultApiKey {
    const HEADER: ApiKeyHeader = ApiKeyHeader::Named("x-api-key");
    const SECRET: &'static str = "API_KEYS";
}

/// A static API key, compared in constant time against every key in a Worker secret.
///
/// Missing key → 401; wrong key → 403; secret unset, empty or holding a key shorter than
/// [`ApiKey::MIN_KEY_LEN`] bytes → 503 (fail closed). The claims name the matching key's label,
/// never the key.
#[derive(Debug)]
pub struct ApiKey<C: ApiKeyConfig = DefaultApiKey>(PhantomData<C>);

/// What an [`ApiKey`] proves: which configured key was presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyClaims {
    /// The key's label (`label:key` in the secret).
    pub label: String,
}

impl<C: ApiKeyConfig> ApiKey<C> {
    /// Keys shorter than this many bytes make the whole secret invalid.
    pub const MIN_KEY_LEN: usize = 16;
    /// Presented keys longer than this are refused without comparing.
    pub const MAX_KEY_LEN: usize = 512;

    /// Parses a keys secret into `(label, key)` pairs.
    ///
    /// # Errors
    /// A description (without key material) when the secret is empty, or an entry has no label,
    /// more than one `:`, a label of other characters, or a short key.
    pub fn parse_keys(secret: &str) -> Result<Vec<(String, String)>, String> {
        let mut out = Vec::new();
        for (i, entry) in secret.split([',', ' ', '\n', '\t', '\r']).filter(|e| !e.is_empty()).enumerate() {
            let n = i + 1;
            let Some((label, key)) = entry.split_once(':') else {
                return Err(format!("{}: entry {n} has no label (write `label:key`)", C::SECRET));
            };
            let label_ok = !label.is_empty()
                && label.len() <= 64
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
            if !label_ok {
                return Err(format!(
                    "{}: entry {n} has an empty label or one of other characters than letters, digits, `_`, `-`, `.`",
                    C::SECRET
                ));
            }
            if key.contains(':') {
                return Err(format!("{}: entry {n} ({label:?}) has more than one `:`", C::SECRET));
            }
            if out.iter().any(|(l, _): &(String, String)| l == label) {
                return Err(format!("{}: label {label:?} is used twice", C::SECRET));
            }
            let (label, key) = (label.to_owned(), key.to_owned());
            if key.len() < Self::MIN_KEY_LEN {
                return Err(format!("{}: key {label:?} is shorter than {} bytes", C::SECRET, Self::MIN_KEY_LEN));
            }
            out.push((label, key));
        }
        if out.is_empty() {
            return Err(format!("{} holds no keys", C::SECRET));
        }
        Ok(out)
    }

    /// Checks `presented` against `secret` (the keys secret), in constant time per key and
    /// without stopping at the first match.
    ///
    /// # Errors
    /// The [`Deny`] for the client, as [`Verifier::verify`] would return it.
    pub fn check(presented: Option<&str>, secret: Option<&str>) -> Result<ApiKeyClaims, Deny> {
        let keys = match secret {
            None => return Err(Deny::unavailable(format!("secret {} is not set", C::SECRET))),
            Some(s) => Self::parse_keys(s).map_err(Deny::unavailable)?,
        };
        let presented = match presented {
            None | Some("") => return Err(Deny::missing("no API key presented")),
            Some(p) => p,
        };
        if presented.len() > Self::MAX_KEY_LEN {
            return Err(Deny::invalid("API key too long"));
        }
        let mut matched: Option<&str> = None;
        for (label, key) in &keys {
            let eq = constant_time_eq(presented.as_bytes(), key.as_bytes());
            if eq && matched.is_none() {
                matched = Some(label);
            }
        }
        match matched {
            Some(label) => Ok(ApiKeyClaims { label: label.to_owned() }),
            None => Err(Deny::invalid("API key does not match any configured key")),
        }
    }
}

impl<C: ApiKeyConfig> Verifier for ApiKey<C> {
    type Claims = ApiKeyClaims;
    const NAME: &'static str = C::NAME;
    const SECRETS: &'static [&'static str] = &[C::SECRET];

    async fn verify(cx: &VerifyCx<'_>) -> Result<ApiKeyClaims, Deny> {
        let presented = match C::HEADER {
            ApiKeyHeader::Named(h) => {
                if cx.header_count(h) > 1 {
                    return Err(Deny::invalid(format!("header {h} sent more than once")));
                }
                cx.header(h).map(str::trim)
            }
            ApiKeyHeader::Bearer => match cx.header("authorization") {
                None => None,
                Some(v) => match v.split_once(' ') {
                    Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => Some(token.trim()),
                    _ => return Err(Deny::invalid("Authorization header is not a Bearer credential")),
                },
            },
        };
        Self::check(presented, cx.secret(C::SECRET).as_deref())
    }

    fn openapi_security() -> Security {
        let (kind, where_) = match C::HEADER {
            ApiKeyHeader::Named(name) => {
                (SchemeKind::ApiKey { name, location: Location::Header }, format!("header `{name}`"))
            }
            ApiKeyHeader::Bearer => (SchemeKind::Bearer { format: None }, "`Authorization: Bearer <key>`".to_owned()),
        };
        Security::one(Scheme::new(
            C::NAME,
            kind,
            format!("An API key in {where_}, one of those listed in secret `{}`.", C::SECRET),
        ))
    }
}
