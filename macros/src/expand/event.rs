//! The expansion of `#[scheduled("cron", …)]` and `#[queue("name", …)]`: the user's fn
//! (lifetimes unified), plus a unit struct of the same name implementing `Scheduled` or
//! `Consumer` — its `META` for `app!` and a `call` that produces the handler's arguments from
//! the event's context. Platform events run as `System`.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::{arguments, checks, described_fn, return_span};
use crate::handler::item::Item;
use crate::handler::types::type_arg;
use crate::handler::{Handler, HandlerKind, Role};
use crate::paths;

pub(crate) fn expand(h: &Handler) -> TokenStream {
    let Some(source) = &h.attr.source else { unreachable!("an event without its source fails its check") };
    let Item::Fn(f) = &h.item else { unreachable!("an event handler is a fn") };
    let (private, core) = (paths::private(), paths::core());
    let name = h.name();
    let handler = name.to_string();
    let decls = h.attr.storage.iter().map(|s| s.decl_tokens());
    let vars = &h.attr.vars;
    let outbound = h.attr.outbound.iter().map(|o| o.decl_tokens());
    let (lets, args) = arguments(h);
    let call = quote_spanned! {return_span(&f.sig)=> #private::IntoOutcome::into_outcome(#name(#(#args),*).await) };
    let (trait_, meta, field, doc) = match h.kind {
        HandlerKind::Cron => (
            quote!(Scheduled),
            quote!(CronMeta),
            quote!(cron),
            format!("The `#[scheduled]` description of [`{handler}()`]: list it in `app!{{ crons: [..] }}`."),
        ),
        _ => (
            quote!(Consumer),
            quote!(QueueMeta),
            quote!(queue),
            format!("The `#[queue]` description of [`{handler}()`]: list it in `app!{{ queues: [..] }}`."),
        ),
    };
    let checks = checks(h);
    let grants = checks.grants.clone();
    // A consumer names the type its batch decodes: `app!` checks producers against it.
    let msg_item = (h.kind == HandlerKind::Queue).then(|| match h.of_role(|r| r == Role::Batch).find_map(type_arg) {
        Some(t) => quote_spanned!(t.span()=> type Msg = #t;),
        None => quote!(
            type Msg = ();
        ),
    });
    let items = quote! {
        impl #private::#trait_ for #name {
            #msg_item
            const META: #private::#meta = #private::#meta {
                #field: #source,
                storage: &[#(#decls),*],
                handler: #handler,
                grants: &[#(#grants),*],
                vars: &[#(#vars),*],
                outbound: &[#(#outbound),*],
            };
            fn call<'r>(
                mut cx: #private::EventCx<'r>,
            ) -> #private::LocalBoxFuture<'r, ::core::result::Result<(), #core::Error>> {
                ::std::boxed::Box::pin(async move {
                    #(#lets)*
                    #call
                })
            }
        }
    };
    described_fn(h, checks, &doc, items)
}
