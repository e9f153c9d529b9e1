//! Route patterns: `/`, literal segments, `:name` parameters and a trailing `*`.
//!
//! The macros parse a pattern with [`parse`] (every problem at once, each with the byte range to
//! underline); the runtime holds patterns as [`Seg`]s and checks hand-built ones with
//! [`segments_ok`], the same rules as a `const fn`.
//!
//! When several patterns match one path, the most specific one answers, as in matchit and
//! Rocket: reading the segments left to right, the first place where the patterns differ
//! decides — a literal segment beats `:param`, which beats `*` ([`specificity`]). Only two
//! patterns of the same shape (the same literals and parameters in the same places, whatever
//! the parameters are called) are equally specific.

use std::ops::Range;

use crate::text::{is_ident, str_eq};

/// One segment of a route pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seg<'a> {
    /// A literal segment, matched exactly (case-sensitive) against the decoded path.
    Lit(&'a str),
    /// `:name` — matches one non-empty segment.
    Param(&'a str),
    /// A trailing `*` — matches whatever follows the `/` before it, possibly nothing:
    /// `/files/*` matches `/files/` and `/files/a/b`, not `/files`; `/*` matches every path.
    Rest,
}

/// Why a literal segment cannot be in a pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiteralProblem {
    /// Empty (`//`, or a trailing `/`).
    Empty,
    /// `.` or `..`.
    Dot,
    /// A `/` inside one segment (only a hand-built table can have it).
    Slash,
    /// `%`.
    Percent,
    /// `{` or `}`.
    Brace,
    /// `?` or `#`.
    QueryOrFragment,
    /// `\`.
    Backslash,
    /// `:` not at the start.
    Colon,
    /// `*` inside a segment.
    Star,
    /// Whitespace or a control character.
    Space,
}

impl LiteralProblem {
    /// What to do about it, as the macros say it.
    #[must_use]
    pub const fn message(self) -> &'static str {
        match self {
            LiteralProblem::Empty => "empty segment (`//`): requests with empty segments are refused, so this route could never match; remove one `/`",
            LiteralProblem::Dot => "dot segments never reach routing (requests with them are refused); remove this segment",
            LiteralProblem::Slash => "a segment cannot hold `/`",
            LiteralProblem::Percent => "a `%`-escape in a pattern: patterns match the *decoded* path, so write the character itself",
            LiteralProblem::Brace => "`{` and `}` are not allowed in patterns; parameters are written `:name`",
            LiteralProblem::QueryOrFragment => "a pattern is a path only: the query string and fragment are not part of routing; read queries with `req.query(..)`",
            LiteralProblem::Backslash => "`\\` is never routed (requests with it are refused); remove it",
            LiteralProblem::Colon => "`:` may only start a segment (`/:name`); a parameter takes the whole segment",
            LiteralProblem::Star => "`*` must be a whole segment and the last one (`/files/*`)",
            LiteralProblem::Space => "whitespace and control characters are not allowed in patterns",
        }
    }
}

/// The char at byte `i` of valid UTF-8 `b`, and its width.
const fn char_at(b: &[u8], i: usize) -> (char, usize) {
    let b0 = b[i] as u32;
    let (cp, w) = if b0 < 0x80 {
        (b0, 1)
    } else if b0 < 0xE0 {
        (((b0 & 0x1F) << 6) | (b[i + 1] as u32 & 0x3F), 2)
    } else if b0 < 0xF0 {
        (((b0 & 0x0F) << 12) | ((b[i + 1] as u32 & 0x3F) << 6) | (b[i + 2] as u32 & 0x3F), 3)
    } else {
        (
            ((b0 & 0x07) << 18)
                | ((b[i + 1] as u32 & 0x3F) << 12)
                | ((b[i + 2] as u32 & 0x3F) << 6)
                | (b[i + 3] as u32 & 0x3F),
            4,
        )
    };
    match char::from_u32(cp) {
        Some(c) => (c, w),
        None => (char::REPLACEMENT_CHARACTER, w),
    }
}

/// The first problem of a literal segment (not `*`, not a `:param`), with its byte offset.
#[must_use]
pub const fn literal_problem(seg: &str) -> Option<(usize, LiteralProblem)> {
    let b = seg.as_bytes();
    if b.is_empty() {
        return Some((0, LiteralProblem::Empty));
    }
    if str_eq(seg, ".") || str_eq(seg, "..") {
        return Some((0, LiteralProblem::Dot));
    }
    let mut i = 0;
    while i < b.len() {
        let (c, w) = char_at(b, i);
        let problem = match c {
            '/' => Some(LiteralProblem::Slash),
            '%' => Some(LiteralProblem::Percent),
            '{' | '}' => Some(LiteralProblem::Brace),
            '?' | '#' => Some(LiteralProblem::QueryOrFragment),
            '\\' => Some(LiteralProblem::Backslash),
            ':' => Some(LiteralProblem::Colon),
            '*' => Some(LiteralProblem::Star),
            // Whitespace, and the C0/C1 control characters (what `char::is_control` means).
            c if c.is_whitespace() || (c as u32) < 0x20 || (c as u32 >= 0x7F && c as u32 <= 0x9F) => {
                Some(LiteralProblem::Space)
            }
            _ => None,
        };
        if let Some(p) = problem {
            return Some((i, p));
        }
        i += w;
    }
    None
}

/// Whether segments are what [`parse`] makes of a valid pattern: literals without a
/// [`literal_problem`], parameter names that are identifiers, `*` only last. The runtime checks
/// hand-built route tables with it: a literal holding `/`, `%` or a dot segment could match paths
/// the route checks do not see.
#[must_use]
pub const fn segments_ok(segments: &[Seg<'_>]) -> bool {
    let mut k = 0;
    while k < segments.len() {
        let bad = match segments[k] {
            Seg::Lit(l) => literal_problem(l).is_some(),
            Seg::Param(p) => !is_ident(p),
            Seg::Rest => k + 1 != segments.len(),
        };
        if bad {
            return false;
        }
        k += 1;
    }
    true
}

/// A problem in a pattern: where (byte range in the pattern) and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError {
    /// The bytes of the pattern at fault.
    pub range: Range<usize>,
    /// What is wrong, and the fix.
    pub message: String,
}

impl PatternError {
    /// The message with the text drawn and the bad part underlined.
    ///
    /// Stable Rust cannot point *inside* a string literal, so the macros draw the literal with
    /// the range underlined instead.
    #[must_use]
    pub fn render(&self, text: &str) -> String {
        let start = text[..self.range.start].chars().count() + 1; // +1 for the opening quote
        let width = text[self.range.clone()].chars().count().max(1);
        format!("{}\n  \"{}\"\n  {}{}", self.message, text, " ".repeat(start), "^".repeat(width))
    }
}

/// Parses `pattern`; returns the segments and every problem found.
#[must_use]
pub fn parse(pattern: &str) -> (Vec<Seg<'_>>, Vec<PatternError>) {
    let mut segs = Vec::new();
    let mut errs = Vec::new();
    if pattern.is_empty() {
        errs.push(PatternError { range: 0..0, message: "empty route pattern: write \"/\" for the root".into() });
        return (segs, errs);
    }
    if !pattern.starts_with('/') {
        errs.push(PatternError {
            range: 0..pattern.find('/').unwrap_or(pattern.len()),
            message: format!("route patterns start with `/`: write \"/{pattern}\""),
        });
        return (segs, errs);
    }
    if pattern == "/" {
        return (segs, errs);
    }
    let mut names: Vec<&str> = Vec::new();
    let mut offset = 1;
    let parts: Vec<&str> = pattern[1..].split('/').collect();
    let last = parts.len() - 1;
    for (i, part) in parts.iter().enumerate() {
        let range = offset..offset + part.len();
        offset += part.len() + 1;
        if part.is_empty() {
            let (r, message) = if i == last {
                (
                    range.start - 1..range.start,
                    "trailing `/`: routes match exactly; drop the final `/` (or end the pattern in `/*`)".to_owned(),
                )
            } else {
                (range.start - 1..range.start + 1, LiteralProblem::Empty.message().to_owned())
            };
            errs.push(PatternError { range: r, message });
            continue;
        }
        if *part == "*" {
            if i != last {
                errs.push(PatternError {
                    range,
                    message: "`*` matches the rest of the path, so it must be the last segment".into(),
                });
            }
            segs.push(Seg::Rest);
            continue;
        }
        if let Some(name) = part.strip_prefix(':') {
            if name.is_empty() {
                errs.push(PatternError { range, message: "a parameter needs a name: write `:name`".into() });
            } else if !is_ident(name) {
                errs.push(PatternError {
                    range,
                    message: format!(
                        "`{name}` is not a parameter name: names start with a letter or `_` and continue with letters, digits or `_`"
                    ),
                });
            } else if names.contains(&name) {
                errs.push(PatternError {
                    range: range.clone(),
                    message: format!(
                        "parameter `:{name}` appears twice in this pattern; give each parameter its own name"
                    ),
                });
            } else {
                names.push(name);
            }
            segs.push(Seg::Param(name));
            continue;
        }
        if let Some((at, problem)) = literal_problem(part) {
            let range = match problem {
                LiteralProblem::Dot => range,
                _ => {
                    let ch_len = part[at..].chars().next().map_or(1, char::len_utf8);
                    range.start + at..range.start + at + ch_len
                }
            };
            errs.push(PatternError { range, message: problem.message().to_owned() });
            continue;
        }
        segs.push(Seg::Lit(part));
    }
    (segs, errs)
}

/// Whether some path is matched by both patterns.
///
/// ```
/// use layers_spec::pattern::{overlaps, Seg::*};
/// assert!(overlaps(&[Lit("a"), Param("x")], &[Lit("a"), Lit("b")]));
/// assert!(overlaps(&[Lit("a"), Rest], &[Lit("a"), Lit("b"), Lit("c")]));
/// assert!(!overlaps(&[Lit("a")], &[Lit("a"), Rest]));
/// assert!(!overlaps(&[Lit("a"), Lit("b")], &[Lit("a"), Lit("c")]));
/// assert!(overlaps(&[], &[Rest])); // `/` and `/*` both match `/`
/// ```
#[must_use]
pub const fn overlaps(a: &[Seg<'_>], b: &[Seg<'_>]) -> bool {
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
/// use layers_spec::pattern::{specificity, Seg::*};
/// assert_eq!(specificity(&[Lit("a"), Lit("b")], &[Lit("a"), Rest]), Greater);
/// assert_eq!(specificity(&[Param("x"), Lit("b")], &[Lit("a"), Param("y")]), Less);
/// assert_eq!(specificity(&[Lit("a"), Param("x")], &[Lit("a"), Param("y")]), Equal);
/// assert_eq!(specificity(&[], &[Rest]), Greater);
/// ```
#[must_use]
pub const fn specificity(a: &[Seg<'_>], b: &[Seg<'_>]) -> core::cmp::Ordering {
    use core::cmp::Ordering::{Equal, Greater, Less};
    const fn rank(s: Seg<'_>) -> u8 {
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

/// Whether two patterns have the same shape: the same literals and parameters in the same
/// places, whatever the parameters are called.
#[must_use]
pub const fn same_shape(a: &[Seg<'_>], b: &[Seg<'_>]) -> bool {
    overlaps(a, b) && matches!(specificity(a, b), core::cmp::Ordering::Equal)
}

#[cfg(test)]
mod tests {
    use super::Seg::*;
    use super::*;

    fn errors(p: &str) -> Vec<String> {
        parse(p).1.into_iter().map(|e| e.render(p)).collect()
    }

    #[test]
    fn good_patterns() {
        assert_eq!(parse("/").0, vec![]);
        assert_eq!(parse("/blog/:slug/*").0, vec![Lit("blog"), Param("slug"), Rest]);
        assert!(parse("/a-b_c.d~e/:x_1").1.is_empty());
        assert!(parse("/café/ü").1.is_empty());
    }

    #[test]
    fn every_error_is_reported_at_once() {
        let e = errors("/a//b/:1x/*/c%20/");
        assert_eq!(e.len(), 5, "{e:#?}");
        assert!(e[0].contains("empty segment"));
        assert!(e[1].contains("`1x` is not a parameter name"));
        assert!(e[2].contains("must be the last segment"));
        assert!(e[3].contains("%"));
        assert!(e[4].contains("trailing"));
    }

    #[test]
    fn underline_points_at_the_segment() {
        let p = "/users/:1d";
        let e = &parse(p).1[0];
        assert_eq!(&p[e.range.clone()], ":1d");
        let r = e.render(p);
        let lines: Vec<&str> = r.lines().collect();
        assert_eq!(lines[1], "  \"/users/:1d\"");
        assert_eq!(lines[2], "          ^^^");
        // A multi-byte character is underlined whole.
        let p = "/a\u{a0}b";
        let e = &parse(p).1[0];
        assert_eq!(&p[e.range.clone()], "\u{a0}");
    }

    #[test]
    fn other_errors() {
        assert!(errors("")[0].contains("empty route pattern"));
        assert!(errors("users")[0].contains("start with `/`"));
        assert!(errors("/a/:")[0].contains("needs a name"));
        assert!(errors("/:a/:a")[0].contains("appears twice"));
        assert!(errors("/a/..")[0].contains("dot segments"));
        assert!(errors("/a?b")[0].contains("query"));
        assert!(errors("/{id}")[0].contains("`{`"));
        assert!(errors("/files*")[0].contains("whole segment"));
        assert!(errors("/a:b")[0].contains("may only start"));
        assert!(errors("/a\\b")[0].contains("never routed"));
        assert!(errors("/a\u{85}b")[0].contains("control"));
        assert!(errors("/a\u{2003}b")[0].contains("whitespace"));
    }

    #[test]
    fn what_parses_is_what_segments_ok_accepts() {
        let samples = [
            "/",
            "/a",
            "/a/:b/*",
            "/a b",
            "/a/./b",
            "/a/%41",
            "/ä/ö",
            "/a/\u{7f}",
            "/a/\u{9f}x",
            "/a/\u{a0}",
            "/:x/:y",
            "/x/*/y",
            "/.well-known/x",
            "/..",
            "/a\tb",
            "/{x}",
            "/a#b",
            "/~u",
        ];
        for p in samples {
            let (segs, errs) = parse(p);
            if errs.is_empty() {
                assert!(segments_ok(&segs), "{p}: parsed but refused");
            }
        }
        // Literals only a hand-built table can hold.
        for bad in ["a/b", "", ".", "..", "a b", "a%2f", "a\u{85}"] {
            assert!(!segments_ok(&[Lit(bad)]), "{bad:?}");
        }
        assert!(!segments_ok(&[Rest, Lit("a")]));
        assert!(!segments_ok(&[Param("1x")]));
        assert!(segments_ok(&[Lit("a"), Param("b"), Rest]));
    }

    #[test]
    fn overlap_table() {
        let t: &[(&[Seg<'_>], &[Seg<'_>], bool)] = &[
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
        let t: &[(&[Seg<'_>], &[Seg<'_>], core::cmp::Ordering)] = &[
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
        assert!(same_shape(&[Lit("a"), Param("x")], &[Lit("a"), Param("y")]));
        assert!(!same_shape(&[Lit("a"), Param("x")], &[Lit("b"), Param("y")]));
    }
}
