//! Webmention endpoint discovery (W3C Webmention §3.1.2): the first `Link` header with
//! `rel="webmention"`, else the first `<link>` or `<a>` element with `rel` containing
//! `webmention` in an HTML page, resolved against the page's URL (an empty `href` is the page
//! itself). Whatever is found is only a candidate: the sender still sends through the outbound
//! URL guard, which refuses endpoints on private or local addresses.

use layers_core::Url;

use super::links::start_tags;

/// Whether a `rel` value (a space-separated list of link types) contains `webmention`.
fn rel_has_webmention(rel: &str) -> bool {
    rel.split_ascii_whitespace().any(|t| t.eq_ignore_ascii_case("webmention"))
}

/// Splits a `Link` header value into its link-values: at commas outside `<…>` and quotes.
fn link_values(header: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut in_uri, mut in_quote) = (0, false, false);
    for (i, c) in header.char_indices() {
        match c {
            '<' if !in_quote => in_uri = true,
            '>' if !in_quote => in_uri = false,
            '"' if !in_uri => in_quote = !in_quote,
            ',' if !in_uri && !in_quote => {
                out.push(&header[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&header[start..]);
    out
}

/// The target of the first link-value of `header` whose `rel` contains `webmention`.
fn from_link_header(header: &str) -> Option<String> {
    for value in link_values(header) {
        let value = value.trim();
        let Some(rest) = value.strip_prefix('<') else { continue };
        let Some((uri, params)) = rest.split_once('>') else { continue };
        for param in params.split(';') {
            let Some((name, v)) = param.split_once('=') else { continue };
            if name.trim().eq_ignore_ascii_case("rel") {
                let v = v.trim();
                let v = v.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(v);
                if rel_has_webmention(v) {
                    return Some(uri.trim().to_owned());
                }
            }
        }
    }
    None
}

/// Whether a `content-type` value is HTML (absent counts as HTML, as browsers sniff it).
pub(super) fn is_html(content_type: Option<&str>) -> bool {
    content_type.is_none_or(|ct| {
        let essence = ct.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        essence == "text/html" || essence == "application/xhtml+xml"
    })
}

/// The webmention endpoint a page at `page` advertises, if any: `headers` (lower-case names)
/// first, then, for HTML, `body`. `None` when there is none or it does not resolve to a URL.
pub(super) fn endpoint(headers: &[(String, String)], body: &[u8], page: &Url) -> Option<Url> {
    let header_hit =
        headers.iter().filter(|(k, _)| k.eq_ignore_ascii_case("link")).find_map(|(_, v)| from_link_header(v));
    let found = header_hit.or_else(|| {
        let ct = headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("content-type")).map(|(_, v)| v.as_str());
        if !is_html(ct) {
            return None;
        }
        let html = String::from_utf8_lossy(body);
        start_tags(&html)
            .into_iter()
            .filter(|t| matches!(t.name.as_str(), "link" | "a"))
            .find(|t| t.attr("rel").is_some_and(rel_has_webmention) && t.attr("href").is_some())
            .and_then(|t| t.attr("href").map(str::to_owned))
    })?;
    let href = found.trim_matches(|c: char| c.is_ascii_whitespace());
    let mut url = page.join(href).ok()?;
    url.set_fragment(None);
    matches!(url.scheme(), "http" | "https").then_some(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> Url {
        Url::parse("https://example.org/posts/1?x=y").unwrap()
    }

    fn html(body: &str) -> Option<String> {
        endpoint(&[("content-type".into(), "text/html; charset=utf-8".into())], body.as_bytes(), &page())
            .map(|u| u.to_string())
    }

    fn header(link: &str, body: &str) -> Option<String> {
        endpoint(&[("link".into(), link.into()), ("content-type".into(), "text/html".into())], body.as_bytes(), &page())
            .map(|u| u.to_string())
    }

    #[test]
    fn link_header_first_then_link_or_a_in_document_order() {
        let body = r#"<link rel="webmention" href="/from-html">"#;
        assert_eq!(
            header(r#"<https://wm.example/ep>; rel="webmention""#, body).as_deref(),
            Some("https://wm.example/ep")
        );
        assert_eq!(
            header("</relative?a=1>; rel=webmention", body).as_deref(),
            Some("https://example.org/relative?a=1")
        );
        assert_eq!(
            header(r#"<https://a.example/>; rel="other", <https://b.example/x,y>; rel="me webmention""#, body)
                .as_deref(),
            Some("https://b.example/x,y")
        );
        assert_eq!(
            header(r#"<https://a.example/>; rel="other""#, body).as_deref(),
            Some("https://example.org/from-html")
        );
        assert_eq!(header(r#"<https://a.example/>; REL="WebMention""#, "").as_deref(), Some("https://a.example/"));
        assert_eq!(
            html(r#"<a rel="nofollow webmention" href="/a">x</a><link rel=webmention href="/link">"#).as_deref(),
            Some("https://example.org/a")
        );
        assert_eq!(html(r#"<link href="/b" rel="webmention">"#).as_deref(), Some("https://example.org/b"));
    }

    #[test]
    fn empty_href_is_the_page_itself_and_fragments_are_dropped() {
        assert_eq!(html(r#"<link rel="webmention" href="">"#).as_deref(), Some("https://example.org/posts/1?x=y"));
        assert_eq!(html(r##"<link rel="webmention" href="/e#frag">"##).as_deref(), Some("https://example.org/e"));
    }

    #[test]
    fn what_is_not_an_endpoint() {
        for body in [
            "",
            "<p>no endpoint</p>",
            r#"<!-- <link rel="webmention" href="/c"> -->"#,
            r#"<script>'<link rel="webmention" href="/s">'</script>"#,
            r#"<link rel="webmentions" href="/x">"#,
            r#"<div rel="webmention" href="/div"></div>"#,
            r#"<link rel="webmention">"#,
            r#"<link rel="webmention" href="javascript:alert(1)">"#,
            r#"<link rel="webmention" href="mailto:a@b.example">"#,
            r#"<link rel="webmention" href="/cut-off"#,
        ] {
            assert_eq!(html(body), None, "{body}");
        }
        // Not HTML: the body is not read.
        let json = [("content-type".to_owned(), "application/json".to_owned())];
        assert_eq!(endpoint(&json, br#"<link rel="webmention" href="/j">"#, &page()), None);
        assert_eq!(header("<>; rel=webmention", "").as_deref(), Some("https://example.org/posts/1?x=y"));
        assert_eq!(header("garbage; rel=webmention", ""), None);
    }
}
