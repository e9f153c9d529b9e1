//! The checks `app!` makes itself, before generating anything: routes are listed, no entry is
//! listed twice, and wrangler's config is found and read. (The checks on what the listed
//! handlers declare — conflicts, bindings, crons, queues, classes — are `const` checks the
//! generated code runs: see `generate.rs`.)

use std::path::PathBuf;

use proc_macro2::Span;
use quote::quote;
use syn::LitStr;

use super::parse::{cfgs, AppInput, Listed};
use crate::ctxt::Ctxt;
use crate::wrangler::{read_wrangler, Wrangler};

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
    let path = match &parsed.wrangler {
        Some(l) => {
            let base = call_site_file.as_ref().and_then(|f| f.parent().map(PathBuf::from));
            match base {
                Some(dir) => dir.join(l.value()),
                None => PathBuf::from(l.value()),
            }
        }
        None => {
            let dir = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from).unwrap_or_default();
            dir.join("wrangler.toml")
        }
    };
    let wrangler = match read_wrangler(&path) {
        Ok(w) => w,
        Err(e) => {
            let span = parsed.wrangler.as_ref().map_or_else(Span::call_site, LitStr::span);
            cx.error_at(span, format!("`app!` checks every storage binding against wrangler.toml, and {e}. Put wrangler.toml next to Cargo.toml or point to it with `wrangler: \"path\"` (relative to this file)"));
            Wrangler::default()
        }
    };
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
