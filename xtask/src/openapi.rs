//! `cargo xtask openapi [--out PATH] [--check]`: the reference app's OpenAPI 3.1 document.
//!
//! The document comes from `app::openapi()` (layers-core's `openapi` feature, which the app's
//! own `openapi` feature turns on; the Worker build never has it), printed by
//! `app/examples/openapi.rs`, built and run natively like the manifest. It is written to
//! `app/openapi.json` (or `--out`), then validated by an independent validator,
//! `@seriousme/openapi-schema-validator` (`tests/openapi/check.mjs`, installed from its own
//! package-lock.json). `--check` writes nothing: it fails when the committed file differs from
//! what the code generates, then validates it (`cargo xtask test` runs this).

use std::path::PathBuf;

use crate::util::{describe, log, Result};
use crate::Ctx;

/// What `cargo xtask openapi` was asked for.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Options {
    /// Where the document goes (default `app/openapi.json`), relative to the repository root.
    pub(crate) out: Option<PathBuf>,
    /// Compare with the file instead of writing it.
    pub(crate) check: bool,
}

/// Reads `--out PATH` / `--out=PATH` and `--check`.
pub(crate) fn parse_options(rest: &[String]) -> Result<Options> {
    let mut options = Options { out: None, check: false };
    let mut it = rest.iter();
    while let Some(arg) = it.next() {
        if arg == "--check" {
            options.check = true;
        } else if arg == "--out" {
            options.out = Some(PathBuf::from(it.next().ok_or("`--out` needs a path")?));
        } else if let Some(p) = arg.strip_prefix("--out=") {
            options.out = Some(PathBuf::from(p));
        } else {
            return Err(format!("unexpected argument `{arg}` for `openapi`; see `cargo xtask --help`"));
        }
    }
    Ok(options)
}

/// Generates, writes (or compares) and validates the document.
pub(crate) fn openapi(ctx: &mut Ctx, options: &Options) -> Result<()> {
    let path = options.out.as_ref().map_or_else(|| ctx.app.join("openapi.json"), |p| ctx.root.join(p));
    let title = if options.check {
        "openapi --check: the committed OpenAPI document is what the code generates"
    } else {
        "openapi: build the app natively with the openapi feature and write its OpenAPI 3.1 document"
    };
    ctx.step(title, |ctx| {
        let doc = generate(ctx)?;
        let shown = path.strip_prefix(&ctx.root).unwrap_or(&path).display().to_string();
        if options.check {
            let committed = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {shown}: {e}"))?;
            if committed != doc {
                return Err(format!(
                    "{shown} is stale: the routes changed since it was written. Run `cargo xtask openapi` and commit it"
                ));
            }
            log(format!("{shown} is up to date ({} bytes)", doc.len()));
        } else {
            std::fs::write(&path, &doc).map_err(|e| format!("could not write {shown}: {e}"))?;
            log(format!("wrote {shown} ({} bytes)", doc.len()));
        }
        Ok(())
    })?;
    validate(ctx, &path)
}

/// The document, as `app/examples/openapi.rs` prints it.
fn generate(ctx: &Ctx) -> Result<String> {
    let mut cmd = ctx.cargo_cmd();
    cmd.args(["run", "--quiet", "-p", "app", "--features", "openapi", "--example", "openapi"]);
    let desc = describe(&cmd);
    let out =
        cmd.stderr(std::process::Stdio::inherit()).output().map_err(|e| format!("could not start `{desc}`: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "`{desc}` failed ({}): with the openapi feature every `Path<T>`, `Query<T>`, `Json<T>`, `Form<T>` \
             and `responds(… Json<T>)` type must implement schemars::JsonSchema (the compiler names the type above)",
            out.status
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| format!("`{desc}` printed non-UTF-8: {e}"))
}

fn validator_dir(ctx: &Ctx) -> PathBuf {
    ctx.root.join("tests").join("openapi")
}

/// Runs the independent validator (`tests/openapi/check.mjs`) on `path`.
pub(crate) fn validate(ctx: &mut Ctx, path: &std::path::Path) -> Result<()> {
    ctx.step("openapi: validate with @seriousme/openapi-schema-validator (tests/openapi)", |ctx| {
        let dir = validator_dir(ctx);
        let probe = dir.join("node_modules").join("@seriousme").join("openapi-schema-validator").join("package.json");
        crate::ensure::npm_ci(ctx, &dir, "the OpenAPI validator; ~5 s", &probe)?;
        let mut cmd = std::process::Command::new("node");
        cmd.arg(dir.join("check.mjs")).arg(path);
        crate::util::run(&mut cmd).map_err(|e| format!("the OpenAPI document does not validate: {e}"))
    })
}

#[cfg(test)]
mod tests {
    use super::{parse_options, Options};
    use std::path::PathBuf;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn options() {
        assert_eq!(parse_options(&[]).unwrap(), Options { out: None, check: false });
        assert_eq!(
            parse_options(&args(&["--out", "x.json", "--check"])).unwrap(),
            Options { out: Some(PathBuf::from("x.json")), check: true }
        );
        assert_eq!(parse_options(&args(&["--out=y.json"])).unwrap().out, Some(PathBuf::from("y.json")));
        assert!(parse_options(&args(&["--out"])).is_err());
        assert!(parse_options(&args(&["--format", "yaml"])).is_err());
    }
}
