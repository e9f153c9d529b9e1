//! The checks `app!` makes itself, before generating anything: routes are listed, no entry is
//! listed twice, and wrangler's config is found and read. (The checks on what the listed
//! handlers declare — conflicts, bindings, crons, queues, classes — are `const` checks the
//! generated code runs: see `generate.rs`.)

use std::path::{Path, PathBuf};

use proc_macro2::Span;
use quote::quote;
use syn::LitStr;

use super::parse::{cfgs, AppInput, Listed};
use crate::ctxt::Ctxt;
use crate::wrangler::{read_wrangler, ReadError, Wrangler};

/// `app!`'s input once checked: the lists (empty when not given, each with the span a failing
/// check on it is reported at) and wrangler's config.
pub(crate) struct App {
    pub(crate) routes: Vec<Listed>,
    pub(crate) routes_span: Span,
    pub(crate) crons: Vec<Listed>,
    pub(crate) crons_span: Span,
    pub(crate) queues: Vec<Listed>,
    pub(crate) queues_span: Span,
    pub(crate) durables: Vec<Listed>,
    pub(crate) durables_span: Span,
    /// Where wrangler's config was read from (`app!` is rebuilt when it changes).
    pub(crate) wrangler_path: PathBuf,
    pub(crate) wrangler: Wrangler,
}

/// Checks the parsed input; `None` once every problem is in `cx`.
pub(crate) fn check(parsed: AppInput, call_site_file: Option<PathBuf>, cx: &mut Ctxt) -> Option<App> {
    let Some((routes, list_span)) = parsed.routes else {
        cx.error_at(Span::call_site(), "`app!` needs its routes: `app! { routes: [home, about] }`");
        return None;
    };
    let (crons, crons_span) = parsed.crons.unwrap_or((Vec::new(), Span::call_site()));
    let (queues, queues_span) = parsed.queues.unwrap_or((Vec::new(), Span::call_site()));
    let (durables, durables_span) = parsed.durables.unwrap_or((Vec::new(), Span::call_site()));
    // Duplicated entries.
    for (list, what) in
        [(&routes, "route"), (&crons, "cron handler"), (&queues, "queue handler"), (&durables, "Durable Object class")]
    {
        for (i, r) in list.iter().enumerate() {
            let key = |l: &Listed| {
                let (c, p) = (cfgs(l), &l.path);
                quote!(#c #p).to_string()
            };
            if list[..i].iter().any(|p| key(p) == key(r)) {
                cx.error_spanned(r, format!("this {what} is listed twice in `app!`; list each once"));
            }
        }
    }
    let (path, found) = wrangler_path(parsed.wrangler.as_ref(), call_site_file.as_deref());
    let envs: Option<Vec<String>> = parsed.envs.as_ref().map(|(l, _)| l.iter().map(LitStr::value).collect());
    let wrangler = match found.map_err(ReadError::Unreadable).and_then(|()| read_wrangler(&path, envs.as_deref())) {
        Ok(w) => w,
        Err(e) => {
            // Paths as the user wrote them: relative to this file, or to Cargo.toml.
            let manifest = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from);
            let relative = |mut e: String| {
                for dir in [call_site_file.as_deref().and_then(Path::parent), manifest.as_deref()].into_iter().flatten()
                {
                    e = e.replace(&format!("{}/", dir.display()), "");
                }
                e
            };
            let at_path = parsed.wrangler.as_ref().map_or_else(Span::call_site, LitStr::span);
            let (span, msg) = match e {
                ReadError::Unreadable(e) => (at_path, format!("`app!` checks every storage binding, var, cron and queue against wrangler's config, and {}. Put it next to Cargo.toml (`wrangler.json`, `wrangler.jsonc` or `wrangler.toml`, preferred in that order, as wrangler does) or point to it with `wrangler: \"path\"` (relative to this file; a directory picks the file wrangler would pick there)", relative(e))),
                ReadError::Syntax(e) => (at_path, format!("wrangler's config does not parse, as wrangler would refuse it: {}", relative(e))),
                ReadError::UnknownEnv(e) => (parsed.envs.as_ref().map_or(at_path, |(_, s)| *s), e),
            };
            cx.error_at(span, msg);
            Wrangler::default()
        }
    };
    for (env, scope) in wrangler.scopes() {
        if let Some(why) = &scope.assets_first {
            let section = if env.is_empty() { "[assets]".to_owned() } else { format!("[env.{env}.assets]") };
            cx.error_at(
                parsed.wrangler.as_ref().map_or_else(Span::call_site, LitStr::span),
                format!(
                    "{section} of {} {why}: the platform would then answer a request for an existing file itself, before the Worker and so before any route's verifier (an `/admin/app.js` would be public). Set `run_worker_first = true` and serve files from routes that declare their identity and `storage(Assets)`",
                    wrangler.file
                ),
            );
        }
    }
    if cx.has_errors() {
        return None;
    }
    Some(App {
        routes,
        routes_span: list_span,
        crons,
        crons_span,
        queues,
        queues_span,
        durables,
        durables_span,
        wrangler_path: path,
        wrangler,
    })
}

/// The config `app!` reads: `wrangler: "…"` relative to the file that invokes `app!` — a file
/// in the format its extension says, or a directory in which to pick the file wrangler would —
/// else the file wrangler picks when run next to Cargo.toml (`CARGO_MANIFEST_DIR`), as
/// [`layers_spec::wrangler::find_config`] applies wrangler's precedence. `Err` (with the path
/// to show) when no file is found.
fn wrangler_path(given: Option<&LitStr>, call_site_file: Option<&Path>) -> (PathBuf, Result<(), String>) {
    let dir = match given {
        Some(l) => {
            let base = call_site_file.and_then(Path::parent).map(Path::to_path_buf).unwrap_or_default();
            let p = base.join(l.value());
            if !p.is_dir() {
                return (p, Ok(()));
            }
            p
        }
        None => std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from).unwrap_or_default(),
    };
    match layers_spec::wrangler::find_config(&dir) {
        Some(p) => (p, Ok(())),
        None => {
            let e =
                format!("there is no wrangler.json, wrangler.jsonc nor wrangler.toml in {} or above it", dir.display());
            (dir, Err(e))
        }
    }
}
