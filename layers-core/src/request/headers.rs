//! Read-only views of the request head: [`Headers`] and [`Cookies`], taken as handler
//! parameters. Their `Debug` never shows a credential.

use super::extract::FromRequestParts;
use super::Request;
use crate::error::Error;

/// Headers that carry credentials: their values are never shown by `Debug`, whatever the
/// allowlist says. (`Debug` shows only the values of [`SHOWN_IN_DEBUG`] headers anyway.)
pub const CREDENTIAL_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "cf-access-jwt-assertion",
    "cf-access-client-secret",
    "x-api-key",
    "cf-turnstile-response",
    "svix-signature",
    "webhook-signature",
];

/// The only headers whose values `Debug` prints. Everything else — the [`CREDENTIAL_HEADERS`],
/// and any header a verifier reads (a custom `ApiKey` header name, a signature, a token) — shows
/// as `[redacted]`: an allowlist fails closed where a list of secrets would miss a new one.
pub const SHOWN_IN_DEBUG: &[&str] = &[
    "accept",
    "accept-encoding",
    "accept-language",
    "cache-control",
    "cf-ipcountry",
    "cf-ray",
    "content-length",
    "content-type",
    "host",
    "if-match",
    "if-modified-since",
    "if-none-match",
    "range",
    "user-agent",
    "x-forwarded-proto",
];

fn shown(name: &str) -> bool {
    !CREDENTIAL_HEADERS.iter().any(|c| c.eq_ignore_ascii_case(name))
        && SHOWN_IN_DEBUG.iter().any(|s| s.eq_ignore_ascii_case(name))
}

/// The request's headers, read-only: take `headers: Headers` as a handler parameter.
///
/// ```no_run
/// # use layers_core::prelude::*;
/// #[route(GET "/whoami", identity = Public)]
/// async fn whoami(headers: Headers, _: Claims<'_, Public>) -> Result<Response> {
///     let ua = headers.get("user-agent").unwrap_or("unknown");
///     Ok(Response::ok(format!("you use {ua}"))?)
/// }
/// # fn main() {}
/// ```
///
/// Names are lowercase. The runtime joins a repeated request header into one value
/// (`a, b`, as the Fetch standard does), so [`Headers::get_all`] usually yields one value.
/// `{:?}` prints every name but only the values of [`SHOWN_IN_DEBUG`] headers.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Headers {
    entries: Vec<(String, String)>,
}

impl Headers {
    /// Headers from `(name, value)` pairs (names are lowercased).
    #[must_use]
    pub fn from_pairs<K: AsRef<str>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Headers {
        Headers { entries: pairs.into_iter().map(|(k, v)| (k.as_ref().to_ascii_lowercase(), v.into())).collect() }
    }
    /// The first value of header `name` (case-insensitive).
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    /// Every value of header `name` (case-insensitive), in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.entries.iter().filter(move |(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    /// Whether header `name` was sent.
    #[must_use]
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
    /// Every `(name, value)` pair, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
    /// How many headers were sent.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    /// Whether no header was sent.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl<'a> IntoIterator for &'a Headers {
    type Item = (&'a str, &'a str);
    type IntoIter =
        std::iter::Map<std::slice::Iter<'a, (String, String)>, fn(&'a (String, String)) -> (&'a str, &'a str)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

impl std::fmt::Debug for Headers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut m = f.debug_map();
        for (k, v) in &self.entries {
            if shown(k) {
                m.entry(k, v);
            } else {
                m.entry(k, &format_args!("[redacted]"));
            }
        }
        m.finish()
    }
}

impl FromRequestParts for Headers {
    fn from_parts(req: &Request) -> Result<Self, Error> {
        Ok(Headers { entries: req.header_entries() })
    }
}

/// The request's cookies (from the `Cookie` header), read-only: take `cookies: Cookies` as a
/// handler parameter, then `cookies.get("session")`. `{:?}` prints cookie names only.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Cookies {
    pairs: Vec<(String, String)>,
}

impl Cookies {
    /// Parses a `Cookie` header (`a=1; b="x y"`); pairs without `=` are skipped, quotes removed.
    #[must_use]
    pub fn parse(header: &str) -> Cookies {
        let pairs = header
            .split(';')
            .filter_map(|c| {
                let (k, v) = c.split_once('=')?;
                let k = k.trim();
                (!k.is_empty()).then(|| (k.to_owned(), v.trim().trim_matches('"').to_owned()))
            })
            .collect();
        Cookies { pairs }
    }
    /// The first value of cookie `name` (case-sensitive, as cookie names are).
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
    /// How many cookies named `name` were sent (more than one is a sign of cookie tossing).
    #[must_use]
    pub fn count(&self, name: &str) -> usize {
        self.pairs.iter().filter(|(k, _)| k == name).count()
    }
    /// Every `(name, value)` pair, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
    /// How many cookies were sent.
    #[must_use]
    pub fn len(&self) -> usize {
        self.pairs.len()
    }
    /// Whether no cookie was sent.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }
}

impl std::fmt::Debug for Cookies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.pairs.iter().map(|(k, _)| k)).finish()
    }
}

impl FromRequestParts for Cookies {
    fn from_parts(req: &Request) -> Result<Self, Error> {
        Ok(req.header("cookie").map(|h| Cookies::parse(&h)).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Headers {
        Headers::from_pairs([
            ("Content-Type", "application/json"),
            ("authorization", "Bearer sekrit-1"),
            ("cookie", "CF_Authorization=sekrit-2"),
            ("Cf-Access-Jwt-Assertion", "sekrit-3"),
            ("x-api-key", "sekrit-4"),
            ("x-custom-key", "sekrit-5"),
            ("svix-signature", "v1,sekrit-6"),
            ("user-agent", "curl/8"),
            ("accept", "text/html"),
            ("accept", "application/json"),
        ])
    }

    #[test]
    fn lookups_are_case_insensitive() {
        let h = sample();
        assert_eq!(h.get("content-type"), Some("application/json"));
        assert_eq!(h.get("CONTENT-TYPE"), Some("application/json"));
        assert_eq!(h.get_all("Accept").collect::<Vec<_>>(), ["text/html", "application/json"]);
        assert!(h.contains("X-Api-Key"));
        assert!(!h.contains("x-missing"));
        assert_eq!(h.get("x-missing"), None);
        assert_eq!(h.len(), 10);
        assert_eq!(h.iter().next(), Some(("content-type", "application/json")));
        assert_eq!((&h).into_iter().count(), 10);
        assert!(Headers::default().is_empty());
    }

    #[test]
    fn debug_redacts_credentials_and_unknown_headers() {
        let shown = format!("{:?}", sample());
        assert!(!shown.contains("sekrit"), "{shown}");
        for name in ["authorization", "cookie", "cf-access-jwt-assertion", "x-api-key", "x-custom-key"] {
            assert!(shown.contains(&format!("\"{name}\": [redacted]")), "{name}: {shown}");
        }
        assert!(shown.contains("\"user-agent\": \"curl/8\""), "{shown}");
        assert!(shown.contains("\"content-type\": \"application/json\""), "{shown}");
    }

    #[test]
    fn credential_headers_are_never_in_the_allowlist() {
        for c in CREDENTIAL_HEADERS {
            assert!(!shown(c), "{c}");
        }
    }

    #[test]
    fn cookies_parse_and_debug_names_only() {
        let c = Cookies::parse("a=1; CF_Authorization=tok.en; quoted=\"x y\"; a=2; junk; =v");
        assert_eq!(c.get("a"), Some("1"));
        assert_eq!(c.count("a"), 2);
        assert_eq!(c.get("CF_Authorization"), Some("tok.en"));
        assert_eq!(c.get("cf_authorization"), None);
        assert_eq!(c.get("quoted"), Some("x y"));
        assert_eq!(c.len(), 4);
        let shown = format!("{c:?}");
        assert!(!shown.contains("tok.en") && shown.contains("CF_Authorization"), "{shown}");
        assert!(Cookies::parse("").is_empty());
    }
}
