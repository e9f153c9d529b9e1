//! Prints the reference app's manifest (what `cargo xtask manifest` runs):
//! `cargo run -p app --example manifest -- [--format markdown|mermaid|json|all|routes-doc] [--strict]`.
//!
//! `all` (the default) is the Markdown tables followed by the Mermaid diagram in a fenced
//! block; `mermaid` alone is the bare diagram (for `mmdc`), `json` the machine-readable table,
//! `routes-doc` the content of `app/ROUTES.md` (the crate docs' tables).
//!
//! A storage declaration without a reason (`because(…)`) is a warning on stderr; `--strict`
//! makes it an error (exit status 1, after the manifest).

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let strict = args.iter().any(|a| a == "--strict");
    args.retain(|a| a != "--strict");
    let format = match args.as_slice() {
        [] => "all",
        [flag, value] if flag == "--format" => value.as_str(),
        [one] if one.starts_with("--format=") => &one["--format=".len()..],
        _ => "",
    };
    let m = app::manifest();
    let out = match format {
        "markdown" => m.to_markdown(),
        "mermaid" => m.to_mermaid(),
        "json" => format!("{:#}\n", m.to_json()),
        "routes-doc" => app::routes_doc(),
        "all" => format!("{}\n## Diagram\n\n```mermaid\n{}```\n", m.to_markdown(), m.to_mermaid()),
        _ => {
            eprintln!("usage: manifest [--format markdown|mermaid|json|all|routes-doc] [--strict]");
            return ExitCode::from(2);
        }
    };
    print!("{out}");
    let missing = m.missing_reasons();
    let level = if strict { "error" } else { "warning" };
    for line in &missing {
        eprintln!("{level}: {line}");
    }
    if strict && !missing.is_empty() {
        eprintln!("error: {} storage declaration(s) without a reason (--strict)", missing.len());
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
