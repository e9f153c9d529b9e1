//! wrangler's config file as wrangler reads it (feature `wrangler`): which file it picks, the
//! three formats it accepts, and its `env` sections — the pure parsing every reader of the config
//! shares (`app!`'s checks, the test harness), so that they agree with wrangler and each other.
//!
//! - **Which file.** Without `--config`, wrangler looks for `wrangler.json`, then
//!   `wrangler.jsonc`, then `wrangler.toml`, each searched upwards from the working directory
//!   (`findWranglerConfig` in cloudflare/workers-sdk `packages/wrangler/src/config/config-helpers.ts`:
//!   `findUpSync("wrangler.json") ?? findUpSync("wrangler.jsonc") ?? findUpSync("wrangler.toml")`).
//!   So a `wrangler.json` in a parent directory wins over a `wrangler.toml` next to the Worker:
//!   [`find_config`] does the same. With `--config`, the extension decides the format ([`Format::of`]).
//! - **JSON and JSONC.** wrangler parses both `.json` and `.jsonc` with Microsoft's `jsonc-parser`
//!   and `allowTrailingComma: true` (`parseJSONC` in `packages/workers-utils/src/parse.ts`; a
//!   UTF-8 byte order mark is dropped first): `//` and `/* */` comments and trailing commas, and
//!   nothing else JSON does not allow. [`parse`] uses the `jsonc-parser` crate (dprint's, the
//!   parser Deno uses) with exactly those two extensions on.
//! - **Environments.** `[env.NAME]` (TOML) or `"env": { "NAME": { … } }` (JSON) ([`environments`]).
//!   In wrangler's own validation (`packages/wrangler/src/config/validation.ts`) bindings
//!   (`d1_databases`, `kv_namespaces`, `queues`, `durable_objects`, `r2_buckets`, `vectorize`,
//!   `ai`, `analytics_engine_datasets`, …) and `vars` are `notInheritable`: an environment has
//!   only the ones it declares. `triggers` (crons), `main` and `compatibility_date` are
//!   `inheritable`: an environment without them takes the top level's ([`INHERITED`]).

use std::path::{Path, PathBuf};

/// The config files wrangler looks for, in the order it prefers them.
pub const CONFIG_FILES: [&str; 3] = ["wrangler.json", "wrangler.jsonc", "wrangler.toml"];

/// The top-level keys of the config an environment inherits when it does not set them (those
/// layers reads; wrangler has more, e.g. `main`, `compatibility_date`, `observability`).
pub const INHERITED: [&str; 2] = ["triggers", "assets"];

/// The file wrangler reads when run in `dir` without `--config`: the first of
/// [`CONFIG_FILES`] found in `dir` or any directory above it, in that order of names (see the
/// module docs). `None` when there is none.
#[must_use]
pub fn find_config(dir: &Path) -> Option<PathBuf> {
    CONFIG_FILES.iter().find_map(|name| dir.ancestors().map(|d| d.join(name)).find(|p| p.is_file()))
}

/// A config file's syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `wrangler.toml`.
    Toml,
    /// `wrangler.json` or `wrangler.jsonc`: JSON with comments and trailing commas.
    Jsonc,
}

impl Format {
    /// The format wrangler reads `path` in, by its extension (`.toml`, `.json`, `.jsonc`); `None`
    /// for any other, which wrangler does not read as a config.
    #[must_use]
    pub fn of(path: &Path) -> Option<Format> {
        match path.extension()?.to_str()? {
            "toml" => Some(Format::Toml),
            "json" | "jsonc" => Some(Format::Jsonc),
            _ => None,
        }
    }
}

/// A parsed config: the parts of TOML and JSON layers reads. Tables keep their keys sorted, so
/// that whatever is generated from a config does not depend on the order of a hash map.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A string.
    String(String),
    /// An array (TOML's `[[array_of_tables]]` included).
    Array(Vec<Value>),
    /// A table or object, sorted by key.
    Table(Vec<(String, Value)>),
    /// A boolean (`[assets] run_worker_first = true`).
    Bool(bool),
    /// A number, date or `null`: present, but nothing layers reads.
    Other,
}

impl Value {
    /// The value at `key` of a table; `None` for a missing key or a value that is no table.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Table(t) => t.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The value at a path of keys (`["queues", "producers"]`).
    #[must_use]
    pub fn at(&self, path: &[&str]) -> Option<&Value> {
        path.iter().try_fold(self, |v, k| v.get(k))
    }

    /// The string, if this is one.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The boolean, if this is one.
    #[must_use]
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The elements, if this is an array.
    #[must_use]
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The entries, if this is a table.
    #[must_use]
    pub fn as_table(&self) -> Option<&[(String, Value)]> {
        match self {
            Value::Table(t) => Some(t),
            _ => None,
        }
    }
}

/// Where a config does not parse, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// What is wrong there.
    pub message: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}, column {}: {}", self.line, self.column, self.message)
    }
}

/// 1-based line and column of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// What wrangler's JSONC reader accepts (`parseJSONC`: comments and trailing commas, nothing
/// else of JSON5), for every reader of a JSON config in layers.
#[must_use]
pub fn jsonc_options() -> jsonc_parser::ParseOptions {
    jsonc_parser::ParseOptions {
        allow_comments: true,
        allow_trailing_commas: true,
        allow_loose_object_property_names: false,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_bare_decimal_point_numbers: false,
        allow_non_finite_numbers: false,
        allow_extended_string_escapes: false,
    }
}

/// Parses a config's text as `format` (a UTF-8 byte order mark is skipped, as wrangler does).
///
/// # Errors
/// Where the text is not valid in that format (for JSON: comments and trailing commas are
/// accepted, nothing else beyond JSON), with its line and column.
pub fn parse(text: &str, format: Format) -> Result<Value, ParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    match format {
        Format::Toml => match text.parse::<toml::Table>() {
            Ok(t) => Ok(from_toml(toml::Value::Table(t))),
            Err(e) => {
                let (line, column) = line_column(text, e.span().map_or(0, |s| s.start));
                Err(ParseError { line, column, message: e.message().trim_end().to_owned() })
            }
        },
        Format::Jsonc => {
            let options = jsonc_options();
            match jsonc_parser::parse_to_value(text, &options) {
                Ok(Some(v)) => Ok(from_jsonc(v)),
                Ok(None) => Ok(Value::Table(Vec::new())),
                Err(e) => Err(ParseError {
                    line: e.line_display(),
                    column: e.column_display(),
                    message: e.kind().to_string(),
                }),
            }
        }
    }
}

/// Why [`read`] failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError {
    /// What went wrong, naming the file (`path:line:column: …` when it does not parse).
    pub message: String,
    /// Whether the file was read but does not parse (else it could not be read, or wrangler
    /// would not read it: a wrong path or extension).
    pub syntax: bool,
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Reads and parses the config at `path`, in the format its extension says.
///
/// # Errors
/// When the file cannot be read, has an extension wrangler does not read, or does not parse
/// (`path:line:column: message`).
pub fn read(path: &Path) -> Result<Value, ReadError> {
    let unreadable = |message: String| ReadError { message, syntax: false };
    let format = Format::of(path).ok_or_else(|| {
        unreadable(format!("wrangler reads a config ending in .toml, .json or .jsonc, and {} does not", path.display()))
    })?;
    let text = std::fs::read_to_string(path).map_err(|e| unreadable(format!("cannot read {}: {e}", path.display())))?;
    let what = if format == Format::Toml { "TOML" } else { "JSON (with comments and trailing commas)" };
    parse(&text, format).map_err(|e| ReadError {
        message: format!("{}:{}:{}: not valid {what}: {}", path.display(), e.line, e.column, e.message),
        syntax: true,
    })
}

/// The config's environments (`[env.NAME]`, `"env": { "NAME": … }`), sorted by name.
#[must_use]
pub fn environments(config: &Value) -> Vec<(&str, &Value)> {
    let envs = config.get("env").and_then(Value::as_table).unwrap_or_default();
    envs.iter().filter(|(_, v)| matches!(v, Value::Table(_))).map(|(k, v)| (k.as_str(), v)).collect()
}

/// The value of top-level `key` for environment `env` (`None`: the top level itself), as
/// wrangler resolves it: the environment's own, or the top level's for a key in [`INHERITED`]
/// that the environment does not set; a binding or `vars` only the environment declares.
#[must_use]
pub fn resolve<'a>(config: &'a Value, env: Option<&'a Value>, key: &str) -> Option<&'a Value> {
    match env {
        None => config.get(key),
        Some(e) => e.get(key).or_else(|| INHERITED.contains(&key).then(|| config.get(key)).flatten()),
    }
}

fn from_toml(v: toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Array(a) => Value::Array(a.into_iter().map(from_toml).collect()),
        toml::Value::Table(t) => Value::Table(t.into_iter().map(|(k, v)| (k, from_toml(v))).collect()),
        toml::Value::Boolean(b) => Value::Bool(b),
        _ => Value::Other,
    }
}

fn from_jsonc(v: jsonc_parser::JsonValue<'_>) -> Value {
    use jsonc_parser::JsonValue;
    match v {
        JsonValue::String(s) => Value::String(s.into_owned()),
        JsonValue::Array(a) => Value::Array(a.into_iter().map(from_jsonc).collect()),
        JsonValue::Object(o) => {
            let mut entries: Vec<(String, Value)> =
                o.into_iter().map(|(k, v)| (k.into_owned(), from_jsonc(v))).collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Table(entries)
        }
        JsonValue::Boolean(b) => Value::Bool(b),
        _ => Value::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jsonc(text: &str) -> Value {
        parse(text, Format::Jsonc).unwrap()
    }

    fn bindings(v: &Value, section: &str) -> Vec<String> {
        v.get(section)
            .and_then(Value::as_array)
            .unwrap_or_default()
            .iter()
            .filter_map(|d| d.get("binding").and_then(Value::as_str).map(str::to_owned))
            .collect()
    }

    #[test]
    fn jsonc_comments_and_trailing_commas() {
        let v = jsonc(
            r#"// the Worker
            {
              /* block
                 comment */ "name": "w", // after a value
              "d1_databases": [
                { "binding": "DB", "database_id": "x", },
              ],
            }"#,
        );
        assert_eq!(v.get("name").and_then(Value::as_str), Some("w"));
        assert_eq!(bindings(&v, "d1_databases"), ["DB"]);
    }

    #[test]
    fn comment_markers_inside_strings_are_text() {
        let v = jsonc(r#"{ "a": "https://example.com/*x*/", "b": "// not a comment", "c": "/* nor */" }"#);
        assert_eq!(v.get("a").and_then(Value::as_str), Some("https://example.com/*x*/"));
        assert_eq!(v.get("b").and_then(Value::as_str), Some("// not a comment"));
        assert_eq!(v.get("c").and_then(Value::as_str), Some("/* nor */"));
        // An escaped quote does not end the string: the `//` after it is still text.
        let v = jsonc(r#"{ "d": "say \"hi\" // still text" }"#);
        assert_eq!(v.get("d").and_then(Value::as_str), Some(r#"say "hi" // still text"#));
    }

    #[test]
    fn jsonc_refuses_what_wrangler_refuses() {
        for bad in [
            "{ 'name': 'w' }",              // single quotes
            "{ name: \"w\" }",              // bare keys
            "{ \"a\": 1 \"b\": 2 }",        // a missing comma
            "{ \"a\": 0x10 }",              // hexadecimal
            "{ \"a\": 1,, }",               // two commas
            "{ \"a\": 1 } /* unterminated", // a comment left open
        ] {
            assert!(parse(bad, Format::Jsonc).is_err(), "{bad}");
        }
    }

    #[test]
    fn errors_name_line_and_column() {
        let e = parse("{\n  \"a\": 1,\n  \"b\": ?\n}", Format::Jsonc).unwrap_err();
        assert_eq!((e.line, e.column), (3, 8), "{e}");
        let e = parse("name = \"w\"\n[vars\nA = 1", Format::Toml).unwrap_err();
        assert_eq!(e.line, 2, "{e}");
        assert!(e.to_string().starts_with("line 2, column "), "{e}");
    }

    #[test]
    fn a_byte_order_mark_is_skipped() {
        assert_eq!(jsonc("\u{feff}{ \"name\": \"w\" }").get("name").and_then(Value::as_str), Some("w"));
    }

    #[test]
    fn environments_in_both_formats_and_what_they_inherit() {
        let toml = parse(
            r#"
            [triggers]
            crons = ["0 2 * * *"]
            [[d1_databases]]
            binding = "DB"
            [env.staging]
            name = "w-staging"
            [[env.staging.d1_databases]]
            binding = "DB"
            [env.dev.triggers]
            crons = []
            "#,
            Format::Toml,
        )
        .unwrap();
        let json = jsonc(
            r#"{
              "triggers": { "crons": ["0 2 * * *"] },
              "d1_databases": [{ "binding": "DB" }],
              "env": {
                "staging": { "name": "w-staging", "d1_databases": [{ "binding": "DB" }] },
                "dev": { "triggers": { "crons": [] } },
              },
            }"#,
        );
        for v in [&toml, &json] {
            let envs = environments(v);
            assert_eq!(envs.iter().map(|(n, _)| *n).collect::<Vec<_>>(), ["dev", "staging"]);
            let (dev, staging) = (envs[0].1, envs[1].1);
            // Bindings: only the environment's own.
            assert_eq!(resolve(v, Some(staging), "d1_databases").map(|d| d.as_array().unwrap().len()), Some(1));
            assert_eq!(resolve(v, Some(dev), "d1_databases"), None);
            // Triggers: inherited unless set.
            let crons =
                |e| resolve(v, e, "triggers").and_then(|t| t.get("crons")).and_then(Value::as_array).map(<[_]>::len);
            assert_eq!(crons(None), Some(1));
            assert_eq!(crons(Some(staging)), Some(1));
            assert_eq!(crons(Some(dev)), Some(0));
        }
    }

    #[test]
    fn format_by_extension() {
        assert_eq!(Format::of(Path::new("a/wrangler.toml")), Some(Format::Toml));
        assert_eq!(Format::of(Path::new("wrangler.json")), Some(Format::Jsonc));
        assert_eq!(Format::of(Path::new("x.jsonc")), Some(Format::Jsonc));
        assert_eq!(Format::of(Path::new("wrangler.yaml")), None);
    }

    #[test]
    fn precedence_json_then_jsonc_then_toml_searched_upwards() {
        let root = std::env::temp_dir().join(format!("layers-spec-wrangler-{}", std::process::id()));
        let inner = root.join("crate");
        std::fs::create_dir_all(&inner).unwrap();
        let touch = |p: &Path| std::fs::write(p, "").unwrap();
        assert_eq!(find_config(&inner).filter(|p| p.starts_with(&root)), None);
        touch(&inner.join("wrangler.toml"));
        assert_eq!(find_config(&inner), Some(inner.join("wrangler.toml")));
        touch(&inner.join("wrangler.jsonc"));
        assert_eq!(find_config(&inner), Some(inner.join("wrangler.jsonc")));
        // wrangler.json anywhere above wins over the others next to the Worker, as in wrangler.
        touch(&root.join("wrangler.json"));
        assert_eq!(find_config(&inner), Some(root.join("wrangler.json")));
        std::fs::remove_dir_all(&root).unwrap();
    }
}
