//! The one normalized path that routing and handlers both see.
//!
//! A path that could be read two ways is refused before routing, never guessed at:
//! an encoded `/` or `\`, a double encoding (`%25`), a dot segment after decoding, an
//! empty interior segment (`//`), control characters or invalid UTF-8. Unreserved
//! characters that were percent-encoded (`/%61dmin`) are decoded, so they route exactly
//! like their plain form and meet the same verifier.

use std::fmt;

/// Longest path (in bytes, before decoding) that is routed at all.
pub const MAX_PATH_LEN: usize = 4096;

/// Why a request path was refused (the request is answered with 400, or 414 when too long).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathError {
    /// The path does not start with `/`.
    NotAbsolute,
    /// The path is longer than [`MAX_PATH_LEN`].
    TooLong,
    /// `//` somewhere in the path: an empty segment.
    EmptySegment,
    /// A `%` not followed by two hex digits.
    BadEscape,
    /// After decoding, a segment holds `/`, `\` or `%` and could be read as more than one path.
    AmbiguousEncoding,
    /// A control character (or NUL) after decoding.
    ControlCharacter,
    /// The decoded bytes are not UTF-8.
    InvalidUtf8,
    /// A `.` or `..` segment survived until routing.
    DotSegment,
}

impl PathError {
    /// The HTTP status the request is answered with.
    #[must_use]
    pub fn status(&self) -> u16 {
        match self {
            PathError::TooLong => 414,
            _ => 400,
        }
    }
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            PathError::NotAbsolute => "path does not start with '/'",
            PathError::TooLong => "path too long",
            PathError::EmptySegment => "empty path segment ('//')",
            PathError::BadEscape => "malformed percent-escape",
            PathError::AmbiguousEncoding => "encoded '/', '\\' or '%' in path",
            PathError::ControlCharacter => "control character in path",
            PathError::InvalidUtf8 => "path is not valid UTF-8",
            PathError::DotSegment => "dot segment in path",
        };
        f.write_str(s)
    }
}

impl std::error::Error for PathError {}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Normalizes a raw (percent-encoded) URL path into the single decoded form that is routed.
///
/// ```
/// use layers_core::request::path::{normalize, PathError};
/// assert_eq!(normalize("/%61pi/users").unwrap(), "/api/users");
/// assert_eq!(normalize("/admin/%2e%2e/x"), Err(PathError::DotSegment));
/// assert_eq!(normalize("/a%2fb"), Err(PathError::AmbiguousEncoding));
/// assert_eq!(normalize("//admin"), Err(PathError::EmptySegment));
/// ```
///
/// # Errors
/// Returns the [`PathError`] describing why the path cannot be read one way only.
pub fn normalize(raw: &str) -> Result<String, PathError> {
    if raw.len() > MAX_PATH_LEN {
        return Err(PathError::TooLong);
    }
    let Some(rest) = raw.strip_prefix('/') else {
        return Err(PathError::NotAbsolute);
    };
    if rest.is_empty() {
        return Ok("/".to_owned());
    }
    let segments: Vec<&str> = rest.split('/').collect();
    let last = segments.len() - 1;
    let mut out = String::with_capacity(raw.len());
    for (i, seg) in segments.iter().enumerate() {
        out.push('/');
        if seg.is_empty() {
            // A trailing slash is kept (`/blog/` is its own path); an interior one is refused.
            if i == last {
                continue;
            }
            return Err(PathError::EmptySegment);
        }
        let decoded = decode_segment(seg)?;
        if decoded == "." || decoded == ".." {
            return Err(PathError::DotSegment);
        }
        out.push_str(&decoded);
    }
    Ok(out)
}

fn decode_segment(seg: &str) -> Result<String, PathError> {
    let bytes = seg.as_bytes();
    let mut buf = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let decoded = if b == b'%' {
            let (Some(hi), Some(lo)) =
                (bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex))
            else {
                return Err(PathError::BadEscape);
            };
            i += 3;
            let v = hi << 4 | lo;
            if matches!(v, b'/' | b'\\' | b'%') {
                return Err(PathError::AmbiguousEncoding);
            }
            v
        } else {
            i += 1;
            if b == b'\\' {
                return Err(PathError::AmbiguousEncoding);
            }
            b
        };
        if decoded < 0x20 || decoded == 0x7f {
            return Err(PathError::ControlCharacter);
        }
        buf.push(decoded);
    }
    let s = String::from_utf8(buf).map_err(|_| PathError::InvalidUtf8)?;
    // C1 controls (U+0080–U+009F, e.g. NEL) are control characters too (found by fuzzing).
    if s.chars().any(char::is_control) {
        return Err(PathError::ControlCharacter);
    }
    Ok(s)
}

/// The path and query of the URL string the runtime hands the Worker (`request.url`), read
/// without a full URL parse when that is provably the same answer: an `http(s)://` URL whose
/// path and query hold only characters a WHATWG URL parser keeps as they are (no dot
/// segment, no `%2e`, no `\\`, nothing it would percent-encode). `None` means the caller must
/// parse the URL properly; the fragment, if any, is dropped.
#[must_use]
pub fn split_simple_url(url: &str) -> Option<(&str, Option<&str>)> {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"))?;
    let after_host = rest.find(['/', '?', '#', '\\'])?;
    let tail = &rest[after_host..];
    let tail = tail.split_once('#').map_or(tail, |(t, _)| t);
    let (path, query) = match tail.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (tail, None),
    };
    // Kept as is by the parser: RFC 3986 unreserved and sub-delims, `:`, `@`, `/`, and `%`
    // (existing escapes stay as they are). `'` is left out (special URLs encode it in the
    // query), and so is everything else.
    let kept = |b: u8, extra: u8| b.is_ascii_alphanumeric() || b"-._~!$&()*+,;=:@/%".contains(&b) || b == extra;
    let simple_path = path.starts_with('/')
        && path.bytes().all(|b| kept(b, b'/'))
        && !path.contains("/.")
        && !path.to_ascii_lowercase().contains("%2e");
    let simple_query = query.is_none_or(|q| q.bytes().all(|b| kept(b, b'?')));
    (simple_path && simple_query).then_some((path, query))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_paths_pass_unchanged() {
        for p in ["/", "/a", "/a/b", "/blog/hello-world", "/a/b/", "/é"] {
            assert_eq!(normalize(p).unwrap(), p);
        }
    }

    #[test]
    fn unreserved_escapes_decode() {
        assert_eq!(normalize("/%61dmin").unwrap(), "/admin");
        assert_eq!(normalize("/%C3%A9t%C3%A9").unwrap(), "/été");
        assert_eq!(normalize("/a%20b").unwrap(), "/a b");
    }

    #[test]
    fn ambiguous_paths_are_refused() {
        use PathError::*;
        let cases = [
            ("//admin", EmptySegment),
            ("/a//b", EmptySegment),
            ("/admin%2fx", AmbiguousEncoding),
            ("/admin%2Fx", AmbiguousEncoding),
            ("/admin%5cx", AmbiguousEncoding),
            ("/admin\\x", AmbiguousEncoding),
            ("/%2561dmin", AmbiguousEncoding),
            ("/admin/%2e%2e/x", DotSegment),
            ("/admin/%2E/x", DotSegment),
            ("/admin/../x", DotSegment),
            ("/./x", DotSegment),
            ("/a%00b", ControlCharacter),
            ("/a%0ab", ControlCharacter),
            ("/a%7f", ControlCharacter),
            // Fuzzing regression (fuzz/ path_router): C1 controls, escaped or raw.
            ("/%C2%9A/", ControlCharacter),
            ("/a%C2%85b", ControlCharacter),
            ("/a\u{85}b", ControlCharacter),
            ("/a%ff", InvalidUtf8),
            ("/a%c3", InvalidUtf8),
            ("/a%", BadEscape),
            ("/a%4", BadEscape),
            ("/a%zz", BadEscape),
            ("a/b", NotAbsolute),
            ("", NotAbsolute),
        ];
        for (p, e) in cases {
            assert_eq!(normalize(p), Err(e), "{p}");
        }
        assert_eq!(normalize(&"/a".repeat(3000)), Err(TooLong));
        assert_eq!(TooLong.status(), 414);
        assert_eq!(EmptySegment.status(), 400);
    }

    /// The fast split gives exactly what a WHATWG parse (the `url` crate, as `worker::Url`)
    /// gives, whenever it answers at all.
    #[test]
    fn simple_url_split_agrees_with_a_full_parse() {
        let hosts = ["http://h", "https://example.com:8443", "http://127.0.0.1:8787", "http://[::1]", "http://u:p@h"];
        let tails = [
            "/",
            "/a/b",
            "/a/b/",
            "/%61dmin",
            "/a%2fb",
            "/a/./b",
            "/a/../b",
            "/a/%2e%2E/b",
            "/.",
            "/..",
            "/a/.",
            "/a\\b",
            "/a b",
            "/a\"b",
            "/a<b>",
            "/é",
            "/a%zz",
            "/a;b=c",
            "/a@b:c",
            "/a'b",
            "/a`b",
            "/a{b}",
            "/a|b",
            "/a^b",
            "/a?x=1&y=2",
            "/a?x=%20y",
            "/a?x y",
            "/a?x'y",
            "/a?x\"y",
            "/a?q=/?/",
            "/a#frag",
            "/a?x#f",
            "?x",
            "#f",
            "",
            "/a\tb",
            "/a\nb",
            "/%",
            "/a%2",
            "/~user/(x)*+,$!",
            "//a",
            "/a//b",
        ];
        let mut fast = 0;
        for h in hosts {
            for t in tails {
                let raw = format!("{h}{t}");
                let Some((path, query)) = split_simple_url(&raw) else { continue };
                fast += 1;
                let u = worker::Url::parse(&raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
                assert_eq!(path, u.path(), "{raw}");
                assert_eq!(query, u.query(), "{raw}");
                // And what the parser serializes (what the runtime hands over) splits the same.
                let again = split_simple_url(u.as_str()).expect("a serialized simple URL stays simple");
                assert_eq!(again, (u.path(), u.query()), "{raw}");
            }
        }
        assert!(fast >= 60, "only {fast} URLs took the fast path");
        for not_simple in ["ftp://h/a", "http://h", "http://h/a/./b", "http://h/a%2E", "http://h/a b", "http://h/a?x y"]
        {
            assert_eq!(split_simple_url(not_simple), None, "{not_simple}");
        }
    }

    #[test]
    fn normalizing_is_idempotent_on_its_output() {
        for p in ["/%61pi/x", "/a/b/", "/caf%C3%A9", "/x%20y"] {
            let once = normalize(p).unwrap();
            // The decoded form may contain characters a URL would escape; it must not decode further.
            assert!(!once.contains('%'));
            assert_eq!(normalize(&once).unwrap(), once);
        }
    }
}
