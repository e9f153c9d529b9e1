//! `cargo xtask manifest [--format markdown|mermaid|json] [--strict] [--write]`: the reference
//! app's table of route · method · identity · storage (and crons, queues), as Markdown and a
//! Mermaid diagram. A storage declaration without a reason (`because(…)`) is a warning, and an
//! error under `--strict` (which `cargo xtask test` runs).
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

const FORMATS: &[&str] = &["markdown", "mermaid", "json", "html", "all"];

/// What `cargo xtask manifest` was asked for.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Request {
    /// Print in this format; with `strict`, fail when a storage declaration has no reason.
    Print { format: String, strict: bool },
    /// Write `app/ROUTES.md`.
    Write,
}

/// Reads `--format <f>` / `--format=<f>` (default `all`: Markdown, then Mermaid) and
/// `--strict`, or `--write`.
pub(crate) fn parse_options(rest: &[String]) -> Result<Request> {
    if rest.iter().any(|a| a == "--write") {
        return match rest {
            [one] if one == "--write" => Ok(Request::Write),
            _ => Err("`--write` writes app/ROUTES.md and takes no other argument".to_owned()),
        };
    }
    let strict = rest.iter().any(|a| a == "--strict");
    let rest: Vec<String> = rest.iter().filter(|a| *a != "--strict").cloned().collect();
    parse_format(&rest).map(|format| Request::Print { format, strict })
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
                "unknown format `{value}`: expected markdown, mermaid, json or html (default: both markdown and mermaid)"
            ));
        }
        format = value;
    }
    Ok(format)
}

/// Builds and runs the manifest printer natively: prints it, or writes `app/ROUTES.md`.
pub(crate) fn manifest(ctx: &mut Ctx, request: &Request) -> Result<()> {
    if matches!(request, Request::Print { format, .. } if format == "html") {
        return ctx.step("manifest: the diagram as a self-contained HTML page (stdout)", |ctx| {
            let diagram = diagram(ctx)?;
            print!("{}", html_page(&diagram, &mermaid_browser_build(ctx)?));
            Ok(())
        });
    }
    let title = match request {
        Request::Print { strict: true, .. } => {
            "manifest --strict: build the app natively, print its manifest, refuse storage without a reason"
        }
        Request::Print { .. } => "manifest: build the app natively and print its manifest",
        Request::Write => "manifest: build the app natively and write app/ROUTES.md",
    };
    ctx.step(title, |ctx| {
        let (format, strict) = match request {
            Request::Print { format, strict } => (format.as_str(), *strict),
            Request::Write => ("routes-doc", false),
        };
        let mut cmd = ctx.cargo_cmd();
        cmd.args(["run", "--quiet", "-p", "app", "--example", "manifest", "--", "--format", format]);
        if strict {
            cmd.arg("--strict");
        }
        let desc = describe(&cmd);
        let failed = |status: std::process::ExitStatus| {
            format!(
                "`{desc}` failed ({status}). Under --strict: the storage declarations above have no \
                 reason. Otherwise the app must compile to have a manifest: when a route, \
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

/// The directory of the Mermaid check: Mermaid's parser under jsdom (check.mjs) and its browser
/// build, installed from its own package-lock.json.
fn mermaid_dir(ctx: &Ctx) -> std::path::PathBuf {
    ctx.root.join("tests").join("mermaid")
}

fn ensure_mermaid(ctx: &Ctx) -> Result<()> {
    let dir = mermaid_dir(ctx);
    let probe = dir.join("node_modules").join("mermaid").join("package.json");
    crate::ensure::npm_ci(ctx, &dir, "mermaid and jsdom, for the diagram; ~10 s", &probe)
}

/// The app's diagram (`--format mermaid`), captured.
fn diagram(ctx: &Ctx) -> Result<String> {
    let mut cmd = ctx.cargo_cmd();
    cmd.args(["run", "--quiet", "-p", "app", "--example", "manifest", "--", "--format", "mermaid"]);
    let desc = describe(&cmd);
    let out =
        cmd.stderr(std::process::Stdio::inherit()).output().map_err(|e| format!("could not start `{desc}`: {e}"))?;
    if !out.status.success() {
        return Err(format!("`{desc}` failed ({})", out.status));
    }
    String::from_utf8(out.stdout).map_err(|e| format!("`{desc}` printed non-UTF-8: {e}"))
}

/// Mermaid's browser build (`mermaid.min.js`), installed if need be.
fn mermaid_browser_build(ctx: &Ctx) -> Result<String> {
    ensure_mermaid(ctx)?;
    let path = mermaid_dir(ctx).join("node_modules").join("mermaid").join("dist").join("mermaid.min.js");
    std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// A page that renders `diagram` in any browser, offline: Mermaid's script is inlined.
fn html_page(diagram: &str, mermaid_js: &str) -> String {
    // The diagram goes in a <pre> as text: escape what HTML would read.
    let text = diagram.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    // A script's text ends at `</script`, whatever the JavaScript: keep it out.
    let script = mermaid_js.replace("</script", "<\\/script");
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>layers app: request → identity → storage</title>\n\
         <style>body{{font-family:system-ui,sans-serif;margin:1rem}}</style>\n</head>\n<body>\n\
         <h1>Request → Identity → Storage</h1>\n<p>Generated by <code>cargo xtask manifest --format html</code> from the \
         table the Worker dispatches with. Edge labels are each storage declaration's reasons (<code>because(…)</code>).</p>\n\
         <pre class=\"mermaid\">\n{text}</pre>\n<script>{script}</script>\n\
         <script>mermaid.initialize({{ startOnLoad: true, maxTextSize: 500000, maxEdges: 2000, flowchart: {{ useMaxWidth: false }} }});</script>\n\
         </body>\n</html>\n"
    )
}

/// The step of `cargo xtask test`: the app's diagram parses with Mermaid's own parser.
pub(crate) fn check_diagram(ctx: &mut Ctx) -> Result<()> {
    ctx.step("manifest: the Mermaid diagram parses with Mermaid's parser (tests/mermaid)", |ctx| {
        ensure_mermaid(ctx)?;
        let diagram = diagram(ctx)?;
        let mut child = std::process::Command::new("node")
            .arg(mermaid_dir(ctx).join("check.mjs"))
            .stdin(std::process::Stdio::piped())
            .spawn()
            .map_err(|e| format!("could not run node: {e}"))?;
        {
            use std::io::Write as _;
            let mut stdin = child.stdin.take().ok_or("no stdin for check.mjs")?;
            stdin.write_all(diagram.as_bytes()).map_err(|e| format!("writing the diagram to check.mjs: {e}"))?;
        }
        let status = child.wait().map_err(|e| format!("waiting for check.mjs: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("the manifest's Mermaid diagram does not parse ({status}); see above"))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::{html_page, parse_format, parse_options, Request};

    #[test]
    fn the_html_page_keeps_the_diagram_as_text_and_the_script_whole() {
        let page = html_page("flowchart LR\n  a[\"A<b>\"] --> b\n", "var s='</script>';");
        assert!(page.contains("a[\"A&lt;b&gt;\"] --&gt; b"), "{page}");
        assert!(!page.contains("'</script>'"), "the inlined script cannot end the script element");
        assert_eq!(page.matches("<pre class=\"mermaid\">").count(), 1);
    }

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
        assert!(parse_format(&args(&["--format", "svg"])).unwrap_err().contains("unknown format `svg`"));
        assert_eq!(parse_format(&args(&["--format", "html"])).unwrap(), "html");
        assert!(parse_format(&args(&["--verbose"])).unwrap_err().contains("unexpected argument"));
        assert_eq!(parse_options(&args(&["--write"])).unwrap(), Request::Write);
        assert_eq!(parse_options(&[]).unwrap(), Request::Print { format: "all".to_owned(), strict: false });
        assert_eq!(
            parse_options(&args(&["--strict", "--format", "json"])).unwrap(),
            Request::Print { format: "json".to_owned(), strict: true }
        );
        assert!(parse_options(&args(&["--write", "--format", "json"])).unwrap_err().contains("no other argument"));
    }
}
