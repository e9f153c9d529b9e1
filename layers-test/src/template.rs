//! Freshly migrated local state without running the migrations on every start: the first run
//! applies them (`wrangler d1 migrations apply --local`, a node process of a few seconds per D1
//! binding) into a template directory next to the runs, keyed by a hash of the D1 bindings'
//! configuration and every migration file; later runs copy the template's files into their own
//! state. A change to a migration (or to a `[[d1_databases]]` entry) makes a new template.

use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use crate::toolchain::Tools;
use crate::Error;

/// Gives `state` the D1 databases of `config` with every migration applied.
pub(crate) fn migrated_state(root: &Path, config: &Path, dir: &Path, tools: &Tools, state: &Path) -> Result<(), Error> {
    let bindings = crate::config::d1_bindings(config)?;
    if bindings.is_empty() {
        return Ok(());
    }
    let template = root.join(format!("template-{}", fingerprint(config)?));
    if !template.join(".complete").is_file() {
        make_template(root, &template, &bindings, config, dir, tools)?;
    }
    copy_dir(&template, state)
}

/// Applies the migrations into a directory of its own, then renames it into place (a parallel
/// run making the same template loses the rename and uses the other's).
fn make_template(
    root: &Path,
    template: &Path,
    bindings: &[String],
    config: &Path,
    dir: &Path,
    tools: &Tools,
) -> Result<(), Error> {
    let tmp: PathBuf = root.join(format!("template-tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| Error::new(format!("cannot create {}: {e}", tmp.display())))?;
    for binding in bindings {
        let mut cmd = std::process::Command::new(&tools.wrangler);
        cmd.args(["d1", "migrations", "apply", binding, "--local", "--persist-to"])
            .arg(&tmp)
            .arg("-c")
            .arg(config)
            .current_dir(dir)
            .env("WRANGLER_SEND_METRICS", "false");
        crate::process::run_captured(&mut cmd, &format!("`wrangler d1 migrations apply {binding} --local`"))?;
    }
    std::fs::write(tmp.join(".complete"), "")
        .map_err(|e| Error::new(format!("cannot write {}: {e}", tmp.display())))?;
    if std::fs::rename(&tmp, template).is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    if template.join(".complete").is_file() {
        Ok(())
    } else {
        Err(Error::new(format!("the migrated template {} was not made", template.display())))
    }
}

/// A hash of the config's `[[d1_databases]]` entries and of every file in their migrations
/// directories (names and contents).
fn fingerprint(config: &Path) -> Result<String, Error> {
    let text =
        std::fs::read_to_string(config).map_err(|e| Error::new(format!("cannot read {}: {e}", config.display())))?;
    let mut h = Sha256::new();
    let doc: Option<toml::Table> = text.parse().ok();
    let dbs = doc.as_ref().and_then(|d| d.get("d1_databases")).and_then(toml::Value::as_array);
    let base = config.parent().unwrap_or(Path::new("."));
    let mut dirs = Vec::new();
    match dbs {
        Some(dbs) => {
            for db in dbs {
                h.update(db.to_string().as_bytes());
                let m = db.get("migrations_dir").and_then(toml::Value::as_str).unwrap_or("migrations");
                dirs.push(base.join(m));
            }
        }
        // A config the harness does not read (JSON): its text, and `migrations/` next to it.
        None => {
            h.update(text.as_bytes());
            dirs.push(base.join("migrations"));
        }
    }
    for d in dirs {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&d)
            .map(|it| it.flatten().map(|e| e.path()).filter(|p| p.is_file()).collect())
            .unwrap_or_default();
        files.sort();
        for f in files {
            h.update(f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default().as_bytes());
            h.update(std::fs::read(&f).map_err(|e| Error::new(format!("cannot read {}: {e}", f.display())))?);
        }
    }
    Ok(h.finalize().iter().take(12).map(|b| format!("{b:02x}")).collect())
}

/// Copies the files under `from` (but the `.complete` marker) into `to`.
fn copy_dir(from: &Path, to: &Path) -> Result<(), Error> {
    let err = |p: &Path, e: std::io::Error| Error::new(format!("cannot copy {}: {e}", p.display()));
    std::fs::create_dir_all(to).map_err(|e| err(to, e))?;
    for entry in std::fs::read_dir(from).map_err(|e| err(from, e))?.flatten() {
        let (src, name) = (entry.path(), entry.file_name());
        if name == ".complete" {
            continue;
        }
        let dst = to.join(&name);
        if src.is_dir() {
            copy_dir(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst).map_err(|e| err(&src, e))?;
        }
    }
    Ok(())
}
