//! `cargo xtask manifest [--format markdown|mermaid|json]`: the reference app's table of
//! route · method · identity · storage (and crons, queues), as Markdown and a Mermaid diagram.
//!
//! The table comes from `app::manifest()`, which `app!` generates from the entries the Worker
//! dispatches with; it is printed by `app/examples/manifest.rs`, built and run natively. Bindings,
//! crons and queues are checked against `app/wrangler.toml` while the app compiles, so when code
//! and wrangler.toml disagree the build fails — and so does this command, with the compiler's
//! explanation above its own error line. The manifest goes to stdout, progress to stderr.

use crate::util::{describe, Result};
use crate::Ctx;

const FORMATS: &[&str] = &["markdown", "mermaid", "json", "all"];

/// Reads `--format <f>` / `--format=<f>` (default `all`: Markdown, then Mermaid).
pub(crate) fn parse_format(rest: &[String]) -> Result<String> {
    let mut format = "all".to_owned();
    let mut it = rest.iter();
    while let Some(arg) = it.next() {
        let value = if arg == "--format" || arg == "-f" {
            it.next().ok_or("`--format` needs a value: markdown, mermaid or json")?.clone()
        } else if let Some(v) = arg.strip_prefix("--format=") {
            v.to_owned()
        } else {
            return Err(format!("unexpected argument `{arg}` for `manifest`; see `cargo xtask --help`"));
        };
        if !FORMATS.contains(&value.as_str()) {
            return Err(format!(
                "unknown format `{value}`: expected markdown, mermaid or json (default: both markdown and mermaid)"
            ));
        }
        format = value;
    }
    Ok(format)
}

/// Builds and runs the manifest printer natively.
pub(crate) fn manifest(ctx: &mut Ctx, format: &str) -> Result<()> {
    ctx.step("manifest: build the app natively and print its manifest", |ctx| {
        let mut cmd = ctx.cargo_cmd();
        cmd.args(["run", "--quiet", "-p", "app", "--example", "manifest", "--", "--format", format]);
        let desc = describe(&cmd);
        let status = cmd.status().map_err(|e| format!("could not start `{desc}`: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!(
                "no manifest: `{desc}` failed ({status}). The app must compile to have one: when a route, \
                 cron or queue uses a binding, cron or queue that app/wrangler.toml does not declare (or \
                 the other way round), `app!` refuses to build — the compiler's message above names the \
                 handler and the binding, and how to fix it"
            ))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::parse_format;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn formats() {
        assert_eq!(parse_format(&[]).unwrap(), "all");
        assert_eq!(parse_format(&args(&["--format", "mermaid"])).unwrap(), "mermaid");
        assert_eq!(parse_format(&args(&["--format=json"])).unwrap(), "json");
        assert_eq!(parse_format(&args(&["-f", "markdown"])).unwrap(), "markdown");
        assert!(parse_format(&args(&["--format"])).unwrap_err().contains("needs a value"));
        assert!(parse_format(&args(&["--format", "html"])).unwrap_err().contains("unknown format `html`"));
        assert!(parse_format(&args(&["--verbose"])).unwrap_err().contains("unexpected argument"));
    }
}
