//! `cargo xtask deploy [--env NAME] [--dry-run]`: the reference app to Cloudflare.
//!
//! 1. Builds the app (`app!` refuses to compile when the code declares a binding, cron, queue or
//!    Durable Object class that the wrangler config — every environment of it — does not).
//! 2. Reads the app's manifest (`app::manifest()`): the secrets its routes' verifiers read.
//! 3. Reads the wrangler config wrangler would read in `app/` and prints the exact `wrangler`
//!    commands for what a first deployment needs: resources whose id is still a placeholder
//!    (D1, KV) or that must exist by name (R2 buckets, queues), the remote D1 migrations, and
//!    the secrets. Without `--dry-run`, it asks wrangler which secrets are set (that needs a
//!    login) and refuses to deploy while a placeholder id or an unset secret remains.
//! 4. Runs `wrangler deploy` — with `--dry-run --outdir target/deploy-dry-run` under
//!    `--dry-run`, which bundles everything and uploads nothing (what CI runs).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};

use layers_spec::wrangler::{self, Value};

use crate::util::{log, run, Result};
use crate::Ctx;

/// What `deploy` was asked for.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct DeployOptions {
    /// `--env NAME`: the wrangler environment.
    pub(crate) env: Option<String>,
    /// `--dry-run`: bundle, upload nothing.
    pub(crate) dry_run: bool,
}

pub(crate) fn parse_options(rest: &[String]) -> Result<DeployOptions> {
    let mut o = DeployOptions::default();
    let mut it = rest.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--dry-run" => o.dry_run = true,
            "--env" => o.env = Some(it.next().ok_or("`--env` needs an environment name")?.clone()),
            other => return Err(format!("unexpected argument `{other}`: cargo xtask deploy [--env NAME] [--dry-run]")),
        }
    }
    Ok(o)
}

/// A resource the config names that a first deployment must create, and how.
#[derive(Debug, PartialEq, Eq)]
struct Missing {
    what: String,
    command: String,
}

/// An id wrangler's placeholders use (`00000000-…`, `000…`): not a real resource yet.
fn is_placeholder(id: &str) -> bool {
    !id.is_empty() && id.chars().all(|c| c == '0' || c == '-')
}

fn str_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// The resources of `config` (for environment `env`) to create before a first deployment.
fn resources(config: &Value, env: Option<&str>) -> Result<(Vec<Missing>, Vec<String>)> {
    let env_table = match env {
        None => None,
        Some(name) => Some(
            wrangler::environments(config)
                .into_iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v)
                .ok_or_else(|| format!("the wrangler config has no environment `{name}`"))?,
        ),
    };
    let flag = env.map(|e| format!(" --env {e}")).unwrap_or_default();
    let items = |key: &str| {
        wrangler::resolve(config, env_table, key).and_then(Value::as_array).map(<[Value]>::to_vec).unwrap_or_default()
    };
    let mut missing = Vec::new();
    let mut migrations = Vec::new();
    for db in items("d1_databases") {
        let (binding, name) = (str_at(&db, "binding").unwrap_or("?"), str_at(&db, "database_name").unwrap_or("?"));
        if str_at(&db, "database_id").is_none_or(is_placeholder) {
            missing.push(Missing {
                what: format!("D1 database `{name}` (binding {binding}): put its id in the config"),
                command: format!("npx wrangler d1 create {name}"),
            });
        }
        if db.get("migrations_dir").is_some() {
            migrations.push(format!("npx wrangler d1 migrations apply {binding} --remote{flag}"));
        }
    }
    for kv in items("kv_namespaces") {
        let binding = str_at(&kv, "binding").unwrap_or("?");
        if str_at(&kv, "id").is_none_or(is_placeholder) {
            missing.push(Missing {
                what: format!("KV namespace (binding {binding}): put its id in the config"),
                command: format!("npx wrangler kv namespace create {binding}{flag}"),
            });
        }
    }
    for bucket in items("r2_buckets") {
        if let Some(name) = str_at(&bucket, "bucket_name") {
            missing.push(Missing {
                what: format!("R2 bucket `{name}`, if it does not exist yet"),
                command: format!("npx wrangler r2 bucket create {name}"),
            });
        }
    }
    let queues = wrangler::resolve(config, env_table, "queues");
    let mut names = BTreeSet::new();
    for section in ["producers", "consumers"] {
        for q in queues.and_then(|q| q.get(section)).and_then(Value::as_array).unwrap_or_default() {
            if let Some(name) = str_at(q, "queue") {
                names.insert(name.to_owned());
            }
            if let Some(dlq) = str_at(q, "dead_letter_queue") {
                names.insert(dlq.to_owned());
            }
        }
    }
    for name in names {
        missing.push(Missing {
            what: format!("queue `{name}`, if it does not exist yet"),
            command: format!("npx wrangler queues create {name}"),
        });
    }
    Ok((missing, migrations))
}

/// The secrets the app's routes, crons and queue consumers read, from its manifest (JSON).
fn secrets_of(manifest: &serde_json::Value) -> BTreeSet<String> {
    ["routes", "crons", "queues"]
        .iter()
        .flat_map(|k| manifest[*k].as_array().into_iter().flatten())
        .flat_map(|r| r["secrets"].as_array().into_iter().flatten())
        .filter_map(|s| s.as_str().map(str::to_owned))
        .collect()
}

/// The app's manifest as JSON (built and run natively, like `cargo xtask manifest`).
fn manifest_json(ctx: &Ctx) -> Result<serde_json::Value> {
    let mut cmd = ctx.cargo_cmd();
    cmd.args(["run", "--quiet", "-p", "app", "--example", "manifest", "--", "--format", "json"]);
    let out = cmd.stderr(Stdio::inherit()).output().map_err(|e| format!("cannot run the manifest example: {e}"))?;
    if !out.status.success() {
        return Err(format!("the app's manifest did not build or run ({})", out.status));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| format!("the manifest is not JSON: {e}"))
}

/// The secrets wrangler says are set (needs a login); `None` when it cannot tell.
fn secrets_set(ctx: &Ctx, env: Option<&str>) -> Option<BTreeSet<String>> {
    let mut cmd = Command::new(ctx.node_bin("wrangler"));
    cmd.args(["secret", "list", "--format", "json"]).current_dir(&ctx.app).env("WRANGLER_SEND_METRICS", "false");
    if let Some(e) = env {
        cmd.args(["--env", e]);
    }
    let out = cmd.stdin(Stdio::null()).stderr(Stdio::null()).output().ok()?;
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).ok().filter(|_| out.status.success())?;
    Some(list.as_array()?.iter().filter_map(|s| s["name"].as_str().map(str::to_owned)).collect())
}

pub(crate) fn deploy(ctx: &mut Ctx, o: &DeployOptions) -> Result<()> {
    let env = o.env.as_deref();
    let flag = env.map(|e| format!(" --env {e}")).unwrap_or_default();
    let manifest = ctx.step("deploy: the app's manifest (its secrets)", |ctx| manifest_json(ctx))?;
    let secrets = secrets_of(&manifest);
    let path = wrangler::find_config(&ctx.app).ok_or("no wrangler config in app/")?;
    let config = wrangler::read(&path).map_err(|e| e.message)?;
    let (missing, migrations) = resources(&config, env)?;

    log(format!("deploy: {} (environment: {})", path.display(), env.unwrap_or("top level")));
    for m in &missing {
        log(format!("  create: {} — `{}`", m.what, m.command));
    }
    for m in &migrations {
        log(format!("  migrate: `{m}`"));
    }
    let unset: Vec<&String> = if o.dry_run {
        secrets.iter().collect()
    } else {
        match secrets_set(ctx, env) {
            Some(set) => secrets.iter().filter(|s| !set.contains(*s)).collect(),
            None => {
                log("  (wrangler could not list the Worker's secrets — not logged in, or no Worker yet: all are listed)");
                secrets.iter().collect()
            }
        }
    };
    for s in &unset {
        log(format!("  secret: `npx wrangler secret put {s}{flag}` (read by the app's verifiers)"));
    }
    let placeholders: Vec<&Missing> = missing.iter().filter(|m| m.what.contains("put its id")).collect();
    if !o.dry_run && (!placeholders.is_empty() || !unset.is_empty()) {
        return Err(format!(
            "not deploying: {} resource(s) still have placeholder ids and {} secret(s) are not set — run the commands above first",
            placeholders.len(),
            unset.len()
        ));
    }
    let outdir = ctx.root.join("target").join("deploy-dry-run");
    let title = if o.dry_run {
        "deploy: wrangler deploy --dry-run (bundles, uploads nothing)"
    } else {
        "deploy: wrangler deploy"
    };
    ctx.step(title, |ctx| {
        let mut cmd = Command::new(ctx.node_bin("wrangler"));
        cmd.arg("deploy").current_dir(&ctx.app).env("WRANGLER_SEND_METRICS", "false");
        if let Some(e) = env {
            cmd.args(["--env", e]);
        }
        if o.dry_run {
            cmd.args(["--dry-run", "--outdir"]).arg(&outdir).stdin(Stdio::null());
        }
        run(&mut cmd)?;
        if o.dry_run {
            check_bundle(&outdir)?;
        }
        Ok(())
    })
}

/// What a dry run must have produced: the Worker's module and its wasm.
fn check_bundle(outdir: &Path) -> Result<()> {
    let entries: Vec<String> = std::fs::read_dir(outdir)
        .map_err(|e| format!("wrangler deploy --dry-run wrote nothing to {}: {e}", outdir.display()))?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    if !entries.iter().any(|n| n.ends_with(".wasm")) || !entries.iter().any(|n| n.ends_with(".js")) {
        return Err(format!("the dry-run bundle in {} lacks the module or the wasm: {entries:?}", outdir.display()));
    }
    log(format!("deploy: dry-run bundle in {}: {}", outdir.display(), entries.join(", ")));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{is_placeholder, parse_options, resources, secrets_of};
    use layers_spec::wrangler::{parse, Format};

    #[test]
    fn options() {
        let o = parse_options(&["--env".into(), "staging".into(), "--dry-run".into()]).unwrap();
        assert_eq!((o.env.as_deref(), o.dry_run), (Some("staging"), true));
        assert!(parse_options(&["--env".into()]).is_err());
        assert!(parse_options(&["--force".into()]).is_err());
    }

    #[test]
    fn placeholder_ids_and_named_resources_are_listed_per_environment() {
        assert!(is_placeholder("00000000-0000-0000-0000-000000000000") && !is_placeholder("0a1b"));
        let config = parse(
            r#"
            [[d1_databases]]
            binding = "DB"
            database_name = "blog"
            database_id = "00000000-0000-0000-0000-000000000000"
            migrations_dir = "migrations"
            [[kv_namespaces]]
            binding = "KV"
            id = "9f2c"
            [[r2_buckets]]
            binding = "FILES"
            bucket_name = "files"
            [[queues.producers]]
            binding = "Q"
            queue = "jobs"
            [[queues.consumers]]
            queue = "jobs"
            dead_letter_queue = "jobs-dlq"
            [env.staging]
            [[env.staging.d1_databases]]
            binding = "DB"
            database_name = "blog-staging"
            database_id = "1234"
            "#,
            Format::Toml,
        )
        .unwrap();
        let (missing, migrations) = resources(&config, None).unwrap();
        let commands: Vec<&str> = missing.iter().map(|m| m.command.as_str()).collect();
        assert_eq!(
            commands,
            [
                "npx wrangler d1 create blog",
                "npx wrangler r2 bucket create files",
                "npx wrangler queues create jobs",
                "npx wrangler queues create jobs-dlq"
            ]
        );
        assert_eq!(migrations, ["npx wrangler d1 migrations apply DB --remote"]);
        // Bindings are not inherited: staging has its own database, with a real id, and nothing else.
        let (missing, migrations) = resources(&config, Some("staging")).unwrap();
        assert!(missing.is_empty(), "{missing:?}");
        assert!(migrations.is_empty());
        assert!(resources(&config, Some("prod")).is_err());
    }

    #[test]
    fn secrets_come_from_the_routes() {
        let m = serde_json::json!({"routes": [{"secrets": ["API_KEYS"]}, {"secrets": []}, {"secrets": ["API_KEYS", "SIGNING_KEY"]}]});
        assert_eq!(secrets_of(&m).into_iter().collect::<Vec<_>>(), ["API_KEYS", "SIGNING_KEY"]);
    }
}
