//! Whether a source page links to the target: the `href`s of `<a>`, `<link>` and `<area>` in
//! its HTML (comments and raw-text elements skipped, entities decoded), resolved against the
//! page and compared with the target as the same resource.

use layers_core::Url;

/// Whether `a` and `b` name the same page: same scheme, host and port, same path up to one
/// trailing `/`, same query; fragments ignored.
pub(super) fn same_resource(a: &Url, b: &Url) -> bool {
    let path = |u: &Url| -> String {
        let p = u.path();
        p.strip_suffix('/').filter(|s| !s.is_empty()).unwrap_or(p).to_owned()
    };
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
        && path(a) == path(b)
        && a.query() == b.query()
}

/// Whether the HTML page at `base` has a link (`href` of `<a>`, `<link>` or `<area>`) that
/// resolves to `target`. Text that merely contains the URL (prose, comments, scripts, other
/// attributes) does not count.
pub(crate) fn links_to(html: &str, base: &Url, target: &Url) -> bool {
    hrefs(html)
        .iter()
        .filter_map(|h| base.join(h.trim_matches(|c: char| c.is_ascii_whitespace())).ok())
        .any(|u| same_resource(&u, target))
}

/// The `href` values of `<a>`, `<link>` and `<area>` start tags, entity-decoded, in order.
/// Comments and the contents of `<script>`, `<style>`, `<textarea>`, `<title>` are skipped.
fn hrefs(html: &str) -> Vec<String> {
    start_tags(html)
        .into_iter()
        .filter(|t| matches!(t.name.as_str(), "a" | "link" | "area"))
        .filter_map(|t| t.attr("href").map(str::to_owned))
        .collect()
}

/// A start tag: its lower-case name and its attributes (lower-case names, entity-decoded
/// values; the first of duplicate attributes wins, as in HTML).
#[derive(Debug, PartialEq, Eq)]
pub(super) struct StartTag {
    pub(super) name: String,
    attrs: Vec<(String, String)>,
}

impl StartTag {
    /// The value of attribute `name` (lower-case), if present (`""` for a bare attribute).
    pub(super) fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// The start tags of `html`, in document order. Comments and the contents of `<script>`,
/// `<style>`, `<textarea>`, `<title>` are skipped; a tag cut off by the end of the document is
/// dropped, as HTML parsers do.
pub(super) fn start_tags(html: &str) -> Vec<StartTag> {
    let b = html.as_bytes();
    let lower = html.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(off) = b[i..].iter().position(|&c| c == b'<') {
        i += off;
        if lower[i..].starts_with("<!--") {
            i = lower[i + 4..].find("-->").map_or(b.len(), |e| i + 4 + e + 3);
            continue;
        }
        i += 1;
        let name_start = i;
        while i < b.len() && b[i].is_ascii_alphanumeric() {
            i += 1;
        }
        if i == name_start || !b[name_start].is_ascii_alphabetic() {
            continue;
        }
        let tag = lower[name_start..i].to_owned();
        let mut attrs: Vec<(String, String)> = Vec::new();
        let complete = loop {
            while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
                i += 1;
            }
            if i >= b.len() {
                break false;
            }
            if b[i] == b'>' {
                break true;
            }
            let an = i;
            while i < b.len() && !b[i].is_ascii_whitespace() && !matches!(b[i], b'=' | b'>' | b'/') {
                i += 1;
            }
            let attr = &lower[an..i];
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            let mut value = None;
            if i < b.len() && b[i] == b'=' {
                i += 1;
                while i < b.len() && b[i].is_ascii_whitespace() {
                    i += 1;
                }
                if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
                    let q = b[i];
                    let vs = i + 1;
                    let ve = b[vs..].iter().position(|&c| c == q).map_or(b.len(), |e| vs + e);
                    value = Some(&html[vs..ve]);
                    i = (ve + 1).min(b.len());
                } else {
                    let vs = i;
                    while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'>' {
                        i += 1;
                    }
                    value = Some(&html[vs..i]);
                }
            }
            // The first of duplicate attributes wins.
            if !attrs.iter().any(|(k, _)| k == attr) {
                attrs.push((attr.to_owned(), value.map(decode_entities).unwrap_or_default()));
            }
        };
        let skip_text = matches!(tag.as_str(), "script" | "style" | "textarea" | "title");
        if complete {
            out.push(StartTag { name: tag.clone(), attrs });
        }
        if skip_text {
            let close = format!("</{tag}");
            i = lower[i.min(b.len())..].find(&close).map_or(b.len(), |e| i + e);
        }
    }
    out
}

/// Decodes the character references an attribute value may hold (`&amp;`, `&#47;`, `&#x2F;`…).
fn decode_entities(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut rest = v;
    while let Some(p) = rest.find('&') {
        out.push_str(&rest[..p]);
        rest = &rest[p..];
        let end = rest.find(';').filter(|&e| e <= 10);
        let decoded = end.and_then(|e| {
            let name = &rest[1..e];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "sol" => Some('/'),
                "colon" => Some(':'),
                "period" => Some('.'),
                _ => {
                    let num = name.strip_prefix('#')?;
                    let code = match num.strip_prefix(['x', 'X']) {
                        Some(h) => u32::from_str_radix(h, 16).ok()?,
                        None => num.parse().ok()?,
                    };
                    char::from_u32(code)
                }
            };
            c.map(|c| (c, e))
        });
        match decoded {
            Some((c, e)) => {
                out.push(c);
                rest = &rest[e + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    const T: &str = "https://layers.test/blog/hello-layers";

    fn links(html: &str) -> bool {
        links_to(html, &u("https://source.example/posts/1"), &u(T))
    }

    #[test]
    fn finds_real_links() {
        assert!(links(r#"<p>See <a href="https://layers.test/blog/hello-layers">this</a></p>"#));
        assert!(links(r"<A HREF='https://LAYERS.test:443/blog/hello-layers/#comments'>x</A>"));
        assert!(links(r"<a class=u-in-reply-to href=https://layers.test/blog/hello-layers>x</a>"));
        assert!(links(r#"<link rel="in-reply-to" href="https://layers.test/blog/hello-layers">"#));
        assert!(links(r#"<a href = "https:&#x2F;&#x2F;layers.test/blog/hello-layers">x</a>"#));
        assert!(links(r#"<a title="x > y" href="https://layers.test/blog/hello-layers">x</a>"#));
        // Relative to a source on the same site.
        assert!(links_to(r#"<a href="../blog/hello-layers">x</a>"#, &u("https://layers.test/notes/1"), &u(T)));
    }

    #[test]
    fn a_mention_is_not_a_link() {
        for html in [
            "I read https://layers.test/blog/hello-layers yesterday",
            r#"<a href="https://layers.test/blog/hello-layers-2">x</a>"#,
            r#"<a href="https://layers.test/blog/hello-layers?x=1">x</a>"#,
            r#"<a href="http://layers.test/blog/hello-layers">x</a>"#,
            r#"<a href="https://layers.test.evil.example/blog/hello-layers">x</a>"#,
            r#"<a data-href="https://layers.test/blog/hello-layers">x</a>"#,
            r#"<img src="https://layers.test/blog/hello-layers">"#,
            r#"<div href="https://layers.test/blog/hello-layers">x</div>"#,
            r#"<!-- <a href="https://layers.test/blog/hello-layers">x</a> -->"#,
            r#"<script>var s = '<a href="https://layers.test/blog/hello-layers">';</script>"#,
            r#"<textarea><a href="https://layers.test/blog/hello-layers">x</a></textarea>"#,
            r#"<a href="/blog/hello-layers">relative to the source's own site</a>"#,
            "",
            "<a href",
            "<a href='https://layers.test/blog/hello-layers",
            "<a href='https://layers.test/blog/hello-layers'",
            "<a href=https://layers.test/blog/hello-layers",
            r#"<a href="https://elsewhere.example/" href="https://layers.test/blog/hello-layers">x</a>"#,
        ] {
            assert!(!links(html), "{html}");
        }
    }

    #[test]
    fn entities() {
        assert_eq!(decode_entities("a&amp;b&#47;c&#x2f;&bogus;&"), "a&b/c/&bogus;&");
        assert_eq!(decode_entities("&#xFFFFFFFF;"), "&#xFFFFFFFF;");
    }
}
