//! Parsing `app! { routes: [..], crons: [..], queues: [..], durable_objects: [..],
//! wrangler: "path", envs: ["staging", ..] }`.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::parse::{ParseStream, Parser};
use syn::{Ident, LitStr, Path, Token};

use crate::ctxt::Ctxt;

/// One entry of a list in `app!`: a handler's path, with the `#[cfg(…)]` attributes that
/// say in which builds it is part of the app.
pub(crate) struct Listed {
    pub(crate) cfgs: Vec<syn::Attribute>,
    pub(crate) path: Path,
}

impl quote::ToTokens for Listed {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        self.path.to_tokens(tokens);
    }
}

/// The `#[cfg(…)]` attributes of an entry, to put before everything generated from it.
pub(crate) fn cfgs(l: &Listed) -> TokenStream {
    let attrs = &l.cfgs;
    quote!(#(#attrs)*)
}

impl Listed {
    fn parse(input: ParseStream<'_>, cx: &mut Ctxt) -> syn::Result<Listed> {
        let attrs = syn::Attribute::parse_outer(input)?;
        let mut cfgs = Vec::new();
        for a in attrs {
            if a.path().is_ident("cfg") {
                cfgs.push(a);
            } else {
                cx.error_spanned(
                    &a,
                    "only `#[cfg(…)]` can go on an entry of `app!` (to leave a handler out of some builds)",
                );
            }
        }
        Ok(Listed { cfgs, path: input.parse()? })
    }
}

/// `app!`'s input as written: each list with the span of its brackets.
pub(crate) struct AppInput {
    pub(crate) routes: Option<(Vec<Listed>, Span)>,
    pub(crate) crons: Option<(Vec<Listed>, Span)>,
    pub(crate) queues: Option<(Vec<Listed>, Span)>,
    pub(crate) durables: Option<(Vec<Listed>, Span)>,
    pub(crate) wrangler: Option<LitStr>,
    /// `envs: [..]`: the environments of wrangler's config the app is deployed to (all when
    /// not given), with the span of the brackets.
    pub(crate) envs: Option<(Vec<LitStr>, Span)>,
}

/// Parses `app!`'s input; a syntax error ends the parse (returned), other problems go to `cx`.
pub(crate) fn parse(input: TokenStream, cx: &mut Ctxt) -> syn::Result<AppInput> {
    let mut parsed = AppInput { routes: None, crons: None, queues: None, durables: None, wrangler: None, envs: None };
    let parser = |s: ParseStream<'_>| -> syn::Result<()> {
        let mut seen: Vec<(String, Span)> = Vec::new();
        while !s.is_empty() {
            let key: Ident = s.parse()?;
            s.parse::<Token![:]>()?;
            let k = key.to_string();
            if let Some((_, first)) = seen.iter().find(|(n, _)| *n == k) {
                let mut e = syn::Error::new(key.span(), format!("`{k}` is given twice in `app!`"));
                e.combine(syn::Error::new(*first, "first given here"));
                cx.push(e);
            }
            seen.push((k.clone(), key.span()));
            match k.as_str() {
                "routes" | "crons" | "queues" | "durable_objects" => {
                    let content;
                    let bracket = syn::bracketed!(content in s);
                    let mut list = Vec::new();
                    while !content.is_empty() {
                        list.push(Listed::parse(&content, cx)?);
                        if content.is_empty() {
                            break;
                        }
                        content.parse::<Token![,]>()?;
                    }
                    let v = Some((list, bracket.span.join()));
                    match k.as_str() {
                        "routes" => parsed.routes = v,
                        "crons" => parsed.crons = v,
                        "queues" => parsed.queues = v,
                        _ => parsed.durables = v,
                    }
                }
                "wrangler" => parsed.wrangler = Some(s.parse()?),
                "envs" => {
                    let content;
                    let bracket = syn::bracketed!(content in s);
                    let names = content.parse_terminated(|c: ParseStream<'_>| c.parse::<LitStr>(), Token![,])?;
                    parsed.envs = Some((names.into_iter().collect(), bracket.span.join()));
                }
                other => {
                    cx.error_spanned(&key, format!("unknown key `{other}` in `app!`: expected `routes: [..]`, and optionally `crons: [..]`, `queues: [..]`, `durable_objects: [..]`, `wrangler: \"path/to/wrangler.toml\"` and `envs: [\"staging\", ..]`"));
                    let _: syn::Expr = s.parse()?;
                }
            }
            if !s.is_empty() {
                s.parse::<Token![,]>()?;
            }
        }
        Ok(())
    };
    parser.parse2(input)?;
    Ok(parsed)
}
