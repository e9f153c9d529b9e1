//! Route patterns as the `#[route]` macro hands them over: already parsed and checked.
//!
//! The checks that need the whole app (two routes that can match the same path) run in
//! `const` context when `app!` expands, so a conflict is a compile error.

/// One segment of a route pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seg {
    /// A literal segment, matched exactly (case-sensitive) against the decoded path.
    Lit(&'static str),
    /// `:name` — matches one non-empty segment.
    Param(&'static str),
    /// A trailing `*` — matches one or more remaining segments.
    Rest,
}

/// The HTTP methods a route can declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// `GET` (also answers `HEAD`, without a body, unless a `HEAD` route exists).
    Get,
    /// `HEAD`
    Head,
    /// `POST`
    Post,
    /// `PUT`
    Put,
    /// `PATCH`
    Patch,
    /// `DELETE`
    Delete,
    /// `OPTIONS`
    Options,
    /// Any method.
    Any,
}

impl Method {
    /// Every concrete method, in the order used for `Allow` headers.
    pub const CONCRETE: [Method; 7] =
        [Method::Get, Method::Head, Method::Post, Method::Put, Method::Patch, Method::Delete, Method::Options];

    /// The method's name as written in the attribute.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Options => "OPTIONS",
            Method::Any => "ANY",
        }
    }

    /// Parses a request method (case-sensitive, as HTTP methods are). `None` for other methods.
    #[must_use]
    pub fn from_request(m: &str) -> Option<Method> {
        Some(match m {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "PATCH" => Method::Patch,
            "DELETE" => Method::Delete,
            "OPTIONS" => Method::Options,
            _ => return None,
        })
    }

    const fn index(self) -> usize {
        self as usize
    }

    /// Whether a route declared with `self` and one declared with `other` answer a common method.
    #[must_use]
    pub const fn shares_with(self, other: Method) -> bool {
        matches!(self, Method::Any) || matches!(other, Method::Any) || self.index() == other.index()
    }
}

pub(crate) const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Whether `s` is one of `list` (byte for byte), usable in `const fn`.
pub(crate) const fn str_in(s: &str, list: &[&str]) -> bool {
    let mut i = 0;
    while i < list.len() {
        if str_eq(list[i], s) {
            return true;
        }
        i += 1;
    }
    false
}

/// Whether some path is matched by both patterns.
///
/// ```
/// use layers_core::request::pattern::{overlaps, Seg::*};
/// assert!(overlaps(&[Lit("a"), Param("x")], &[Lit("a"), Lit("b")]));
/// assert!(overlaps(&[Lit("a"), Rest], &[Lit("a"), Lit("b"), Lit("c")]));
/// assert!(!overlaps(&[Lit("a")], &[Lit("a"), Rest]));
/// assert!(!overlaps(&[Lit("a"), Lit("b")], &[Lit("a"), Lit("c")]));
/// ```
#[must_use]
pub const fn overlaps(a: &[Seg], b: &[Seg]) -> bool {
    let mut i = 0;
    loop {
        if i == a.len() || i == b.len() {
            // Both ended together: same length, every segment compatible.
            return i == a.len() && i == b.len();
        }
        match (a[i], b[i]) {
            (Seg::Rest, _) | (_, Seg::Rest) => return true,
            (Seg::Lit(x), Seg::Lit(y)) if !str_eq(x, y) => return false,
            _ => {}
        }
        i += 1;
    }
}

/// A fixed-capacity string builder usable in `const fn`, for compile-time error messages.
#[derive(Debug)]
pub struct ConstMsg {
    buf: [u8; 1024],
    len: usize,
}

impl ConstMsg {
    /// An empty message.
    #[must_use]
    pub const fn new() -> Self {
        ConstMsg { buf: [0; 1024], len: 0 }
    }

    /// Appends `s`, truncating (on a char boundary) when full.
    #[must_use]
    pub const fn push(mut self, s: &str) -> Self {
        let b = s.as_bytes();
        let mut i = 0;
        while i < b.len() && self.len < self.buf.len() {
            // Never cut a multi-byte char: stop before a lead byte that does not fit.
            let width = if b[i] < 0x80 {
                1
            } else if b[i] >= 0xF0 {
                4
            } else if b[i] >= 0xE0 {
                3
            } else {
                2
            };
            if self.len + width > self.buf.len() {
                break;
            }
            let mut k = 0;
            while k < width {
                self.buf[self.len] = b[i + k];
                self.len += 1;
                k += 1;
            }
            i += width;
        }
        self
    }

    /// The message so far.
    #[must_use]
    pub const fn as_str(&self) -> &str {
        let (head, _) = self.buf.split_at(self.len);
        match core::str::from_utf8(head) {
            Ok(s) => s,
            Err(_) => "(message not UTF-8)",
        }
    }
}

impl Default for ConstMsg {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::Seg::*;
    use super::*;

    #[test]
    fn overlap_table() {
        let t: &[(&[Seg], &[Seg], bool)] = &[
            (&[], &[], true),
            (&[], &[Lit("a")], false),
            (&[Lit("a")], &[Lit("a")], true),
            (&[Lit("a")], &[Lit("b")], false),
            (&[Param("x")], &[Lit("b")], true),
            (&[Param("x")], &[Param("y")], true),
            (&[Param("x")], &[Param("y"), Lit("z")], false),
            (&[Rest], &[Lit("a"), Lit("b")], true),
            (&[Rest], &[], false),
            (&[Lit("admin"), Rest], &[Lit("admin")], false),
            (&[Lit("admin"), Rest], &[Lit("api"), Rest], false),
            (&[Lit("admin"), Rest], &[Param("p"), Lit("x")], true),
            (&[Lit("a"), Lit("b"), Lit("c")], &[Lit("a"), Param("q"), Lit("d")], false),
        ];
        for (a, b, want) in t {
            assert_eq!(overlaps(a, b), *want, "{a:?} vs {b:?}");
            assert_eq!(overlaps(b, a), *want, "{b:?} vs {a:?}");
        }
    }

    #[test]
    fn methods_share() {
        assert!(Method::Any.shares_with(Method::Post));
        assert!(Method::Get.shares_with(Method::Get));
        assert!(!Method::Get.shares_with(Method::Post));
    }

    #[test]
    fn const_msg_truncates_on_char_boundary() {
        let long = "é".repeat(600);
        let m = ConstMsg::new().push("x").push(&long);
        assert!(m.as_str().len() <= 1024);
        assert!(m.as_str().starts_with("xé"));
        assert_eq!(ConstMsg::new().push("a").push("b").as_str(), "ab");
    }
}
