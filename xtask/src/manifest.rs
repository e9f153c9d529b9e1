//! `cargo xtask manifest [--format markdown|mermaid|json] [--write]`: the reference app's table
//! of route · method · identity · storage (and crons, queues), as Markdown and a Mermaid diagram.
//! `--write` writes the Markdown tables to `app/ROUTES.md`, which the app's crate docs include
//! (a test fails when the committed file drifts from the code).
//!
//! The table comes from `app::manifest()`, which `app!` generates from the entries the Worker
//! dispatches with; it is printed by `app/examples/manifest.rs`, built and run natively. Bindings,
//! crons and queues are checked against `app/wrangler.toml` while the app compiles, so when code
//! and wrangler.toml disagree the build fails — and so does this command, with the compiler's
//! explanation above its own error line. The manifest goes to stdout, progress to stderr.

use crate::util::{describe, Result};
use crate::Ctx;

const FORMATS: &[&str] = &["markdown", "mermaid", "json", "all"];

/// What `cargo xtask manifest` was asked for.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Request {
    /// Print in this format.
    Print(String),
    /// Write `app/ROUTES.md`.
    Write,
}

/// Reads `--format <f>` / `--format=<f>` (default `all`: Markdown, then Mermaid), or `--write`.
pub(crate) fn parse_options(rest: &[String]) -> Result<Request> {
    if rest.iter().any(|a| a == "--write") {
        return match rest {
            [one] if one == "--write" => Ok(Request::Write),
            _ => Err("`--write` writes app/ROUTES.md and takes no other argument".to_owned()),
        };
    }
    parse_format(rest).map(Request::Print)
}

/// Reads `--format <f>` / `--format=<f>` (default `all`: Markdown, then Mermaid).
fn parse_format(rest: &[String]) -> Result<String> {
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

/// Builds and runs the manifest printer natively: prints it, or writes `app/ROUTES.md`.
pub(crate) fn manifest(ctx: &mut Ctx, request: &Request) -> Result<()> {
    let title = match request {
        Request::Print(_) => "manifest: build the app natively and print its manifest",
        Request::Write => "manifest: build the app natively and write app/ROUTES.md",
    };
    ctx.step(title, |ctx| {
        let format = match request {
            Request::Print(f) => f.as_str(),
            Request::Write => "routes-doc",
        };
        let mut cmd = ctx.cargo_cmd();
        cmd.args(["run", "--quiet", "-p", "app", "--example", "manifest", "--", "--format", format]);
        let desc = describe(&cmd);
        let failed = |status: std::process::ExitStatus| {
            format!(
                "no manifest: `{desc}` failed ({status}). The app must compile to have one: when a route, \
                 cron or queue uses a binding, cron or queue that app/wrangler.toml does not declare (or \
                 the other way round), `app!` refuses to build — the compiler's message above names the \
                 handler and the binding, and how to fix it"
            )
        };
        if *request == Request::Write {
            cmd.stdout(std::process::Stdio::piped());
            let out = cmd.output().map_err(|e| format!("could not start `{desc}`: {e}"))?;
            if !out.status.success() {
                return Err(failed(out.status));
            }
            let path = ctx.app.join("ROUTES.md");
            std::fs::write(&path, &out.stdout).map_err(|e| format!("could not write {}: {e}", path.display()))?;
            crate::util::log(format!("wrote {} ({} bytes)", path.display(), out.stdout.len()));
            return Ok(());
        }
        let status = cmd.status().map_err(|e| format!("could not start `{desc}`: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(failed(status))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::{parse_format, parse_options, Request};

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
        assert_eq!(parse_options(&args(&["--write"])).unwrap(), Request::Write);
        assert_eq!(parse_options(&[]).unwrap(), Request::Print("all".to_owned()));
        assert!(parse_options(&args(&["--write", "--format", "json"])).unwrap_err().contains("no other argument"));
    }
}
