//! Parsing and checking route patterns: `/`, literal segments, `:name`, a trailing `*`.
//!
//! Stable Rust cannot point *inside* a string literal, so each error carries the byte range
//! of the bad segment and the message draws the literal with that range underlined.

use std::ops::Range;

/// A parsed segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PSeg {
    Lit(String),
    Param(String),
    Rest,
}

/// A problem in a pattern: where (byte range in the pattern) and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PatternError {
    pub(crate) range: Range<usize>,
    pub(crate) message: String,
}

impl PatternError {
    /// The message with the pattern drawn and the bad part underlined.
    pub(crate) fn render(&self, pattern: &str) -> String {
        let start = pattern[..self.range.start].chars().count() + 1; // +1 for the opening quote
        let width = pattern[self.range.clone()].chars().count().max(1);
        format!("{}\n  \"{}\"\n  {}{}", self.message, pattern, " ".repeat(start), "^".repeat(width))
    }
}

fn is_ident(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(ch) if ch.is_ascii_alphabetic() || ch == '_')
        && c.all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
}

fn literal_problem(seg: &str) -> Option<(usize, String)> {
    for (i, ch) in seg.char_indices() {
        let msg = match ch {
            '%' => "a `%`-escape in a pattern: patterns match the *decoded* path, so write the character itself",
            '{' | '}' => "`{` and `}` are not allowed in patterns; parameters are written `:name`",
            '?' | '#' => "a pattern is a path only: the query string and fragment are not part of routing; read queries with `req.query(..)`",
            '\\' => "`\\` is never routed (requests with it are refused); remove it",
            ':' => "`:` may only start a segment (`/:name`); a parameter takes the whole segment",
            '*' => "`*` must be a whole segment and the last one (`/files/*`)",
            c if c.is_whitespace() || c.is_control() => "whitespace and control characters are not allowed in patterns",
            _ => continue,
        };
        return Some((i, msg.to_owned()));
    }
    None
}

/// Parses `pattern`; returns the segments and every problem found.
pub(crate) fn parse(pattern: &str) -> (Vec<PSeg>, Vec<PatternError>) {
    let mut segs = Vec::new();
    let mut errs = Vec::new();
    if pattern.is_empty() {
        errs.push(PatternError { range: 0..0, message: "empty route pattern: write \"/\" for the root".into() });
        return (segs, errs);
    }
    if !pattern.starts_with('/') {
        errs.push(PatternError {
            range: 0..pattern.find('/').unwrap_or(pattern.len()),
            message: format!("route patterns start with `/`: write \"/{}\"", pattern),
        });
        return (segs, errs);
    }
    if pattern == "/" {
        return (segs, errs);
    }
    let mut names: Vec<(String, Range<usize>)> = Vec::new();
    let mut offset = 1;
    let parts: Vec<&str> = pattern[1..].split('/').collect();
    let last = parts.len() - 1;
    for (i, part) in parts.iter().enumerate() {
        let range = offset..offset + part.len();
        offset += part.len() + 1;
        if part.is_empty() {
            let (r, message) = if i == last {
                (range.start - 1..range.start, "trailing `/`: routes match exactly; drop the final `/`".to_owned())
            } else {
                (range.start - 1..range.start + 1, "empty segment (`//`): requests with empty segments are refused, so this route could never match; remove one `/`".to_owned())
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
            segs.push(PSeg::Rest);
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
            } else if let Some((_, first)) = names.iter().find(|(n, _)| n == name) {
                let _ = first;
                errs.push(PatternError {
                    range: range.clone(),
                    message: format!(
                        "parameter `:{name}` appears twice in this pattern; give each parameter its own name"
                    ),
                });
            } else {
                names.push((name.to_owned(), range.clone()));
            }
            segs.push(PSeg::Param(name.to_owned()));
            continue;
        }
        if *part == "." || *part == ".." {
            errs.push(PatternError {
                range,
                message: "dot segments never reach routing (requests with them are refused); remove this segment"
                    .into(),
            });
            continue;
        }
        if let Some((at, message)) = literal_problem(part) {
            let ch_len = part[at..].chars().next().map_or(1, char::len_utf8);
            errs.push(PatternError { range: range.start + at..range.start + at + ch_len, message });
            continue;
        }
        segs.push(PSeg::Lit((*part).to_owned()));
    }
    (segs, errs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(p: &str) -> Vec<String> {
        parse(p).1.into_iter().map(|e| e.render(p)).collect()
    }

    #[test]
    fn good_patterns() {
        assert_eq!(parse("/").0, vec![]);
        assert_eq!(parse("/blog/:slug/*").0, vec![PSeg::Lit("blog".into()), PSeg::Param("slug".into()), PSeg::Rest]);
        assert!(parse("/a-b_c.d~e/:x_1").1.is_empty());
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
    }
}
