//! Responses a handler builds often: [`Html`] pages (with [`escape_html`] for the values put
//! into them) and [`Redirect`]s that cannot be turned into an open redirect.
//!
//! Both convert into a `Response` with `.into()` (or `.into_response()`), so a handler keeps
//! its `-> Result<Response>` signature:
//!
//! ```no_run
//! # use layers_core::prelude::*;
//! #[route(GET "/hello/:name", identity = Public)]
//! async fn hello(Path(name): Path<String>, _: Claims<'_, Public>) -> Result<Response> {
//!     Ok(Html(format!("<h1>Hello, {}</h1>", escape_html(&name))).into())
//! }
//!
//! #[route(GET "/old", identity = Public)]
//! async fn old(_: Claims<'_, Public>) -> Result<Response> {
//!     Ok(Redirect::permanent("/new")?.into())
//! }
//! # fn main() {}
//! ```

use std::borrow::Cow;

use crate::error::Error;

/// Escapes `&`, `<`, `>`, `"` and `'` so `text` can go into HTML element content or a quoted
/// attribute value. (Not for URLs in `href`/`src`, scripts or styles: validate those.)
///
/// ```
/// use layers_core::escape_html;
/// assert_eq!(escape_html("<a href=\"x\">Tom & 'Jerry'</a>"), "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;");
/// assert_eq!(escape_html("plain"), "plain");
/// ```
#[must_use]
pub fn escape_html(text: &str) -> Cow<'_, str> {
    if !text.contains(['&', '<', '>', '"', '\'']) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// An HTML page: `200`, `content-type: text/html; charset=utf-8`. The body is sent as is:
/// escape what you interpolate with [`escape_html`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Html<T = String>(pub T);

impl<T: Into<String>> Html<T> {
    /// The response (same as `.into()`).
    #[must_use]
    pub fn into_response(self) -> worker::Response {
        let headers = worker::Headers::new();
        let _ = headers.set("content-type", "text/html; charset=utf-8");
        worker::ResponseBuilder::new().with_headers(headers).fixed(self.0.into().into_bytes())
    }
}

impl<T: Into<String>> From<Html<T>> for worker::Response {
    fn from(h: Html<T>) -> worker::Response {
        h.into_response()
    }
}

/// A redirect. The target is a same-origin absolute path (`/blog/x?page=2`) unless it was made
/// with [`Redirect::external`]: a target from user input (a `?next=` parameter) cannot send the
/// browser to another site. Constructors refuse with 400 a target that is not one:
/// `//evil.example`, `/\evil.example`, `https://…`, `javascript:…`, relative paths, or any
/// control character (CR/LF would split the header; browsers drop tabs and newlines and
/// would read `/\t/evil` as `//evil`). Non-ASCII characters are percent-encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    status: u16,
    location: String,
}

/// Longest redirect target accepted.
pub const MAX_REDIRECT_LEN: usize = 2048;

impl Redirect {
    /// `302 Found` to a same-origin path.
    ///
    /// # Errors
    /// 400 when `path` is not a same-origin absolute path (see [`Redirect`]).
    pub fn to(path: &str) -> Result<Redirect, Error> {
        Self::local(302, path)
    }
    /// `303 See Other` to a same-origin path: after a form POST, "go GET this".
    ///
    /// # Errors
    /// As [`Redirect::to`].
    pub fn see_other(path: &str) -> Result<Redirect, Error> {
        Self::local(303, path)
    }
    /// `307 Temporary Redirect` (method and body kept) to a same-origin path.
    ///
    /// # Errors
    /// As [`Redirect::to`].
    pub fn temporary(path: &str) -> Result<Redirect, Error> {
        Self::local(307, path)
    }
    /// `308 Permanent Redirect` (cached by browsers) to a same-origin path.
    ///
    /// # Errors
    /// As [`Redirect::to`].
    pub fn permanent(path: &str) -> Result<Redirect, Error> {
        Self::local(308, path)
    }
    /// `302 Found` to another site: an explicit, `https://` URL. Never pass user input here
    /// without checking its host against a list of your own.
    ///
    /// # Errors
    /// 400 unless `url` is `https://host[/…]` with no credentials, whitespace, backslash or
    /// control character.
    pub fn external(url: &str) -> Result<Redirect, Error> {
        check_external(url).map(|()| Redirect { status: 302, location: url.to_owned() }).map_err(|why| {
            Error::bad_request("invalid redirect target").with_detail(format!("external redirect: {why}"))
        })
    }
    /// The same redirect with another 3xx status (301, 302, 303, 307 or 308).
    ///
    /// # Errors
    /// 500 for any other status (a bug in the handler).
    pub fn with_status(mut self, status: u16) -> Result<Redirect, Error> {
        if !matches!(status, 301 | 302 | 303 | 307 | 308) {
            return Err(Error::internal(format!("redirect status {status} is not 301, 302, 303, 307 or 308")));
        }
        self.status = status;
        Ok(self)
    }
    /// The status.
    #[must_use]
    pub fn status(&self) -> u16 {
        self.status
    }
    /// The `location` header value.
    #[must_use]
    pub fn location(&self) -> &str {
        &self.location
    }
    /// The response (same as `.into()`): the status, `location`, and an empty body.
    #[must_use]
    pub fn into_response(self) -> worker::Response {
        let headers = worker::Headers::new();
        // Validated ASCII without control characters: `set` cannot fail.
        let _ = headers.set("location", &self.location);
        worker::ResponseBuilder::new().with_status(self.status).with_headers(headers).empty()
    }

    fn local(status: u16, path: &str) -> Result<Redirect, Error> {
        same_origin_path(path)
            .map(|location| Redirect { status, location })
            .map_err(|why| Error::bad_request("invalid redirect target").with_detail(format!("redirect: {why}")))
    }
}

impl From<Redirect> for worker::Response {
    fn from(r: Redirect) -> worker::Response {
        r.into_response()
    }
}

/// `path` as a `location` value, if it is a same-origin absolute path.
fn same_origin_path(path: &str) -> Result<String, &'static str> {
    if path.len() > MAX_REDIRECT_LEN {
        return Err("target too long");
    }
    let mut chars = path.chars();
    if chars.next() != Some('/') {
        return Err("target must be an absolute path starting with `/`");
    }
    if matches!(chars.next(), Some('/' | '\\')) {
        return Err("target starting with `//` or `/\\` would name another host");
    }
    if path.contains('\\') {
        return Err("target contains a backslash");
    }
    if path.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err("target contains whitespace or a control character");
    }
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    Ok(out)
}

fn check_external(url: &str) -> Result<(), &'static str> {
    if url.len() > MAX_REDIRECT_LEN {
        return Err("target too long");
    }
    let Some(rest) = url.get(..8).filter(|s| s.eq_ignore_ascii_case("https://")).map(|_| &url[8..]) else {
        return Err("an external target must start with https://");
    };
    if !url.is_ascii() || url.chars().any(|c| c.is_ascii_control() || c == ' ' || c == '\\') {
        return Err("target contains whitespace, a backslash, a control or a non-ASCII character");
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() {
        return Err("target has no host");
    }
    if authority.contains('@') {
        return Err("target carries credentials (`user@host`)");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_origin_paths_are_accepted() {
        for ok in ["/", "/blog/hello", "/search?q=a+b&page=2", "/a#frag", "/x:y", "/%2F%2Fevil", "/a/../b"] {
            assert_eq!(same_origin_path(ok).as_deref(), Ok(ok), "{ok}");
        }
        assert_eq!(same_origin_path("/café").as_deref(), Ok("/caf%C3%A9"));
    }

    #[test]
    fn hostile_targets_are_refused() {
        for bad in [
            "",
            "//evil.example",
            "//evil.example/path",
            "/\\evil.example",
            "\\\\evil.example",
            "/x\\..\\..\\evil",
            "https://evil.example",
            "http://evil.example",
            "javascript:alert(1)",
            "data:text/html,x",
            "evil.example",
            "./relative",
            "/ok\r\nset-cookie: a=b",
            "/ok\nx",
            "/\t/evil.example",
            "/ /evil.example",
            "/\u{0}x",
            "/\u{2028}x",
        ] {
            assert!(same_origin_path(bad).is_err(), "{bad:?} accepted");
            let e = Redirect::to(bad).unwrap_err();
            assert_eq!(e.status(), 400, "{bad:?}");
            assert!(!e.public_message().contains("evil"), "{e:?}");
        }
        assert!(same_origin_path(&format!("/{}", "a".repeat(MAX_REDIRECT_LEN))).is_err());
    }

    #[test]
    fn statuses() {
        assert_eq!(Redirect::to("/a").unwrap().status(), 302);
        assert_eq!(Redirect::see_other("/a").unwrap().status(), 303);
        assert_eq!(Redirect::temporary("/a").unwrap().status(), 307);
        assert_eq!(Redirect::permanent("/a").unwrap().status(), 308);
        assert_eq!(Redirect::to("/a").unwrap().with_status(301).unwrap().status(), 301);
        assert_eq!(Redirect::to("/a").unwrap().with_status(200).unwrap_err().status(), 500);
        assert_eq!(Redirect::to("/a?b").unwrap().location(), "/a?b");
    }

    #[test]
    fn external_needs_https_and_a_plain_host() {
        assert_eq!(Redirect::external("https://example.com/x?y").unwrap().location(), "https://example.com/x?y");
        assert!(Redirect::external("HTTPS://example.com").is_ok());
        for bad in [
            "http://example.com",
            "//example.com",
            "/local",
            "https://",
            "https:///path",
            "https://user:pw@example.com",
            "https://good.example@evil.example",
            "https://example.com/\r\nx",
            "https://example.com\\@evil",
            "https://exa mple.com",
            "https://exämple.com",
            "javascript:alert(1)",
        ] {
            assert_eq!(Redirect::external(bad).map_err(|e| e.status()), Err(400), "{bad:?} accepted");
        }
    }

    #[test]
    fn escaping() {
        assert_eq!(escape_html("<script>alert('x')</script>"), "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
        assert_eq!(escape_html("a&amp;b"), "a&amp;amp;b");
        assert!(matches!(escape_html("no specials é"), Cow::Borrowed(_)));
    }
}
