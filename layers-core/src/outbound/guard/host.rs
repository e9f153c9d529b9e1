//! How the guard classifies a URL's host: IP literals in any spelling (dotted, decimal, hex,
//! octal, short, percent-escaped, `[…]` IPv6), names that are local by definition, single labels;
//! and the raw text's authority and host, checked besides what the parser made of them.

use super::Refused;

/// Name suffixes that only ever resolve inside a network (RFC 6761, RFC 6762, RFC 8375, and the
/// `.internal` TLD reserved for private use).
const LOCAL_SUFFIXES: &[&str] = &["localhost", "local", "internal", "localdomain", "home.arpa"];

/// Rules on a parsed (lower-case, punycode) DNS name.
pub(super) fn check_name(name: &str) -> Result<(), Refused> {
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty() {
        return Err(Refused::NoHost);
    }
    if LOCAL_SUFFIXES.iter().any(|s| name == *s || name.strip_suffix(s).is_some_and(|p| p.ends_with('.'))) {
        return Err(Refused::LocalName);
    }
    let labels: Vec<&str> = name.split('.').collect();
    if labels.iter().any(|l| l.is_empty()) {
        return Err(Refused::NotAUrl);
    }
    if labels.len() < 2 {
        return Err(Refused::SingleLabel);
    }
    // A name whose last label is numeric is an address to WHATWG parsers (and some resolvers).
    if labels.last().is_some_and(|l| looks_like_ip(l)) {
        return Err(Refused::IpLiteral);
    }
    Ok(())
}

/// The authority part of the raw text (between `//` and the first `/`, `?`, `#` or `\`).
pub(super) fn raw_authority(url: &str) -> &str {
    let rest = url.split_once("//").map_or("", |(_, r)| r);
    rest.split(['/', '?', '#', '\\']).next().unwrap_or_default()
}

/// The host part of the raw text: the authority without userinfo and port.
pub(super) fn raw_host(url: &str) -> &str {
    let auth = raw_authority(url);
    let host = auth.rsplit_once('@').map_or(auth, |(_, h)| h);
    if host.starts_with('[') {
        return host;
    }
    host.split(':').next().unwrap_or_default()
}

/// Whether `host` is written like an address: an IPv6 literal, or dot-separated parts made only
/// of digits / `0x` hex (decimal, octal, hex, short forms), percent-escapes included.
pub(super) fn looks_like_ip(host: &str) -> bool {
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    if h.starts_with('[') || h.contains(':') {
        return true;
    }
    if h.contains('%') {
        // Percent-escaped digits (`%31%32%37.0.0.1`): judge the decoded text.
        let decoded = worker::url::form_urlencoded::parse(format!("x={h}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        return decoded != h && looks_like_ip(&decoded);
    }
    !h.is_empty()
        && h.split('.').all(|part| {
            let digits = part.strip_prefix("0x").unwrap_or(part);
            part.starts_with("0x") && digits.bytes().all(|b| b.is_ascii_hexdigit())
                || !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit())
        })
}

#[cfg(test)]
mod tests {
    use worker::url::Host;
    use worker::Url;

    use crate::outbound::UrlPolicy;

    use super::super::tests::refused;

    #[test]
    fn refuses_every_ipv4_spelling() {
        for u in [
            "https://127.0.0.1/",
            "https://169.254.169.254/",
            "https://169.254.169.254/latest/meta-data/",
            "https://10.0.0.1/",
            "https://8.8.8.8/",
            "https://2130706433/",
            "https://0x7f000001/",
            "https://0x7f.1/",
            "https://0X7F.0.0.1/",
            "https://0177.0.0.1/",
            "https://0177.1/",
            "https://127.1/",
            "https://127.0.1/",
            "https://127.0.0.1./",
            "https://0/",
            "https://%31%32%37.0.0.1/",
            "https://１２７.０.０.１/",
            "https://169.254.169.254:443/",
        ] {
            assert_eq!(refused(u), "ip_literal", "{u}");
        }
    }

    #[test]
    fn the_parser_normalizes_legacy_forms_to_ipv4() {
        // What the WHATWG parser does with them: the check above is on this parsed host.
        for (raw, want) in [
            ("https://2130706433/", "127.0.0.1"),
            ("https://0x7f.1/", "127.0.0.1"),
            ("https://0177.0.0.1/", "127.0.0.1"),
            ("https://127.1/", "127.0.0.1"),
            ("https://%31%32%37.0.0.1/", "127.0.0.1"),
        ] {
            let u = Url::parse(raw).unwrap();
            assert_eq!(u.host(), Some(Host::Ipv4(want.parse().unwrap())), "{raw}");
        }
    }

    #[test]
    fn refuses_ipv6_literals() {
        for u in [
            "https://[::1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://[::ffff:7f00:1]/",
            "https://[::ffff:169.254.169.254]/",
            "https://[fd00::1]/",
            "https://[2001:db8::1]/",
            "https://[0:0:0:0:0:0:0:1]/",
        ] {
            assert_eq!(refused(u), "ip_literal", "{u}");
        }
        // A zone id is not valid in a URL at all.
        assert_eq!(refused("https://[fe80::1%25eth0]/"), "not_a_url");
    }

    #[test]
    fn refuses_numeric_last_labels() {
        // Parsers refuse these (the last label "ends in a number"); either way they are not fetched.
        for u in ["https://1.2.3.4.5/", "https://example.123/", "https://foo.0x10/"] {
            let r = refused(u);
            assert!(r == "ip_literal" || r == "not_a_url", "{u}: {r}");
        }
    }

    #[test]
    fn refuses_local_names() {
        for u in [
            "https://localhost/",
            "https://LOCALHOST/",
            "https://localhost./",
            "https://a.b.c.localhost/",
            "https://printer.local/",
            "https://metadata.google.internal/",
            "https://db.internal./",
            "https://box.localdomain/",
            "https://nas.home.arpa/",
            "https://%6c%6f%63%61%6c%68%6f%73%74/",
            "https://ｌｏｃａｌｈｏｓｔ/",
        ] {
            assert_eq!(refused(u), "local_name", "{u}");
        }
        // Names that merely contain the words are fine.
        let p = UrlPolicy::strict();
        assert!(p.check("https://localhost.example.com/").is_ok());
        assert!(p.check("https://notlocal.com/").is_ok());
        assert!(p.check("https://internal.example/").is_ok());
    }

    #[test]
    fn refuses_single_labels() {
        for u in ["https://intranet/", "https://metadata/", "https://intranet./", "https://com/"] {
            assert_eq!(refused(u), "single_label", "{u}");
        }
    }

    #[test]
    fn backslashes_are_slashes_for_special_schemes() {
        // `https://example.com\@169.254.169.254/`: the parser reads host example.com; the raw
        // authority check agrees (it stops at `\`), so this is a plain public URL.
        let u = UrlPolicy::strict().check("https://example.com\\@169.254.169.254/").unwrap();
        assert_eq!(u.host_str(), Some("example.com"));
        assert_eq!(refused("https:\\\\127.0.0.1\\"), "ip_literal");
    }
}
