//! Reading wrangler's config for `app!`: the bindings each storage kind declares (as
//! [`layers_spec::storage::KINDS`] says where), `[vars]`, cron triggers, queue producers and
//! consumers, and Durable Object classes — what the whole-app checks compare the code with.

use std::path::PathBuf;

use proc_macro2::TokenStream;
use quote::quote;

use layers_spec::storage::{Declared, KINDS};

/// What `app!` reads from wrangler's config.
#[derive(Default)]
pub(crate) struct Wrangler {
    /// The bindings each storage kind declares, in `StorageKind` order (read as
    /// `layers_spec::storage::KINDS` says each kind is declared; none for the Cache API).
    pub(crate) bindings: Vec<Vec<String>>,
    /// `[[durable_objects.bindings]]` as `(name, class_name, script_name is set)`.
    pub(crate) durable_classes: Vec<(String, String, bool)>,
    pub(crate) vars: Vec<String>,
    /// `[triggers] crons`.
    pub(crate) crons: Vec<String>,
    /// `[[queues.consumers]] queue`.
    pub(crate) consumers: Vec<String>,
    /// `[[queues.producers]]` as `(binding, queue)`.
    pub(crate) producer_queues: Vec<(String, String)>,
}

/// The binding names a section of wrangler's config declares, as `d` describes the section.
fn declared_bindings(doc: &toml::Table, d: &Declared) -> Vec<String> {
    let mut section = doc.get(d.section[0]);
    for key in &d.section[1..] {
        section = section.and_then(|v| v.get(key));
    }
    let entries: Vec<&toml::Value> = if d.many {
        section.and_then(toml::Value::as_array).map(|a| a.iter().collect()).unwrap_or_default()
    } else {
        section.into_iter().collect()
    };
    entries
        .into_iter()
        .filter(|t| d.requires.is_none_or(|r| t.get(r).and_then(toml::Value::as_str).is_some()))
        .filter_map(|t| t.get(d.key).and_then(toml::Value::as_str).map(str::to_owned))
        .collect()
}

/// `[&[…], …]`: every kind's declared bindings, in `StorageKind` order, for the const checks.
pub(crate) fn bindings_tokens(w: &Wrangler) -> TokenStream {
    let lists = w.bindings.iter().map(|b| quote!(&[#(#b),*]));
    quote!([#(#lists),*])
}

/// Reads and parses the config at `path`.
///
/// # Errors
/// When the file cannot be read or is not TOML.
pub(crate) fn read_wrangler(path: &PathBuf) -> Result<Wrangler, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let doc: toml::Table = text.parse().map_err(|e| format!("{} is not valid TOML: {e}", path.display()))?;
    let mut w = Wrangler {
        bindings: KINDS.iter().map(|k| k.declared.map(|d| declared_bindings(&doc, &d)).unwrap_or_default()).collect(),
        ..Wrangler::default()
    };
    let strings = |v: Option<&toml::Value>, key: Option<&str>| -> Vec<String> {
        v.and_then(toml::Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|t| match key {
                        Some(k) => t.get(k).and_then(toml::Value::as_str),
                        None => t.as_str(),
                    })
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    w.crons = strings(doc.get("triggers").and_then(|t| t.get("crons")), None);
    w.consumers = strings(doc.get("queues").and_then(|q| q.get("consumers")), Some("queue"));
    w.producer_queues = doc
        .get("queues")
        .and_then(|q| q.get("producers"))
        .and_then(toml::Value::as_array)
        .map(|a| {
            let s = |t: &toml::Value, k: &str| t.get(k).and_then(toml::Value::as_str).map(str::to_owned);
            a.iter().filter_map(|t| Some((s(t, "binding")?, s(t, "queue")?))).collect()
        })
        .unwrap_or_default();
    w.durable_classes = doc
        .get("durable_objects")
        .and_then(|d| d.get("bindings"))
        .and_then(toml::Value::as_array)
        .map(|a| {
            let s = |t: &toml::Value, k: &str| t.get(k).and_then(toml::Value::as_str).map(str::to_owned);
            a.iter()
                .filter_map(|t| Some((s(t, "name")?, s(t, "class_name")?, t.get("script_name").is_some())))
                .collect()
        })
        .unwrap_or_default();
    if let Some(vars) = doc.get("vars").and_then(toml::Value::as_table) {
        w.vars = vars.keys().cloned().collect();
    }
    Ok(w)
}
