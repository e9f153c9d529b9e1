//! Text helpers of the manifest: type names as people write them, and escaping for Markdown
//! table cells and Mermaid labels.

use std::fmt::Write as _;

/// A type name as `std::any::type_name` writes it, with the module paths of layers' own items
/// dropped (`layers_core::identity::policy::Guarded<…>` → `Guarded<…>`) and every other path
/// kept whole (`app::AdminAccess`), so an app's type is never taken for one of layers'.
///
/// ```
/// use layers_core::manifest::short_type_name;
/// assert_eq!(
///     short_type_name("layers_core::identity::policy::Guarded<layers_core::identity::access_jwt::AccessJwt<app::AdminAccess>, layers_core::identity::policy::EmailAllowlist>"),
///     "Guarded<AccessJwt<app::AdminAccess>, EmailAllowlist>"
/// );
/// assert_eq!(short_type_name("app::AccessJwt"), "app::AccessJwt");
/// ```
#[must_use]
pub fn short_type_name(full: &str) -> String {
    let mut out = String::with_capacity(full.len());
    let mut path = String::new();
    let flush = |path: &mut String, out: &mut String| {
        if let Some(rest) = path.strip_prefix("layers_core::") {
            out.push_str(rest.rsplit("::").next().unwrap_or(rest));
        } else {
            out.push_str(path);
        }
        path.clear();
    };
    for c in full.chars() {
        if c.is_alphanumeric() || c == '_' || c == ':' {
            path.push(c);
        } else {
            flush(&mut path, &mut out);
            out.push(c);
        }
    }
    flush(&mut path, &mut out);
    out
}

/// Escapes text for a cell of a GitHub-flavoured Markdown table: `|` cannot end the cell,
/// `*`, `_`, `` ` ``, `[`, `]`, `\` are literal, and `<`, `>`, `&` are entities (so a type such as
/// `Guarded<A, B>` is shown, not read as HTML).
#[must_use]
pub fn escape_markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '|' | '*' | '_' | '`' | '[' | ']' | '\\' | '#' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Escapes text for a quoted Mermaid label (`id["…"]`): quotes and the characters Mermaid or
/// its Markdown labels would interpret become `#code;` entities.
#[must_use]
pub fn escape_mermaid(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '|' | '*' | '#' | '&' | '`' | '[' | ']' | '{' | '}' | '(' | ')' | ';' | '\\' => {
                let _ = write!(out, "#{};", u32::from(c));
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}
