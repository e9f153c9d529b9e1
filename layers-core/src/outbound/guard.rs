//! The outbound URL guard: what a Worker may fetch when the URL came from a user.
//!
//! A Worker that fetches a URL a visitor supplied (a webmention's `source`, a link preview, an
//! avatar URL) can be turned into a proxy towards addresses the visitor cannot reach: loopback,
//! the cloud metadata endpoint `169.254.169.254`, a private network. [`UrlPolicy::strict()`]
//! therefore accepts only `https://` URLs on the default port, without userinfo, whose host is a
//! public-looking DNS name:
//!
//! * every IP literal is refused — dotted IPv4, `[…]` IPv6 (v4-mapped too), and the legacy forms
//!   URL parsers turn into IPv4: decimal `2130706433`, hex `0x7f.1`, octal `0177.0.0.1`,
//!   short `127.1`. The WHATWG parser (the `url` crate, `worker::Url`) already normalizes those
//!   to an IPv4 host, so the check is made on the *parsed* host, plus a belt-and-braces check on
//!   the raw text;
//! * names that are local by definition are refused: `localhost`, `*.localhost`, `*.local`,
//!   `*.internal`, `*.localdomain`, `*.home.arpa`, and single-label names (`intranet`);
//! * so are URLs longer than [`MAX_URL_LEN`] and text with spaces or control characters
//!   (which the parser would silently strip).
//!
//! **DNS is the platform's part.** A Worker cannot resolve a name itself, so a public-looking
//! name whose DNS record points at a private address cannot be refused here; Cloudflare's fetch
//! refuses connections to private and reserved ranges from deployed Workers. Local development
//! (`wrangler dev`) has no such protection — which is why the allowlist below is for tests only.
//!
//! [`UrlPolicy::with_allowed_origins`] / [`UrlPolicy::from_var`] name exact origins
//! (`http://127.0.0.1:8788`) that may be used despite the rules — tests and local development
//! point at loopback stubs that way. Anything not listed stays refused: another port on the same
//! address is another origin.
//!
//! [`Outbound::send`](crate::outbound::Outbound::send) checks a public URL, then fetches it with `redirect: "manual"` (a 3xx comes back
//! as is and is **never** followed: its `Location` was not checked), the
//! [`DEFAULT_TIMEOUT_MS`](super::DEFAULT_TIMEOUT_MS) timeout and a body limit.
//!
//! ```
//! use layers_core::outbound::UrlPolicy;
//!
//! let strict = UrlPolicy::strict();
//! assert!(strict.check("https://blog.example.com/post").is_ok());
//! assert_eq!(strict.check("https://169.254.169.254/latest").unwrap_err().reason(), "ip_literal");
//! assert_eq!(strict.check("https://0x7f.1/").unwrap_err().reason(), "ip_literal");
//!
//! let dev = UrlPolicy::from_var(Some("http://127.0.0.1:8788"));
//! assert!(dev.check("http://127.0.0.1:8788/page").is_ok());
//! assert!(dev.check("http://127.0.0.1:8789/page").is_err());
//! ```

use std::fmt;

use worker::url::Host;
use worker::Url;

mod fetch;
mod host;

pub(crate) use fetch::prepare;
pub use fetch::GuardedError;
use host::{check_name, looks_like_ip, raw_authority, raw_host};

/// The longest URL a policy accepts (raw text and normalized form).
pub const MAX_URL_LEN: usize = 2048;

/// Why a URL was refused. [`reason()`](Refused::reason) is a stable machine code; `Display` is a
/// sentence for people. Neither contains the URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Longer than [`MAX_URL_LEN`].
    TooLong,
    /// Spaces or control characters (tabs and newlines would be silently dropped by the parser).
    BadCharacters,
    /// Not an absolute URL.
    NotAUrl,
    /// Not `https://`.
    Scheme,
    /// Has a user name or password (`https://user@host/`).
    Userinfo,
    /// A port other than 443.
    Port,
    /// The host is an IP address, in any of its spellings.
    IpLiteral,
    /// The host is a name that is local by definition (`localhost`, `*.local`, `*.internal`…).
    LocalName,
    /// The host is a single label (`intranet`), resolved through a local search domain.
    SingleLabel,
    /// No host at all.
    NoHost,
    /// No `outbound(…)` declaration of the handler covers the URL (see
    /// [`Outbound`](crate::outbound::Outbound)).
    Undeclared,
}

impl Refused {
    /// A stable machine-readable code: `too_long`, `bad_characters`, `not_a_url`, `scheme`,
    /// `userinfo`, `port`, `ip_literal`, `local_name`, `single_label`, `no_host` or `undeclared`.
    #[must_use]
    pub const fn reason(self) -> &'static str {
        match self {
            Refused::TooLong => "too_long",
            Refused::BadCharacters => "bad_characters",
            Refused::NotAUrl => "not_a_url",
            Refused::Scheme => "scheme",
            Refused::Userinfo => "userinfo",
            Refused::Port => "port",
            Refused::IpLiteral => "ip_literal",
            Refused::LocalName => "local_name",
            Refused::SingleLabel => "single_label",
            Refused::NoHost => "no_host",
            Refused::Undeclared => "undeclared",
        }
    }
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Refused::TooLong => "the URL is longer than 2048 characters",
            Refused::BadCharacters => "the URL contains spaces or control characters",
            Refused::NotAUrl => "the text is not an absolute URL",
            Refused::Scheme => "only https:// URLs may be fetched",
            Refused::Userinfo => "URLs with a user name or password are not fetched",
            Refused::Port => "only the default https port (443) may be fetched",
            Refused::IpLiteral => "the host is an IP address; only DNS names may be fetched",
            Refused::LocalName => "the host is a local name (localhost, .local, .internal…)",
            Refused::SingleLabel => "the host is a single-label name; a fully qualified name is required",
            Refused::NoHost => "the URL has no host",
            Refused::Undeclared => "the handler declares no outbound call to this URL (`outbound(…)` in its attribute)",
        })
    }
}

impl std::error::Error for Refused {}

/// Which URLs may be fetched: [`strict()`](UrlPolicy::strict) rules plus an optional allowlist of
/// exact origins (tests and local development only).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UrlPolicy {
    /// ASCII serializations of the allowed origins (`http://127.0.0.1:8788`).
    allowed: Vec<String>,
}

impl UrlPolicy {
    /// `https` only, default port, no userinfo, a public-looking DNS name (see the module docs).
    #[must_use]
    pub fn strict() -> Self {
        UrlPolicy { allowed: Vec::new() }
    }

    /// The strict rules, except for these exact origins (scheme, host and port), which may be
    /// fetched as they are. An entry that is not a URL with a host is ignored (the policy only
    /// gets stricter); a path in an entry is ignored (`http://127.0.0.1:8788/` is the origin
    /// `http://127.0.0.1:8788`).
    #[must_use]
    pub fn with_allowed_origins(origins: &[&str]) -> Self {
        let allowed = origins
            .iter()
            .filter_map(|o| Url::parse(o.trim()).ok())
            .map(|u| u.origin())
            .filter(worker::url::Origin::is_tuple)
            .map(|o| o.ascii_serialization())
            .collect();
        UrlPolicy { allowed }
    }

    /// The policy a var describes: unset or empty → [`strict()`](UrlPolicy::strict); otherwise
    /// a comma- or space-separated list of origins for
    /// [`with_allowed_origins`](UrlPolicy::with_allowed_origins). Leave the var unset in
    /// production.
    #[must_use]
    pub fn from_var(var: Option<&str>) -> Self {
        let list: Vec<&str> = var.unwrap_or_default().split([',', ' ', '\t', '\n']).filter(|s| !s.is_empty()).collect();
        Self::with_allowed_origins(&list)
    }

    /// The allowlisted origins (ASCII serialization).
    #[must_use]
    pub fn allowed_origins(&self) -> &[String] {
        &self.allowed
    }

    /// Parses `url` and checks it against the policy.
    ///
    /// # Errors
    /// [`Refused`] with the first rule the URL breaks.
    pub fn check(&self, url: &str) -> Result<Url, Refused> {
        if url.len() > MAX_URL_LEN {
            return Err(Refused::TooLong);
        }
        if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(Refused::BadCharacters);
        }
        let parsed = Url::parse(url).map_err(|_| Refused::NotAUrl)?;
        if parsed.as_str().len() > MAX_URL_LEN {
            return Err(Refused::TooLong);
        }
        if !parsed.username().is_empty() || parsed.password().is_some() || raw_authority(url).contains('@') {
            return Err(Refused::Userinfo);
        }
        let origin = parsed.origin();
        if origin.is_tuple() && self.allowed.iter().any(|a| *a == origin.ascii_serialization()) {
            return Ok(parsed);
        }
        if parsed.scheme() != "https" {
            return Err(Refused::Scheme);
        }
        // `port()` is `None` for the scheme's default (443).
        if parsed.port().is_some() {
            return Err(Refused::Port);
        }
        let name = match parsed.host() {
            None => return Err(Refused::NoHost),
            Some(Host::Ipv4(_) | Host::Ipv6(_)) => return Err(Refused::IpLiteral),
            Some(Host::Domain(d)) => d.to_owned(),
        };
        check_name(&name)?;
        // Belt and braces: whatever the parser made of it, the host as typed must not look like
        // an address either.
        if looks_like_ip(raw_host(url)) {
            return Err(Refused::IpLiteral);
        }
        Ok(parsed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Why the strict policy refuses `url` (panics when it accepts it).
    pub(super) fn refused(url: &str) -> &'static str {
        match UrlPolicy::strict().check(url) {
            Ok(u) => panic!("{url:?} was accepted as {u}"),
            Err(r) => r.reason(),
        }
    }

    #[test]
    fn accepts_public_https_names() {
        let p = UrlPolicy::strict();
        for ok in [
            "https://example.com/",
            "https://example.com",
            "https://blog.example.com/2026/11/post?x=1#frag",
            "https://example.com:443/explicit-default-port",
            "HTTPS://EXAMPLE.COM/",
            "https://example.com./trailing-dot",
            "https://xn--bcher-kva.example/",
        ] {
            assert!(p.check(ok).is_ok(), "{ok} refused: {:?}", p.check(ok));
        }
        assert_eq!(p.check("HTTPS://EXAMPLE.COM/Path").unwrap().as_str(), "https://example.com/Path");
    }

    #[test]
    fn idn_is_punycoded_and_accepted() {
        let u = UrlPolicy::strict().check("https://bücher.example/").unwrap();
        assert_eq!(u.host_str(), Some("xn--bcher-kva.example"));
    }

    #[test]
    fn refuses_non_https() {
        for u in [
            "http://example.com/",
            "ftp://example.com/",
            "file:///etc/passwd",
            "data:text/html,hi",
            "ws://example.com/",
        ] {
            let r = refused(u);
            assert!(r == "scheme" || r == "no_host", "{u}: {r}");
        }
        assert_eq!(refused("javascript:alert(1)"), "scheme");
        assert_eq!(refused("//example.com/"), "not_a_url");
        assert_eq!(refused("/relative"), "not_a_url");
        assert_eq!(refused(""), "not_a_url");
    }

    #[test]
    fn refuses_ports_and_userinfo() {
        assert_eq!(refused("https://example.com:22/"), "port");
        assert_eq!(refused("https://example.com:8443/"), "port");
        assert_eq!(refused("https://example.com:80/"), "port");
        assert_eq!(refused("https://user@example.com"), "userinfo");
        assert_eq!(refused("https://user:pw@example.com/"), "userinfo");
        assert_eq!(refused("https://:pw@example.com/"), "userinfo");
        assert_eq!(refused("https://@example.com/"), "userinfo");
        assert_eq!(refused("https://example.com@169.254.169.254/"), "userinfo");
    }

    #[test]
    fn refuses_whitespace_controls_and_overlong() {
        // The parser would silently drop tabs and newlines (`exa\tmple.com` → `example.com`).
        assert_eq!(Url::parse("https://loc\talhost/").unwrap().host_str(), Some("localhost"));
        for u in [
            "https://loc\talhost/",
            "https://127.0.0.\n1/",
            "https://example.com/\r\n",
            " https://example.com/",
            "https://example.com/a b",
            "https://example.com/\u{0}",
        ] {
            assert_eq!(refused(u), "bad_characters", "{u:?}");
        }
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_LEN));
        assert_eq!(refused(&long), "too_long");
        let just = format!("https://example.com/{}", "a".repeat(MAX_URL_LEN - 20));
        assert_eq!(just.len(), MAX_URL_LEN);
        assert!(UrlPolicy::strict().check(&just).is_ok());
        // Normalization may lengthen a URL (IDN → punycode, escapes): the normalized form counts too.
        let grows = format!("https://example.com/{}", "é".repeat(1000));
        assert!(grows.len() <= MAX_URL_LEN);
        assert_eq!(refused(&grows), "too_long");
    }

    #[test]
    fn allowlist_is_exact_origins() {
        let p = UrlPolicy::with_allowed_origins(&["http://127.0.0.1:8788", "http://[::1]:9000/ignored/path"]);
        assert_eq!(p.allowed_origins(), &["http://127.0.0.1:8788".to_owned(), "http://[::1]:9000".to_owned()]);
        assert!(p.check("http://127.0.0.1:8788/page?x=1").is_ok());
        assert!(p.check("http://[::1]:9000/").is_ok());
        assert_eq!(p.check("http://127.0.0.1:8789/").unwrap_err().reason(), "scheme");
        assert_eq!(p.check("https://127.0.0.1:8788/").unwrap_err().reason(), "port");
        assert_eq!(p.check("http://127.0.0.1/").unwrap_err().reason(), "scheme");
        assert_eq!(p.check("http://localhost:8788/").unwrap_err().reason(), "scheme");
        assert_eq!(p.check("http://user@127.0.0.1:8788/").unwrap_err().reason(), "userinfo");
        // The same address spelled another way is the same origin once parsed.
        assert!(p.check("http://2130706433:8788/").is_ok());
        // Strict rules still hold for everything else.
        assert!(p.check("https://example.com/").is_ok());
        assert_eq!(p.check("https://169.254.169.254/").unwrap_err().reason(), "ip_literal");
    }

    #[test]
    fn from_var_parses_lists_and_ignores_junk() {
        assert_eq!(UrlPolicy::from_var(None), UrlPolicy::strict());
        assert_eq!(UrlPolicy::from_var(Some("")), UrlPolicy::strict());
        assert_eq!(UrlPolicy::from_var(Some("  ,  ")), UrlPolicy::strict());
        assert_eq!(UrlPolicy::from_var(Some("not a url, data:text/plain,x")), UrlPolicy::strict());
        let p = UrlPolicy::from_var(Some("http://127.0.0.1:1, http://127.0.0.1:2"));
        assert_eq!(p.allowed_origins().len(), 2);
        assert!(p.check("http://127.0.0.1:2/").is_ok());
        assert!(p.check("http://127.0.0.1:3/").is_err());
    }

    #[test]
    fn refusals_never_contain_the_url() {
        let url = "https://user:secret-token@169.254.169.254/?key=secret-token";
        let r = UrlPolicy::strict().check(url).unwrap_err();
        let text = format!("{r} {r:?} {}", r.reason());
        assert!(!text.contains("secret-token") && !text.contains("169.254"), "{text}");
        let g = GuardedError::from(r);
        assert!(!g.to_string().contains("secret-token"));
    }
}
