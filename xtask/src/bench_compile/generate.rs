//! Generation: the bench workspace written under `target/bench-compile/` (its manifest, both
//! crates' manifests, `wrangler.toml` and sources), and the routes: their kinds, paths and
//! spread over module files.

use std::path::{Path, PathBuf};

use super::hand_crate::{hand_lib, hand_module, HAND_AUTH};
use super::layers_crate::{layers_lib, layers_module};
use super::workspace::workspace_manifest;
use super::{HAND_CRATE, LAYERS_CRATE, MODULES};
use crate::util::Result;

/// Writes the bench workspace (manifest, both crates) into `dir`; files whose contents did
/// not change are left alone (their mtimes too: cargo does not rebuild what did not change).
pub(crate) fn generate(root: &Path, dir: &Path, routes: usize) -> Result<()> {
    let manifest_path = root.join("Cargo.toml");
    let manifest =
        std::fs::read_to_string(&manifest_path).map_err(|e| format!("cannot read {}: {e}", manifest_path.display()))?;
    let root_doc: toml::Table =
        manifest.parse().map_err(|e| format!("{} is not valid TOML: {e}", manifest_path.display()))?;
    let edition = root_doc
        .get("workspace")
        .and_then(|w| w.get("package"))
        .and_then(|p| p.get("edition"))
        .and_then(toml::Value::as_str)
        .unwrap_or("2021")
        .to_owned();
    let mut files: Vec<(PathBuf, String)> = vec![
        (dir.join("Cargo.toml"), workspace_manifest(root, &root_doc)?),
        (dir.join(".gitignore"), "*\n".to_owned()),
        (dir.join(LAYERS_CRATE).join("Cargo.toml"), crate_manifest(LAYERS_CRATE, &edition, LAYERS_DEPS)),
        (dir.join(LAYERS_CRATE).join("wrangler.toml"), WRANGLER_TOML.to_owned()),
        (dir.join(LAYERS_CRATE).join("src").join("lib.rs"), layers_lib(routes)),
        (dir.join(HAND_CRATE).join("Cargo.toml"), crate_manifest(HAND_CRATE, &edition, HAND_DEPS)),
        (dir.join(HAND_CRATE).join("wrangler.toml"), WRANGLER_TOML.to_owned()),
        (dir.join(HAND_CRATE).join("src").join("lib.rs"), hand_lib(routes)),
        (dir.join(HAND_CRATE).join("src").join("auth.rs"), HAND_AUTH.to_owned()),
    ];
    for (m, range) in module_ranges(routes).into_iter().enumerate() {
        let name = format!("m{m:02}.rs");
        files.push((dir.join(LAYERS_CRATE).join("src").join(&name), layers_module(range.clone())));
        files.push((dir.join(HAND_CRATE).join("src").join(&name), hand_module(range)));
    }
    // Module files of an earlier run with more modules.
    for krate in [LAYERS_CRATE, HAND_CRATE] {
        let src = dir.join(krate).join("src");
        if let Ok(entries) = std::fs::read_dir(&src) {
            for entry in entries.flatten() {
                let path = entry.path();
                let stale = path.extension().is_some_and(|e| e == "rs") && !files.iter().any(|(p, _)| p == &path);
                if stale {
                    std::fs::remove_file(&path).map_err(|e| format!("cannot remove {}: {e}", path.display()))?;
                }
            }
        }
    }
    for (path, contents) in &files {
        write_if_changed(path, contents)?;
    }
    Ok(())
}

/// Writes `contents` to `path` unless it holds them already (creating its directory).
pub(super) fn write_if_changed(path: &Path, contents: &str) -> Result<()> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == contents) {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    std::fs::write(path, contents).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Contiguous route ranges, one per module file (at most [`MODULES`], none empty).
pub(crate) fn module_ranges(routes: usize) -> Vec<std::ops::Range<usize>> {
    let modules = MODULES.min(routes).max(1);
    (0..modules).map(|m| (m * routes / modules)..((m + 1) * routes / modules)).filter(|r| !r.is_empty()).collect()
}

/// The four route kinds, by `i % 4`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Public `GET /rNNN/hello/:name`.
    PublicHello,
    /// ApiKey `GET /rNNN/items/:id`, D1 read.
    ApiKeyRead,
    /// ApiKey `POST /rNNN/items`, JSON body into D1.
    ApiKeyWrite,
    /// AccessJwt `GET /rNNN/prefs`, KV read.
    AccessKv,
}

/// Route `i`'s kind.
pub(crate) fn kind(i: usize) -> Kind {
    match i % 4 {
        0 => Kind::PublicHello,
        1 => Kind::ApiKeyRead,
        2 => Kind::ApiKeyWrite,
        _ => Kind::AccessKv,
    }
}

/// Route `i`'s method and path.
pub(super) fn method_and_path(i: usize) -> (&'static str, String) {
    match kind(i) {
        Kind::PublicHello => ("GET", format!("/r{i:03}/hello/:name")),
        Kind::ApiKeyRead => ("GET", format!("/r{i:03}/items/:id")),
        Kind::ApiKeyWrite => ("POST", format!("/r{i:03}/items")),
        Kind::AccessKv => ("GET", format!("/r{i:03}/prefs")),
    }
}

/// The module file route `i` (of `routes`) is in.
pub(super) fn module_of(i: usize, routes: usize) -> usize {
    module_ranges(routes).iter().position(|r| r.contains(&i)).unwrap_or(0)
}

/// The dependencies of `layers200` (all from the bench workspace's `[workspace.dependencies]`).
const LAYERS_DEPS: &[&str] = &["layers-core", "worker", "wasm-bindgen", "serde", "serde_json"];
/// The dependencies of `hand200`: no layers crate.
const HAND_DEPS: &[&str] = &["worker", "wasm-bindgen", "serde", "serde_json", "subtle", "jwt-compact", "base64"];

/// A generated crate's `Cargo.toml`.
fn crate_manifest(name: &str, edition: &str, deps: &[&str]) -> String {
    let mut s = format!(
        "# Generated by `cargo xtask bench` (xtask/src/bench_compile/) on every run; edits are lost.\n\
         [package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"{edition}\"\npublish = false\n\n\
         [lib]\ncrate-type = [\"cdylib\"]\n\n[dependencies]\n"
    );
    for d in deps {
        s.push_str(&format!("{d}.workspace = true\n"));
    }
    // As in app/Cargo.toml (jwt-compact's `rsa` pulls getrandom 0.2).
    s.push_str("\n[target.'cfg(target_arch = \"wasm32\")'.dependencies]\ngetrandom = { version = \"0.2\", features = [\"js\"] }\n");
    s
}

/// The bindings the routes use (`app!` checks D1 `DB` and KV `KV` against it at compile time).
const WRANGLER_TOML: &str = r#"# Generated by `cargo xtask bench` (xtask/src/bench_compile/); placeholder ids.
name = "bench-compile"
main = "build/index.js"
compatibility_date = "2026-04-01"

[vars]
ACCESS_TEAM_DOMAIN = "example.cloudflareaccess.com"
ACCESS_AUD = "replace-with-the-access-application-aud-tag"

[[d1_databases]]
binding = "DB"
database_name = "bench"
database_id = "00000000-0000-0000-0000-000000000000"

[[kv_namespaces]]
binding = "KV"
id = "00000000000000000000000000000000"
"#;

/// The first line of the generated `lib.rs` and module files.
pub(super) const HEADER: &str =
    "// Generated by `cargo xtask bench` (xtask/src/bench_compile/) on every run; edits are lost.\n";

/// The types both crates' routes share (in their `lib.rs`).
pub(super) const SHARED_TYPES: &str = "
/// A stored item.
#[derive(Debug, Serialize, Deserialize)]
pub struct Item {
    /// Row id.
    pub id: i64,
    /// Its name.
    pub name: String,
}

/// The body of `POST /rNNN/items`.
#[derive(Debug, Deserialize)]
pub struct NewItem {
    /// The new item's name.
    pub name: String,
}
";

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn route_mix_and_modules() {
        let ranges = module_ranges(200);
        assert_eq!(ranges.len(), MODULES);
        assert_eq!(ranges.iter().map(|r| r.len()).sum::<usize>(), 200);
        assert!(ranges.windows(2).all(|w| w[0].end == w[1].start));
        assert_eq!(module_ranges(3).len(), 3);
        let counts = [Kind::PublicHello, Kind::ApiKeyRead, Kind::ApiKeyWrite, Kind::AccessKv]
            .map(|k| (0..200).filter(|&i| kind(i) == k).count());
        assert_eq!(counts, [50; 4]);
        // Unique paths, so `app!` (which refuses overlapping routes) and the Router accept them.
        let paths: BTreeSet<_> = (0..200).map(method_and_path).collect();
        assert_eq!(paths.len(), 200);
    }

    #[test]
    fn generated_workspace() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().canonicalize().unwrap();
        let dir = root.join("target").join("tmp").join(format!("bench-compile-test-{}", std::process::id()));
        generate(&root, &dir, 12).unwrap();
        let ws: toml::Table = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap().parse().unwrap();
        let deps = ws["workspace"]["dependencies"].as_table().unwrap();
        let core = deps["layers-core"]["path"].as_str().unwrap();
        assert_eq!(Path::new(core), root.join("layers-core"));
        assert_eq!(deps["worker"]["version"].as_str(), Some("=0.8.7"));
        assert!(ws["profile"]["release"]["lto"].as_bool().unwrap());
        let lib = std::fs::read_to_string(dir.join(LAYERS_CRATE).join("src").join("lib.rs")).unwrap();
        assert_eq!(lib.matches("::route_").count(), 12);
        let hand = std::fs::read_to_string(dir.join(HAND_CRATE).join("src").join("lib.rs")).unwrap();
        assert_eq!(hand.matches("_async(\"/r").count(), 12);
        assert!(!std::fs::read_to_string(dir.join(HAND_CRATE).join("Cargo.toml")).unwrap().contains("layers"));
        // Fewer routes later: the extra module files go.
        generate(&root, &dir, 3).unwrap();
        assert!(!dir.join(LAYERS_CRATE).join("src").join("m05.rs").exists());
        assert!(dir.join(LAYERS_CRATE).join("src").join("m02.rs").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
