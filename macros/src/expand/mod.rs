//! Code generation for every kind of handler: the pipeline (parse → check → expand), the parts
//! every kind's expansion shares (how each parameter is produced, the storage declarations, the
//! grant, producer and Durable Object checks), and one template per kind — [`route`],
//! [`event`] (crons and queue consumers), [`durable`].

mod durable;
mod event;
mod route;

use layers_spec::storage::StorageKind;
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{Ident, Signature};

use crate::ctxt::Ctxt;
use crate::handler::attr::{self, StorageItem};
use crate::handler::item::Item;
use crate::handler::types::{last_segment, static_type, type_arg};
use crate::handler::{params, Grant, Handler, HandlerKind, Role};
use crate::paths;

/// A handler macro: parse the item and the attribute, check them into a [`Handler`], expand
/// it. With any problem, the item is emitted as written followed by every error found (so
/// that one mistake does not cascade into many).
pub(crate) fn handler(kind: HandlerKind, attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut cx = Ctxt::default();
    let parsed = Item::parse(kind, item.clone(), &mut cx);
    let attr = attr::parse(kind, attr, &mut cx);
    let Some(parsed) = parsed else {
        let mut out = item;
        out.extend(cx.into_compile_errors());
        return out;
    };
    let as_written = parsed.to_token_stream();
    let Some(h) = params::check(kind, attr, parsed, &mut cx) else {
        let mut out = as_written;
        out.extend(cx.into_compile_errors());
        return out;
    };
    let out = match kind {
        HandlerKind::Route => route::expand(&h),
        HandlerKind::Cron | HandlerKind::Queue => event::expand(&h),
        HandlerKind::DurableObject => durable::expand(&h),
    };
    debug(&format!("{} `{}`", kind.example(), h.name()), &out);
    out
}

impl StorageItem {
    /// `StorageDecl { kind, binding, reasons, note }` for a handler's `META`.
    pub(crate) fn decl_tokens(&self) -> TokenStream {
        let storage = paths::storage();
        let variant = format_ident!("{}", self.kind.spec().variant);
        let binding = &self.binding;
        let reasons = self.reasons.iter().map(|r| format_ident!("{}", r.spec().name));
        let note = &self.note;
        quote!(#storage::StorageDecl {
            kind: #storage::StorageKind::#variant,
            binding: #binding,
            reasons: &[#(#storage::Reason::#reasons),*],
            note: #note,
        })
    }
}

/// The `let __argN = …;` statements that produce a handler's arguments from its context `cx`
/// (a `RouteCx`, `EventCx` or `ObjectCx`, all dereferencing to `HandlerCx`), in the order they
/// must run — head extractors, then the body extractor, then the rest (the `Request` last, once
/// the extractors have read it) — and the arguments in the handler's order.
pub(crate) fn arguments(h: &Handler) -> (Vec<TokenStream>, Vec<Ident>) {
    let mut lets = Vec::new();
    let mut args = Vec::new();
    for (i, p) in h.params.iter().enumerate() {
        let arg = format_ident!("__arg{}", i);
        let ty = &p.check_ty;
        let at = ty.span();
        let private = paths::private_at(at);
        let stmt = match p.role {
            Role::Request => quote!(let #arg = cx.request()?;),
            Role::Claims => {
                let identity = match (h.kind.fixed_identity(), &h.attr.identity) {
                    (Some(fixed), _) => {
                        let (module, name) = (paths::identity_at(at), Ident::new(fixed, at));
                        quote!(#module::#name)
                    }
                    (None, Some(declared)) => declared.to_token_stream(),
                    (None, None) => unreachable!("a route without an identity fails its check"),
                };
                quote_spanned! {at=>
                    let #arg = <#ty as #private::ClaimsFor<'r, #identity>>::from_claims(cx.claims()?);
                }
            }
            Role::Storage(kind) => storage_let(kind, &arg, ty),
            Role::Vars => quote!(let #arg = cx.vars();),
            Role::Outbound => quote!(let #arg = cx.outbound();),
            Role::After => quote!(let #arg = cx.after();),
            // The annotated type picks the config (`cx.mint::<C>()` is inferred), and the call
            // carries the parameter's span: an identity that may not have this grant is
            // reported at the parameter.
            Role::Grant(Grant::Mint) => quote_spanned!(at=> let #arg: #ty = cx.mint();),
            Role::Grant(Grant::Federation) => quote_spanned!(at=> let #arg: #ty = cx.federation();),
            Role::Grant(Grant::Issuer) => quote_spanned!(at=> let #arg: #ty = cx.federation_issuer();),
            Role::Part => quote_spanned!(at=> let #arg = cx.parts::<#ty>()?;),
            Role::Body => quote_spanned!(at=> let #arg = cx.body::<#ty>().await?;),
            Role::Batch => quote_spanned!(at=> let #arg: #ty = cx.batch()?;),
            Role::Message => quote!(let #arg = msg;),
            Role::ObjectStorage => quote!(let #arg = cx.object_storage();),
        };
        let order = match p.role {
            Role::Part => 0,
            Role::Body => 1,
            _ => 2,
        };
        lets.push((order, stmt));
        args.push(arg);
    }
    lets.sort_by_key(|(order, _)| *order);
    (lets.into_iter().map(|(_, l)| l).collect(), args)
}

/// `let #arg = cx.storage().<accessor>()?;` for a handle parameter of type `ty` (the type
/// written out, at the parameter's span, where the handle carries one: `Queue<T>`,
/// `DurableObject<C>`, so a mismatch is reported there).
fn storage_let(kind: StorageKind, arg: &Ident, ty: &syn::Type) -> TokenStream {
    let accessor = format_ident!("{}", kind.spec().accessor);
    if kind.spec().typed {
        quote_spanned!(ty.span()=> let #arg: #ty = cx.storage().#accessor()?;)
    } else {
        quote!(let #arg = cx.storage().#accessor()?;)
    }
}

/// A fn handler's expansion: the fn (lifetimes unified), a unit struct of the same name that
/// `app!` lists (documented by `doc`), and `items` — its checks and the trait it implements —
/// in an anonymous `const` scope with the handler's `checks`.
pub(crate) fn described_fn(h: &Handler, checks: Checks, doc: &str, items: TokenStream) -> TokenStream {
    let Item::Fn(f) = &h.item else { unreachable!("only a fn handler is described by a unit struct") };
    let (vis, name) = (&f.vis, &f.sig.ident);
    let unified = h.item.unified();
    let (producer, durable, grant_checks) = (checks.producer, checks.durable, checks.grant_checks);
    quote! {
        #unified

        #[doc = #doc]
        #[allow(non_camel_case_types)]
        #vis struct #name {}

        const _: () = {
            #producer
            #durable
            #(#grant_checks)*

            #items
        };
    }
}

/// Where a failure of the handler's return type is reported: the type, or the name when
/// there is none.
pub(crate) fn return_span(sig: &Signature) -> Span {
    match &sig.output {
        syn::ReturnType::Default => sig.ident.span(),
        syn::ReturnType::Type(_, t) => t.span(),
    }
}

/// The checks every kind's expansion carries: a producer's message type against its queue's
/// consumer, a `DurableObject<'_, C>` handle against the app's binding, each grant against the
/// app's configurations; and the grants for the handler's `META`.
pub(crate) struct Checks {
    pub(crate) producer: TokenStream,
    pub(crate) durable: TokenStream,
    pub(crate) grants: Vec<TokenStream>,
    pub(crate) grant_checks: Vec<TokenStream>,
}

pub(crate) fn checks(h: &Handler) -> Checks {
    let name = h.name();
    let binding = |kind: StorageKind| h.attr.storage.iter().find(|s| s.kind == kind).map(|s| s.binding.as_str());
    let producer = producer_check_for(
        name,
        binding(StorageKind::Queue),
        h.of_role(|r| r == Role::Storage(StorageKind::Queue)).next(),
    );
    let durable = durable_checks_for(
        name,
        binding(StorageKind::DurableObject),
        h.of_role(|r| r == Role::Storage(StorageKind::DurableObject)).next(),
    );
    let (grants, grant_checks) = grants(h.of_role(|r| matches!(r, Role::Grant(_))), &name.to_string());
    Checks { producer, durable, grants, grant_checks }
}

/// For each grant parameter type (`Mint<'_, C>`, `Federation<'_, C>`): its `GrantParam::GRANT`
/// for the handler's `META`, and the compile-time check, at the parameter, that `C` is a
/// configuration of the app (`check_grant`).
fn grants<'a>(tys: impl Iterator<Item = &'a syn::Type>, handler: &str) -> (Vec<TokenStream>, Vec<TokenStream>) {
    tys.map(|ty| {
        let st = static_type(ty);
        // Every token at the parameter's span: a failing check is reported there.
        let private = paths::private_at(ty.span());
        let grant = quote_spanned!(ty.span()=> <#st as #private::GrantParam>::GRANT);
        let check = quote_spanned!(ty.span()=> const _: () = #private::check_grant(#grant, #handler););
        (grant, check)
    })
    .unzip()
}

/// For a handler (route, event or Durable Object class `name`) taking a typed
/// `DurableObject<'_, C>` through `storage(DurableObject = "B")`: an inherent
/// `__layers_durable_check::<A>()` that only type-checks when app `A`'s table binds `B` to class
/// `C` (see `layers_core::__private::durable_check`). `app!` names it for every listed handler;
/// those without fall back to `NoDurableCheck`.
fn durable_checks_for(name: &Ident, binding: Option<&str>, ty: Option<&syn::Type>) -> TokenStream {
    let (Some(binding), Some(ty)) = (binding, ty) else {
        return TokenStream::new();
    };
    let Some(class) = type_arg(ty) else { return TokenStream::new() };
    let private = paths::private();
    let check = quote!(#private::durable_check);
    let key = layers_spec::text::name_hash(binding);
    quote_spanned! {class.span()=>
        impl #name {
            #[doc(hidden)]
            #[allow(private_bounds, private_interfaces)]
            pub fn __layers_durable_check<__A>()
            where
                __A: #check::BindingOf<#key>,
                <__A as #check::BindingOf<#key>>::Class:
                    #check::SameClass<#class, <__A as #check::BindingOf<#key>>::Marker>,
            {
            }
        }
    }
}

/// For a handler taking `Queue<'_, T>` (`queue_ty`) through `binding`: an inherent
/// `__layers_producer_check::<A>()` that only type-checks when app `A` says the binding's
/// queue is consumed as `T` (or elsewhere). `app!` names it for every route, cron and queue
/// handler; those without one fall back to `NoProducerCheck`. `Queue<'_, Unchecked<T>>` opts
/// out.
fn producer_check_for(name: &Ident, binding: Option<&str>, queue_ty: Option<&syn::Type>) -> TokenStream {
    let (Some(binding), Some(queue_ty)) = (binding, queue_ty) else {
        return TokenStream::new();
    };
    let Some(msg) = type_arg(queue_ty) else { return TokenStream::new() };
    let opted_out = last_segment(&msg).is_some_and(|s| s.ident == "Unchecked");
    // A message type borrowing the request's lifetime cannot be named outside the handler.
    if opted_out || quote!(#msg).to_string().contains('\'') {
        return TokenStream::new();
    }
    let private = paths::private();
    let check = quote!(#private::queue_check);
    let key = layers_spec::text::name_hash(binding);
    quote_spanned! {msg.span()=>
        impl #name {
            #[doc(hidden)]
            #[allow(private_bounds, private_interfaces)]
            pub fn __layers_producer_check<__A>()
            where
                __A: #check::ProducerOf<#key>,
                <__A as #check::ProducerOf<#key>>::Check: #check::Accepts<#msg>,
            {
            }
        }
    }
}

/// Prints the expansion when `LAYERS_MACROS_DEBUG=1`.
pub(crate) fn debug(what: &str, tokens: &TokenStream) {
    if std::env::var_os("LAYERS_MACROS_DEBUG").is_some_and(|v| v == "1") {
        eprintln!("// layers-macros: expansion of {what}\n{tokens}");
    }
}
