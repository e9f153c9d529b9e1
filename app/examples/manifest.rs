//! Prints the reference app's manifest (what `cargo xtask manifest` runs):
//! `cargo run -p app --example manifest -- [--format markdown|mermaid|json|all|routes-doc]`.
//!
//! `all` (the default) is the Markdown tables followed by the Mermaid diagram in a fenced
//! block; `mermaid` alone is the bare diagram (for `mmdc`), `json` the machine-readable table,
//! `routes-doc` the content of `app/ROUTES.md` (the crate docs' tables).

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
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
            eprintln!("usage: manifest [--format markdown|mermaid|json|all|routes-doc]");
            return ExitCode::from(2);
        }
    };
    print!("{out}");
    ExitCode::SUCCESS
}
