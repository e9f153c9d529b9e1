//! Route patterns as the `#[route]` macro hands them over: already parsed and checked.
//!
//! When several patterns match one path, the most specific one answers, as in matchit and
//! Rocket: reading the segments left to right, the first place where the patterns differ
//! decides — a literal segment beats `:param`, which beats `*` ([`specificity`]). Only two
//! patterns of the same shape (the same literals and parameters in the same places, whatever
//! the parameters are called) are equally specific, and two such routes sharing a method are
//! a conflict. The checks that need the whole app run in `const` context when `app!` expands,
//! so a conflict is a compile error.

/// One segment of a route pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seg {
    /// A literal segment, matched exactly (case-sensitive) against the decoded path.
    Lit(&'static str),
    /// `:name` — matches one non-empty segment.
    Param(&'static str),
    /// A trailing `*` — matches whatever follows the `/` before it, possibly nothing:
    /// `/files/*` matches `/files/` and `/files/a/b`, not `/files`; `/*` matches every path.
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

    /// Whether a request could be answered by either route: they share a method, or one is
    /// `GET` and the other `HEAD` (a `GET` route answers `HEAD` too).
    #[must_use]
    pub const fn competes_with(self, other: Method) -> bool {
        self.shares_with(other) || matches!((self, other), (Method::Get, Method::Head) | (Method::Head, Method::Get))
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
/// assert!(overlaps(&[], &[Rest])); // `/` and `/*` both match `/`
/// ```
#[must_use]
pub const fn overlaps(a: &[Seg], b: &[Seg]) -> bool {
    // The root pattern `/` matches only the path `/`, which `*` matches as its first segment
    // (with nothing after it) and no literal or parameter does.
    if a.is_empty() || b.is_empty() {
        let other = if a.is_empty() { b } else { a };
        return other.is_empty() || matches!(other, [Seg::Rest]);
    }
    let mut i = 0;
    loop {
        if i == a.len() || i == b.len() {
            // Both ended together: same length, every segment compatible. (One ending first
            // means the other needs more segments; a `*` needs the `/` before it.)
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

/// How specific a pattern is, against another one that matches some of the same paths
/// (see [`overlaps`]): the first segment where their kinds differ decides — a literal beats
/// `:param`, which beats `*`, and the root `/` beats `/*`. `Equal` means the same shape: the
/// same literals and parameters in the same places (names aside); two such routes sharing a
/// method are a conflict. For patterns that overlap, the answer is the same for every path
/// both match, and the runtime router picks the greater one.
///
/// ```
/// use core::cmp::Ordering::*;
/// use layers_core::request::pattern::{specificity, Seg::*};
/// assert_eq!(specificity(&[Lit("a"), Lit("b")], &[Lit("a"), Rest]), Greater);
/// assert_eq!(specificity(&[Param("x"), Lit("b")], &[Lit("a"), Param("y")]), Less);
/// assert_eq!(specificity(&[Lit("a"), Param("x")], &[Lit("a"), Param("y")]), Equal);
/// assert_eq!(specificity(&[], &[Rest]), Greater);
/// ```
#[must_use]
pub const fn specificity(a: &[Seg], b: &[Seg]) -> core::cmp::Ordering {
    use core::cmp::Ordering::{Equal, Greater, Less};
    const fn rank(s: Seg) -> u8 {
        match s {
            Seg::Lit(_) => 2,
            Seg::Param(_) => 1,
            Seg::Rest => 0,
        }
    }
    let mut i = 0;
    loop {
        match (i == a.len(), i == b.len()) {
            (true, true) => return Equal,
            // A pattern that has ended beats one that goes on (only the root `/` against `/*`
            // can overlap this way).
            (true, false) => return Greater,
            (false, true) => return Less,
            (false, false) => {}
        }
        let (ra, rb) = (rank(a[i]), rank(b[i]));
        if ra != rb {
            return if ra > rb { Greater } else { Less };
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
            (&[Rest], &[], true),
            (&[Lit("a"), Rest], &[], false),
            (&[Param("x")], &[], false),
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
    fn specificity_table() {
        use core::cmp::Ordering::{Equal, Greater, Less};
        let t: &[(&[Seg], &[Seg], core::cmp::Ordering)] = &[
            (&[], &[], Equal),
            (&[], &[Rest], Greater),
            (&[Lit("a")], &[Param("x")], Greater),
            (&[Lit("a")], &[Rest], Greater),
            (&[Param("x")], &[Rest], Greater),
            (&[Param("x")], &[Param("y")], Equal),
            (&[Lit("admin"), Rest], &[Lit("admin"), Rest], Equal),
            (&[Lit("admin"), Lit("health")], &[Lit("admin"), Rest], Greater),
            (&[Lit("admin"), Param("p"), Rest], &[Lit("admin"), Rest], Greater),
            (&[Param("x"), Lit("b")], &[Lit("a"), Param("y")], Less),
            (&[Lit("a"), Param("x"), Lit("c")], &[Lit("a"), Param("y"), Param("z")], Greater),
        ];
        for (a, b, want) in t {
            assert_eq!(specificity(a, b), *want, "{a:?} vs {b:?}");
            assert_eq!(specificity(b, a), want.reverse(), "{b:?} vs {a:?}");
        }
    }

    #[test]
    fn methods_share() {
        assert!(Method::Any.shares_with(Method::Post));
        assert!(Method::Get.shares_with(Method::Get));
        assert!(!Method::Get.shares_with(Method::Post));
        assert!(!Method::Get.shares_with(Method::Head));
        assert!(Method::Get.competes_with(Method::Head) && Method::Head.competes_with(Method::Get));
        assert!(Method::Any.competes_with(Method::Delete));
        assert!(!Method::Post.competes_with(Method::Put));
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
