//! `cargo xtask audit [CRATE_DIR]`: the part of layers' guarantee that Rust's type system cannot
//! keep, checked by a command.
//!
//! The guarantee (a handler reaches storage only through its route's verified claims) holds for
//! code that goes through `layers_core`. Three things would go around it without `unsafe`:
//! the raw workers-rs and wasm-bindgen crates (a `#[wasm_bindgen]` extern importing `env` from
//! `cloudflare:workers`, a `#[worker::durable_object]` whose constructor gets the `Env`), the
//! hidden items the macros expand to (`layers_core::__private`), and FFI (`extern` blocks and
//! functions). An app crate passes the audit when:
//!
//! 1. its `Cargo.toml` depends (in any section, also renamed or per target) on none of
//!    [`FORBIDDEN_CRATES`];
//! 2. no Rust file of it names `__private`, `wasm_bindgen`, `no_mangle`, `export_name` or
//!    `unsafe`, or holds an `extern` block or `extern "ABI"` function (tokens are read as rustc
//!    reads them: comments and string contents are not code), and none pulls in code the audit
//!    does not read (`include!`, `#[path]` outside the crate);
//! 3. its crate roots say `#![forbid(unsafe_code)]`.
//!
//! Every finding is printed as `file:line: what, and what to do instead`.

use std::path::{Path, PathBuf};

use proc_macro2::{Delimiter, TokenStream, TokenTree};

use crate::util::{log, Result};

/// Crates an app must not depend on directly: they hand out the raw runtime (`Env`, JS
/// imports) that layers keeps behind verified claims.
pub(crate) const FORBIDDEN_CRATES: &[&str] = &[
    "worker",
    "worker-macros",
    "worker-sys",
    "wasm-bindgen",
    "wasm-bindgen-macro",
    "wasm-bindgen-futures",
    "js-sys",
    "web-sys",
];

/// One thing the audit found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Finding {
    pub(crate) file: PathBuf,
    pub(crate) line: usize,
    pub(crate) what: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file.display(), self.line, self.what)
    }
}

/// Audits the crate in `dir`; `Err` names every finding.
pub(crate) fn audit(dir: &Path) -> Result<()> {
    let manifest = dir.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).map_err(|e| format!("cannot read {}: {e}", manifest.display()))?;
    let mut findings = manifest_findings(&manifest, &text)?;
    let files = rust_files(dir);
    for file in &files {
        let src = std::fs::read_to_string(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        findings.extend(source_findings(file, &src));
        findings.extend(path_findings(dir, file, &src));
    }
    for root in crate_roots(dir, &text) {
        let src = std::fs::read_to_string(&root).unwrap_or_default();
        if !forbids_unsafe(&src) {
            findings.push(Finding {
                file: root,
                line: 1,
                what: "the crate root does not say `#![forbid(unsafe_code)]`: add it (layers' guarantee assumes safe Rust)"
                    .into(),
            });
        }
    }
    if findings.is_empty() {
        log(format!("audit {}: Cargo.toml and {} Rust files — ok", dir.display(), files.len()));
        return Ok(());
    }
    for f in &findings {
        eprintln!("{f}");
    }
    Err(format!(
        "audit {}: {} finding(s) — the crate goes around layers' guarantee (see README: \"What is guaranteed, and where it stops\")",
        dir.display(),
        findings.len()
    ))
}

/// Direct dependencies on [`FORBIDDEN_CRATES`], with the line they are declared on.
fn manifest_findings(path: &Path, text: &str) -> Result<Vec<Finding>> {
    let doc: toml::Table = text.parse().map_err(|e| format!("{} is not valid TOML: {e}", path.display()))?;
    let mut tables: Vec<(String, &toml::Table)> = Vec::new();
    for section in ["dependencies", "dev-dependencies", "build-dependencies"] {
        if let Some(t) = doc.get(section).and_then(toml::Value::as_table) {
            tables.push((section.to_owned(), t));
        }
    }
    if let Some(targets) = doc.get("target").and_then(toml::Value::as_table) {
        for (cfg, t) in targets {
            for section in ["dependencies", "dev-dependencies", "build-dependencies"] {
                if let Some(deps) = t.get(section).and_then(toml::Value::as_table) {
                    tables.push((format!("target.{cfg}.{section}"), deps));
                }
            }
        }
    }
    let mut out = Vec::new();
    for (section, deps) in tables {
        for (key, spec) in deps {
            let package = spec.get("package").and_then(toml::Value::as_str).unwrap_or(key);
            if FORBIDDEN_CRATES.contains(&package) {
                out.push(Finding {
                    file: path.to_owned(),
                    line: line_of_key(text, key),
                    what: format!(
                        "[{section}] depends on `{package}` directly: an app reaches the Workers runtime only through layers-core (remove the dependency; layers-core re-exports what handlers need)"
                    ),
                });
            }
        }
    }
    Ok(out)
}

/// The first line declaring dependency `key` (`key = …`, `key.workspace = …` or
/// `[….dependencies.key]`), or 1.
fn line_of_key(text: &str, key: &str) -> usize {
    let quoted = format!("\"{key}\"");
    for (i, line) in text.lines().enumerate() {
        let l = line.trim();
        let rest = l.strip_prefix(quoted.as_str()).or_else(|| l.strip_prefix(key)).map(str::trim_start);
        if rest.is_some_and(|r| r.starts_with('=') || r.starts_with(".workspace")) {
            return i + 1;
        }
        if l.starts_with('[') && l.trim_end_matches(']').ends_with(&format!(".{key}")) {
            return i + 1;
        }
    }
    1
}

/// Every `.rs` file of the crate (skipping `target/`, `node_modules/`, hidden and build dirs).
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        entries.sort();
        for p in entries {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            if p.is_dir() {
                if !matches!(name, "target" | "node_modules" | "build") && !name.starts_with('.') {
                    walk(&p, out);
                }
            } else if name.ends_with(".rs") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, &mut out);
    out
}

/// `src/lib.rs`, `src/main.rs` and `[lib] path` when they exist.
fn crate_roots(dir: &Path, manifest: &str) -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = ["src/lib.rs", "src/main.rs"].iter().map(|p| dir.join(p)).collect();
    if let Some(path) = manifest
        .parse::<toml::Table>()
        .ok()
        .and_then(|d| d.get("lib").and_then(|l| l.get("path")).and_then(toml::Value::as_str).map(str::to_owned))
    {
        roots.push(dir.join(path));
    }
    roots.sort();
    roots.dedup();
    roots.into_iter().filter(|p| p.is_file()).collect()
}

/// Whether the file holds an inner `#![forbid(unsafe_code)]` (perhaps among other lints).
fn forbids_unsafe(src: &str) -> bool {
    let Ok(tokens) = src.parse::<TokenStream>() else { return false };
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    tokens.windows(3).any(|w| match w {
        [TokenTree::Punct(h), TokenTree::Punct(b), TokenTree::Group(g)] => {
            h.as_char() == '#'
                && b.as_char() == '!'
                && g.delimiter() == Delimiter::Bracket
                && g.stream().to_string().replace(' ', "").starts_with("forbid(")
                && g.stream().to_string().contains("unsafe_code")
        }
        _ => false,
    })
}

/// What the audit refuses in one Rust source file.
pub(crate) fn source_findings(file: &Path, src: &str) -> Vec<Finding> {
    let tokens: TokenStream = match src.parse() {
        Ok(t) => t,
        Err(e) => {
            return vec![Finding {
                file: file.to_owned(),
                line: e.span().start().line,
                what: format!("not valid Rust tokens ({e}): the audit cannot read this file"),
            }]
        }
    };
    let mut out = Vec::new();
    scan(file, tokens, &mut out);
    out
}

fn scan(file: &Path, tokens: TokenStream, out: &mut Vec<Finding>) {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    for (i, t) in tokens.iter().enumerate() {
        match t {
            TokenTree::Group(g) => scan(file, g.stream(), out),
            TokenTree::Ident(id) => {
                let what = match id.to_string().as_str() {
                    "__private" => Some(
                        "names `__private`: what the macros expand to is not an API (use `#[route]`, `app!` and the public items of layers_core)",
                    ),
                    "wasm_bindgen" => Some(
                        "names `wasm_bindgen`: a `#[wasm_bindgen]` import or export reaches the runtime around layers (write handlers with `#[route]`, Durable Objects with `#[durable_object]`)",
                    ),
                    "no_mangle" | "export_name" => Some(
                        "exports a symbol by hand: the Worker's entry points are made by `app!` and `#[durable_object]`",
                    ),
                    "unsafe" => Some("uses `unsafe`: an app crate is safe Rust (`#![forbid(unsafe_code)]`)"),
                    "include" if matches!(tokens.get(i + 1), Some(TokenTree::Punct(p)) if p.as_char() == '!') => Some(
                        "uses `include!`: it compiles code the audit does not read (keep the crate's code in its own files; `include_str!`/`include_bytes!` are fine)",
                    ),
                    "extern" => match tokens.get(i + 1) {
                        Some(TokenTree::Literal(_)) => Some(
                            "declares an `extern \"ABI\"` block or function: FFI reaches the runtime around layers",
                        ),
                        Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace => {
                            Some("declares an `extern` block: FFI reaches the runtime around layers")
                        }
                        _ => None,
                    },
                    _ => None,
                };
                if let Some(what) = what {
                    out.push(Finding { file: file.to_owned(), line: id.span().start().line, what: what.to_owned() });
                }
            }
            TokenTree::Punct(_) | TokenTree::Literal(_) => {}
        }
    }
}

/// `#[path = "…"]` modules whose file lies outside the crate (the audit reads only the crate's
/// own files).
fn path_findings(dir: &Path, file: &Path, src: &str) -> Vec<Finding> {
    let Ok(tokens) = src.parse::<TokenStream>() else { return Vec::new() };
    let mut out = Vec::new();
    let root = dir.canonicalize().unwrap_or_else(|_| dir.to_owned());
    let mut stack = vec![tokens];
    while let Some(ts) = stack.pop() {
        for t in ts {
            let TokenTree::Group(g) = t else { continue };
            let inner: Vec<TokenTree> = g.stream().into_iter().collect();
            if let [TokenTree::Ident(id), TokenTree::Punct(eq), TokenTree::Literal(lit)] = inner.as_slice() {
                if id == "path" && eq.as_char() == '=' {
                    let target = lit.to_string().trim_matches('"').to_owned();
                    let base = file.parent().unwrap_or(dir);
                    let resolved = base.join(&target);
                    let inside = resolved.canonicalize().is_ok_and(|p| p.starts_with(&root));
                    if !inside {
                        out.push(Finding {
                            file: file.to_owned(),
                            line: lit.span().start().line,
                            what: format!("`#[path = \"{target}\"]` reaches a file outside the crate, which the audit does not read: move it into the crate"),
                        });
                    }
                }
            }
            stack.push(g.stream());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(src: &str) -> Vec<(usize, String)> {
        source_findings(Path::new("x.rs"), src).into_iter().map(|f| (f.line, f.what)).collect()
    }

    #[test]
    fn the_ways_around_are_found_with_their_line() {
        let src = r#"
use layers_core::prelude::*;
use layers_core::__private::worker::Env;

#[wasm_bindgen(module = "cloudflare:workers")]
extern "C" {
    static env: JsValue;
}

extern {
    fn raw();
}

#[no_mangle]
pub extern "C" fn exported() {}

macro_rules! sneaky { () => { layers_core::__private::App::new(&[], &[], &[], &[]) } }

fn f() { unsafe { raw() } }
"#;
        let found = lines(src);
        let at = |line: usize, needle: &str| found.iter().any(|(l, w)| *l == line && w.contains(needle));
        assert!(at(3, "`__private`"), "{found:?}");
        assert!(at(5, "`wasm_bindgen`"), "{found:?}");
        assert!(at(6, "extern \"ABI\""), "{found:?}");
        assert!(at(10, "`extern` block"), "{found:?}");
        assert!(at(14, "exports a symbol"), "{found:?}");
        assert!(at(15, "extern \"ABI\""), "{found:?}");
        assert!(at(17, "`__private`"), "{found:?}");
        assert!(at(19, "`unsafe`"), "{found:?}");
    }

    #[test]
    fn code_from_outside_the_crate_is_refused() {
        let dir = std::env::temp_dir().join(format!("layers-audit-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("src")).unwrap();
        std::fs::write(dir.join("src/inside.rs"), "").unwrap();
        let src = "#[path = \"inside.rs\"]\nmod a;\n#[path = \"../../elsewhere.rs\"]\nmod b;\ninclude!(\"../../gen.rs\");\nconst S: &str = include_str!(\"x.txt\");\n";
        let file = dir.join("src/lib.rs");
        let paths = path_findings(&dir, &file, src);
        assert_eq!(paths.len(), 1, "{paths:?}");
        assert_eq!(paths[0].line, 3);
        let found = lines(src);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].0 == 5 && found[0].1.contains("include!"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn comments_strings_and_plain_code_pass() {
        let src = r#"
//! Mentions __private and #[wasm_bindgen] and extern "C" { } in prose only.
use layers_core::prelude::*;
/// Neither `unsafe` nor `__private` in a doc comment counts.
fn f() -> &'static str { "layers_core::__private, unsafe, extern \"C\" {}" }
extern crate alloc;
"#;
        assert!(lines(src).is_empty(), "{:?}", lines(src));
    }

    #[test]
    fn forbidden_dependencies_in_every_section() {
        let toml = r#"[package]
name = "a"

[dependencies]
layers-core = { path = "../layers-core" }
worker.workspace = true
serde = "1"

[dev-dependencies]
runtime = { package = "wasm-bindgen", version = "0.2" }

[target.'cfg(target_arch = "wasm32")'.dependencies]
js-sys = "0.3"

[target.'cfg(target_arch = "wasm32")'.dependencies.web-sys]
version = "0.3"
"#;
        let found = manifest_findings(Path::new("Cargo.toml"), toml).unwrap();
        let got: Vec<(usize, bool)> = found.iter().map(|f| (f.line, f.what.contains("directly"))).collect();
        assert_eq!(got.len(), 4, "{found:?}");
        let mut lines: Vec<usize> = found.iter().map(|f| f.line).collect();
        lines.sort_unstable();
        assert_eq!(lines, [6, 10, 13, 15], "{found:?}");
        assert!(found.iter().any(|f| f.what.contains("`wasm-bindgen`")));
    }

    #[test]
    fn crate_roots_must_forbid_unsafe() {
        assert!(forbids_unsafe("//! doc\n#![forbid(unsafe_code)]\nfn main() {}"));
        assert!(forbids_unsafe("#![forbid(missing_docs, unsafe_code)]"));
        assert!(!forbids_unsafe("#![deny(unsafe_code)]"));
        assert!(!forbids_unsafe("// #![forbid(unsafe_code)]"));
    }
}
