//! Code generation for `#[route]`: the user's fn unchanged, plus a description of it.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::ItemFn;

use crate::ast::{Param, Role};
use crate::attr::RouteAttr;
use crate::paths;
use layers_spec::pattern::Seg;
use layers_spec::storage::StorageKind;

pub(crate) fn route(f: &ItemFn, attr: &RouteAttr, params: &[Param]) -> TokenStream {
    let (private, core) = (paths::private(), paths::core());
    let pat = paths::pattern();
    let name = &f.sig.ident;
    let vis = &f.vis;
    let (Some((method, _)), Some((pattern, _)), Some(identity)) = (&attr.method, &attr.pattern, &attr.identity) else {
        return TokenStream::new();
    };
    let method = format_ident!("{}", method.variant());
    let seg_tokens = |pattern: &str| -> Vec<TokenStream> {
        crate::attr::segments(pattern)
            .into_iter()
            .map(|s| match s {
                Seg::Lit(l) => quote!(#pat::Seg::Lit(#l)),
                Seg::Param(p) => quote!(#pat::Seg::Param(#p)),
                Seg::Rest => quote!(#pat::Seg::Rest),
            })
            .collect()
    };
    let shadows = attr.shadows.iter().map(|(text, _)| {
        let segs = seg_tokens(text);
        quote!(#private::Shadowed { pattern: #text, segments: &[#(#segs),*] })
    });
    let segs = seg_tokens(pattern);
    let decls = attr.storage.iter().map(crate::attr::StorageItem::decl_tokens);
    let identity_name = quote!(#identity).to_string().replace(' ', "");
    let handler_name = name.to_string();

    let mut lets = Vec::new();
    let mut args = Vec::new();
    for (i, p) in params.iter().enumerate() {
        let arg = format_ident!("__arg{}", i);
        let ty = &p.check_ty;
        let value = match p.role {
            Role::Request => quote!(cx.request()?),
            Role::Claims => quote_spanned! {ty.span()=>
                <#ty as #private::ClaimsFor<'r, #identity>>::from_claims(cx.claims()?)
            },
            Role::Storage(kind) => {
                let accessor = format_ident!("{}", kind.spec().accessor);
                if kind == StorageKind::DurableObject {
                    quote_spanned!(ty.span()=> cx.storage().#accessor()?)
                } else {
                    quote!(cx.storage().#accessor()?)
                }
            }
            Role::Vars => quote!(cx.vars()),
            Role::After => quote!(cx.after()),
            // The annotated type picks the config (`cx.mint::<C>()` is inferred), and the
            // call carries the parameter's span: an identity that may not have this grant is
            // reported at the parameter.
            Role::Grant("Mint") => quote_spanned!(ty.span()=> cx.mint()),
            Role::Grant(_) => quote_spanned!(ty.span()=> cx.federation()),
            // Extractors run before the `Request` could be taken (see `order` below).
            Role::Parts => quote_spanned!(ty.span()=> cx.parts::<#ty>()?),
            Role::Body => quote_spanned!(ty.span()=> cx.body::<#ty>().await?),
        };
        // Head extractors, then the body extractor, then everything else (the `Request`).
        let order = match p.role {
            Role::Parts => 0,
            Role::Body => 1,
            _ => 2,
        };
        lets.push((
            order,
            match p.role {
                Role::Grant(_) | Role::Storage(StorageKind::Queue | StorageKind::DurableObject) => {
                    quote_spanned!(ty.span()=> let #arg: #ty = #value;)
                }
                _ => quote!(let #arg = #value;),
            },
        ));
        args.push(arg);
    }
    lets.sort_by_key(|(order, _)| *order);
    let lets = lets.into_iter().map(|(_, l)| l);
    let ret_span = match &f.sig.output {
        syn::ReturnType::Default => f.sig.ident.span(),
        syn::ReturnType::Type(_, t) => t.span(),
    };
    let call = quote_spanned! {ret_span=>
        #private::IntoResponse::into_response(#name(#(#args),*).await)
    };
    // A body extractor also receives the body a verifier read (it is handed over buffered).
    let takes_request = params.iter().any(|p| matches!(p.role, Role::Request | Role::Body));
    let identity_item = quote_spanned! {identity.span()=> type Identity = #identity;};
    let producer_check = producer_check(name, attr, params);
    let durable_check = durable_checks_for(
        name,
        &attr.storage,
        params.iter().filter(|p| matches!(p.role, Role::Storage(StorageKind::DurableObject))).map(|p| &p.check_ty),
    );
    let (grants, grant_checks) =
        grants(params.iter().filter(|p| matches!(p.role, Role::Grant(_))).map(|p| &p.check_ty), &handler_name);
    let doc = format!("The `#[route]` description of [`{handler_name}()`]: list it in `app!{{ routes: [..] }}`.");
    quote! {
        #[doc = #doc]
        #[allow(non_camel_case_types)]
        #vis struct #name {}

        const _: () = {
            const _: () = #private::check_body::<#identity>(#takes_request, #handler_name);

            #producer_check
            #durable_check
            #(#grant_checks)*

            impl #private::Route for #name {
                #identity_item
                const META: #private::RouteMeta = #private::RouteMeta {
                    method: #pat::Method::#method,
                    pattern: #pattern,
                    segments: &[#(#segs),*],
                    identity: #identity_name,
                    identity_as_written: #identity_name,
                    shadows: &[#(#shadows),*],
                    storage: &[#(#decls),*],
                    handler: #handler_name,
                    grants: &[#(#grants),*],
                    identity_type: #private::unnamed,
                    secrets: &[],
                    tokens: &[],
                };
                fn call<'r>(
                    mut cx: #private::RouteCx<'r, Self::Identity>,
                ) -> #private::LocalBoxFuture<'r, ::core::result::Result<#private::worker::Response, #core::Error>> {
                    ::std::boxed::Box::pin(async move {
                        #(#lets)*
                        #call
                    })
                }
            }
        };
    }
}

/// For each grant parameter type (`Mint<'_, C>`, `Federation<'_, C>`): its `GrantParam::GRANT`
/// for the handler's `META`, and the compile-time check, at the parameter, that `C` is a
/// configuration of the app (`check_grant`).
pub(crate) fn grants<'a>(
    tys: impl Iterator<Item = &'a syn::Type>,
    handler: &str,
) -> (Vec<TokenStream>, Vec<TokenStream>) {
    tys.map(|ty| {
        let st = crate::ast::static_type(ty);
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
pub(crate) fn durable_checks_for<'a>(
    name: &syn::Ident,
    storage: &[crate::attr::StorageItem],
    mut tys: impl Iterator<Item = &'a syn::Type>,
) -> TokenStream {
    let Some(binding) = storage.iter().find(|s| s.kind == StorageKind::DurableObject).map(|s| s.binding.as_str())
    else {
        return TokenStream::new();
    };
    let Some(ty) = tys.next() else { return TokenStream::new() };
    let class = match &crate::ast::last_segment(ty).map(|s| &s.arguments) {
        Some(syn::PathArguments::AngleBracketed(a)) => a.args.iter().find_map(|g| match g {
            syn::GenericArgument::Type(t) => Some(t.clone()),
            _ => None,
        }),
        _ => None,
    };
    let Some(class) = class else { return TokenStream::new() };
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

/// For a route taking `Queue<'_, T>`: see [`producer_check_for`].
fn producer_check(name: &syn::Ident, attr: &RouteAttr, params: &[Param]) -> TokenStream {
    let binding = attr.storage.iter().find(|s| s.kind == StorageKind::Queue).map(|s| s.binding.as_str());
    let queue_ty = params.iter().find(|p| matches!(p.role, Role::Storage(StorageKind::Queue))).map(|p| &p.check_ty);
    producer_check_for(name, binding, queue_ty)
}

/// For a handler taking `Queue<'_, T>` (`queue_ty`) through `binding`: an inherent
/// `__layers_producer_check::<A>()` that only type-checks when app `A` says the binding's
/// queue is consumed as `T` (or elsewhere). `app!` names it for every route, cron and queue
/// handler; those without one fall back to `NoProducerCheck`. `Queue<'_, Unchecked<T>>` opts
/// out.
pub(crate) fn producer_check_for(
    name: &syn::Ident,
    binding: Option<&str>,
    queue_ty: Option<&syn::Type>,
) -> TokenStream {
    let (Some(binding), Some(queue_ty)) = (binding, queue_ty) else {
        return TokenStream::new();
    };
    let msg = match &crate::ast::last_segment(queue_ty).map(|s| &s.arguments) {
        Some(syn::PathArguments::AngleBracketed(a)) => a.args.iter().find_map(|g| match g {
            syn::GenericArgument::Type(t) => Some(t.clone()),
            _ => None,
        }),
        _ => None,
    };
    let Some(msg) = msg else { return TokenStream::new() };
    let opted_out = crate::ast::last_segment(&msg).is_some_and(|s| s.ident == "Unchecked");
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
