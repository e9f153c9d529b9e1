//! The `http(s)://` URLs written in a post's plain text, found one way for both their uses:
//! the post page makes them links ([`crate::blog`]) and publishing sends them webmentions
//! ([`crate::webmention::outside_links`]) — so what is linked is what is mentioned.

use std::ops::Range;

use layers_core::Url;

/// What ends a URL in running text: it stops at whitespace, `<`, `>` or `"`, and these trailing
/// characters are read as punctuation of the sentence, not part of the URL.
const TRAILING: [char; 9] = ['.', ',', ';', ':', '!', '?', ')', ']', '\''];

/// The URLs of `text`, in order: each one's byte range in `text` (trailing punctuation left
/// out) and its parsed form. Text that starts like a URL but does not parse as one with a host
/// (`https://` alone, `https://"…`) is not a URL.
#[must_use]
pub fn urls(text: &str) -> Vec<(Range<usize>, Url)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(off) = text[from..].find("http") {
        let start = from + off;
        let rest = &text[start..];
        if !rest.starts_with("http://") && !rest.starts_with("https://") {
            from = start + "http".len();
            continue;
        }
        let end =
            rest.find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"')).map_or(text.len(), |e| start + e);
        let stop = start + text[start..end].trim_end_matches(TRAILING).len();
        if let Ok(url) = Url::parse(&text[start..stop]) {
            if url.host_str().is_some() {
                out.push((start..stop, url));
            }
        }
        from = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::urls;

    fn found(text: &str) -> Vec<&str> {
        urls(text).into_iter().map(|(r, _)| &text[r]).collect()
    }

    #[test]
    fn urls_in_running_text() {
        assert_eq!(
            found("See https://a.example/x?y=1&z=2. Or (http://b.example/), then https://c.example/p!"),
            ["https://a.example/x?y=1&z=2", "http://b.example/", "https://c.example/p"]
        );
        // The earlier of an http:// and an https:// URL comes first.
        assert_eq!(found("http://a.example/ and https://b.example/"), ["http://a.example/", "https://b.example/"]);
        assert_eq!(found("<a href=\"https://a.example/\">"), ["https://a.example/"]);
        assert!(found("https:// nothing http:// httpx://a.example ftp://a.example a.example/x").is_empty());
        assert!(found("https://\"onmouseover=x").is_empty());
        assert_eq!(found("héllo https://é.example/ü."), ["https://é.example/ü"]);
    }
}
