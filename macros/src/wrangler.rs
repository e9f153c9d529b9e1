//! Reading wrangler's config for `app!` — `wrangler.json`, `wrangler.jsonc` or `wrangler.toml`,
//! parsed by [`layers_spec::wrangler`] as wrangler parses it — into what the whole-app checks
//! compare the code with, for the top level and each environment: the bindings each storage
//! kind declares (as [`layers_spec::storage::KINDS`] says where), `[vars]`, cron triggers, queue
//! producers and consumers, and Durable Object classes.

use std::path::Path;

use proc_macro2::TokenStream;
use quote::quote;

use layers_spec::storage::{Declared, KINDS};
use layers_spec::wrangler::{environments, resolve, Value};

/// What one deployment of the Worker has: the top level, or an environment as wrangler resolves
/// it (its own bindings, `vars`, queues and Durable Objects; its own `triggers` or the top
/// level's).
#[derive(Default)]
pub(crate) struct Scope {
    /// The bindings each storage kind declares, in `StorageKind` order (read as
    /// `layers_spec::storage::KINDS` says each kind is declared; none for the Cache API).
    pub(crate) bindings: Vec<Vec<String>>,
    /// `[[durable_objects.bindings]]` as `(name, class_name, script_name is set)`.
    pub(crate) durable_classes: Vec<(String, String, bool)>,
    /// `[vars]` names.
    pub(crate) vars: Vec<String>,
    /// `[triggers] crons`.
    pub(crate) crons: Vec<String>,
    /// `[[queues.consumers]] queue`.
    pub(crate) consumers: Vec<String>,
    /// `[[queues.producers]]` as `(binding, queue)`.
    pub(crate) producer_queues: Vec<(String, String)>,
    /// Why `[assets]` would let the platform answer before the Worker (a `directory` without
    /// `run_worker_first = true`), if it does.
    pub(crate) assets_first: Option<String>,
}

/// What `app!` reads from wrangler's config.
#[derive(Default)]
pub(crate) struct Wrangler {
    /// The file's name, for the messages (`wrangler.jsonc`).
    pub(crate) file: String,
    /// The top level.
    pub(crate) top: Scope,
    /// The environments the app is checked for, by name.
    pub(crate) envs: Vec<(String, Scope)>,
}

impl Wrangler {
    /// The top level, then the checked environments.
    pub(crate) fn scopes(&self) -> impl Iterator<Item = (&str, &Scope)> {
        std::iter::once(("", &self.top)).chain(self.envs.iter().map(|(n, s)| (n.as_str(), s)))
    }
}

/// The binding names `scope` declares for a kind, as `d` describes its section.
fn declared_bindings(config: &Value, env: Option<&Value>, d: &Declared) -> Vec<String> {
    let section = resolve(config, env, d.section[0]).and_then(|v| v.at(&d.section[1..]));
    let entries: Vec<&Value> = if d.many {
        section.and_then(Value::as_array).map(|a| a.iter().collect()).unwrap_or_default()
    } else {
        section.into_iter().collect()
    };
    entries
        .into_iter()
        .filter(|t| d.requires.is_none_or(|r| t.get(r).and_then(Value::as_str).is_some()))
        .filter_map(|t| t.get(d.key).and_then(Value::as_str).map(str::to_owned))
        .collect()
}

/// The deployment `env` (`None`: the top level) of `config`.
fn scope(config: &Value, env: Option<&Value>) -> Scope {
    let get = |path: &[&str]| resolve(config, env, path[0]).and_then(|v| v.at(&path[1..]));
    let array = |path: &[&str]| get(path).and_then(Value::as_array).unwrap_or_default();
    let s = |t: &Value, k: &str| t.get(k).and_then(Value::as_str).map(str::to_owned);
    Scope {
        bindings: KINDS
            .iter()
            .map(|k| k.declared.map(|d| declared_bindings(config, env, &d)).unwrap_or_default())
            .collect(),
        crons: array(&["triggers", "crons"]).iter().filter_map(|c| c.as_str().map(str::to_owned)).collect(),
        consumers: array(&["queues", "consumers"]).iter().filter_map(|t| s(t, "queue")).collect(),
        producer_queues: array(&["queues", "producers"])
            .iter()
            .filter_map(|t| Some((s(t, "binding")?, s(t, "queue")?)))
            .collect(),
        durable_classes: array(&["durable_objects", "bindings"])
            .iter()
            .filter_map(|t| Some((s(t, "name")?, s(t, "class_name")?, t.get("script_name").is_some())))
            .collect(),
        vars: get(&["vars"]).and_then(Value::as_table).unwrap_or_default().iter().map(|(k, _)| k.clone()).collect(),
        assets_first: get(&["assets"]).and_then(assets_first),
    }
}

/// Why an `[assets]` table would serve files before the Worker runs: with a `directory`,
/// wrangler's default (and `run_worker_first = false`, or a list of patterns layers cannot
/// check against the routes) answers a request for an existing file from the platform, before
/// any verifier.
fn assets_first(assets: &Value) -> Option<String> {
    assets.get("directory")?;
    match assets.get("run_worker_first") {
        Some(v) if v.as_bool() == Some(true) => None,
        None => Some("has a `directory` but no `run_worker_first`".to_owned()),
        Some(v) if v.as_array().is_some() => Some("lists `run_worker_first` patterns".to_owned()),
        Some(_) => Some("sets `run_worker_first` to something other than `true`".to_owned()),
    }
}

/// `&WranglerConfig { … }`: the config as the const checks take it.
pub(crate) fn config_tokens(w: &Wrangler) -> TokenStream {
    let private = crate::paths::private();
    let file = &w.file;
    let scopes = w.scopes().map(|(env, s)| {
        let lists = s.bindings.iter().map(|b| quote!(&[#(#b),*]));
        let (crons, consumers, vars) = (&s.crons, &s.consumers, &s.vars);
        let classes = s.durable_classes.iter().filter(|(_, _, other)| !other).map(|(_, c, _)| c);
        quote! {
            #private::WranglerScope {
                env: #env,
                bindings: [#(#lists),*],
                crons: &[#(#crons),*],
                consumers: &[#(#consumers),*],
                classes: &[#(#classes),*],
                vars: &[#(#vars),*],
            }
        }
    });
    quote!(&#private::WranglerConfig { file: #file, scopes: &[#(#scopes),*] })
}

/// Why [`read_wrangler`] failed.
pub(crate) enum ReadError {
    /// The file cannot be read (or is not one wrangler reads).
    Unreadable(String),
    /// The file does not parse.
    Syntax(String),
    /// `envs` names an environment the config does not have.
    UnknownEnv(String),
}

/// Reads and parses the config at `path`; `envs`, when given, names the environments to check
/// (else every one the config has).
///
/// # Errors
/// When the file cannot be read or does not parse (with its line and column), or `envs` names
/// an environment the config does not have.
pub(crate) fn read_wrangler(path: &Path, envs: Option<&[String]>) -> Result<Wrangler, ReadError> {
    let config = layers_spec::wrangler::read(path).map_err(|e| {
        if e.syntax {
            ReadError::Syntax(e.message)
        } else {
            ReadError::Unreadable(e.message)
        }
    })?;
    let file = path.file_name().map_or_else(|| path.display().to_string(), |f| f.to_string_lossy().into_owned());
    let all = environments(&config);
    if let Some(wanted) = envs {
        if let Some(missing) = wanted.iter().find(|w| !all.iter().any(|(n, _)| n == w)) {
            let have: Vec<String> = all.iter().map(|(n, _)| format!("`{n}`")).collect();
            let have = if have.is_empty() { "none".to_owned() } else { have.join(", ") };
            return Err(ReadError::UnknownEnv(format!(
                "`envs` names environment `{missing}`, which {file} does not have (its environments: {have}): name only environments the app is deployed to"
            )));
        }
    }
    Ok(Wrangler {
        file,
        top: scope(&config, None),
        envs: all
            .iter()
            .filter(|(n, _)| envs.is_none_or(|w| w.iter().any(|x| x == n)))
            .map(|(n, e)| ((*n).to_owned(), scope(&config, Some(e))))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::assets_first;
    use layers_spec::wrangler::{parse, Format};

    fn assets(toml: &str) -> Option<String> {
        let doc = parse(toml, Format::Toml).unwrap();
        doc.get("assets").and_then(assets_first)
    }

    #[test]
    fn assets_must_reach_the_worker_first() {
        assert_eq!(assets("[assets]\ndirectory = \"public\"\nrun_worker_first = true\n"), None);
        // A binding alone (no directory) serves nothing by itself.
        assert_eq!(assets("[assets]\nbinding = \"ASSETS\"\n"), None);
        for bad in [
            "[assets]\ndirectory = \"public\"\n",
            "[assets]\ndirectory = \"public\"\nrun_worker_first = false\n",
            "[assets]\ndirectory = \"public\"\nrun_worker_first = [\"/admin/*\"]\n",
            "[assets]\ndirectory = \"public\"\nrun_worker_first = \"true\"\n",
        ] {
            assert!(assets(bad).is_some(), "{bad}");
        }
        let json = parse(r#"{"assets": {"directory": "public", "run_worker_first": true}}"#, Format::Jsonc).unwrap();
        assert_eq!(json.get("assets").and_then(assets_first), None);
    }
}
