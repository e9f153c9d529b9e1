//! `app! { routes: [...], wrangler: "wrangler.toml" }`: the route table, the whole-app
//! compile-time checks, and the Worker's entry points — parsed ([`parse`]), checked
//! ([`check`]), generated ([`generate`], with the check tables of [`type_tables`]).

mod check;
mod generate;
mod parse;
mod type_tables;

use std::path::PathBuf;

use proc_macro2::TokenStream;

use crate::ctxt::Ctxt;

/// `app!`: parse → check → generate. With any problem, every error found is emitted instead.
pub(crate) fn expand(input: TokenStream, call_site_file: Option<PathBuf>) -> TokenStream {
    let mut cx = Ctxt::default();
    let parsed = match parse::parse(input, &mut cx) {
        Ok(p) => p,
        Err(e) => return e.to_compile_error(),
    };
    match check::check(parsed, call_site_file, &mut cx) {
        Some(app) => generate::generate(&app),
        None => cx.into_compile_errors(),
    }
}
