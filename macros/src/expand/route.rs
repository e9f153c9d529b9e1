//! The expansion of `#[route]`: the user's fn (lifetimes unified), plus a unit struct of the
//! same name implementing `Route` — its `META` (method, pattern, identity, storage, grants) for
//! `app!` and a `call` that produces the handler's arguments from the route's context.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use super::{arguments, checks, described_fn, return_span};
use crate::handler::attr::segments;
use crate::handler::responds::responds_tokens;
use crate::handler::types::{last_segment, type_arg};
use crate::handler::{Handler, Role};
use crate::paths;
use layers_spec::pattern::Seg;

pub(crate) fn expand(h: &Handler) -> TokenStream {
    let (private, core) = (paths::private(), paths::core());
    let pat = paths::pattern();
    let (Some((method, _)), Some((pattern, _)), Some(identity)) = (&h.attr.method, &h.attr.pattern, &h.attr.identity)
    else {
        unreachable!("a route without a method, pattern or identity fails its check");
    };
    let name = h.name();
    let sig = h.item.sig();
    let method = format_ident!("{}", method.variant());
    let seg_tokens = |pattern: &str| -> Vec<TokenStream> {
        segments(pattern)
            .into_iter()
            .map(|s| match s {
                Seg::Lit(l) => quote!(#pat::Seg::Lit(#l)),
                Seg::Param(p) => quote!(#pat::Seg::Param(#p)),
                Seg::Rest => quote!(#pat::Seg::Rest),
            })
            .collect()
    };
    let shadows = h.attr.shadows.iter().map(|(text, _)| {
        let segs = seg_tokens(text);
        quote!(#private::Shadowed { pattern: #text, segments: &[#(#segs),*] })
    });
    let segs = seg_tokens(pattern);
    let decls = h.attr.storage.iter().map(|s| s.decl_tokens());
    let vars = &h.attr.vars;
    let outbound = h.attr.outbound.iter().map(|o| o.decl_tokens());
    let identity_name = quote!(#identity).to_string().replace(' ', "");
    let handler_name = name.to_string();
    let (lets, args) = arguments(h);
    let call = quote_spanned! {return_span(sig)=>
        #private::IntoResponse::into_response(#name(#(#args),*).await)
    };
    // A body extractor also receives the body a verifier read (it is handed over buffered).
    let takes_request = h.params.iter().any(|p| matches!(p.role, Role::Request | Role::Body));
    let identity_item = quote_spanned! {identity.span()=> type Identity = #identity;};
    let params = param_schemas(h, &private);
    let responses = responds_tokens(&h.attr.responds, &private);
    let checks = checks(h);
    let grants = checks.grants.clone();
    let doc = format!("The `#[route]` description of [`{handler_name}()`]: list it in `app!{{ routes: [..] }}`.");
    let items = quote! {
        const _: () = #private::check_body::<#identity>(#takes_request, #handler_name);

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
                verifier_vars: &[],
                vars: &[#(#vars),*],
                verifier_outbound: &[],
                outbound: &[#(#outbound),*],
                security: #private::undescribed,
                params: &[#(#params),*],
                verifier_reads_body: false,
                responses: &[#(#responses),*],
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
    described_fn(h, checks, &doc, items)
}

/// The `&[ParamSchema]` of a route's `META`: each `Path<T>`, `Query<T>`, `Json<T>`, `Form<T>`
/// parameter with its `T`'s schema, asked of `T` at its span (so, with layers' `openapi`
/// feature, a `T` without `schemars::JsonSchema` is reported where it is written).
fn param_schemas(h: &Handler, private: &TokenStream) -> Vec<TokenStream> {
    h.of_role(|r| matches!(r, Role::Part | Role::Body))
        .filter_map(|ty| {
            let kind = match last_segment(ty)?.ident.to_string().as_str() {
                "Path" => quote!(Path),
                "Query" => quote!(Query),
                "Json" => quote!(Json),
                "Form" => quote!(Form),
                _ => return None,
            };
            let inner = type_arg(ty)?;
            let name = quote!(#inner).to_string().replace(' ', "");
            Some(quote_spanned! {inner.span()=>
                #private::ParamSchema::of::<#inner>(#private::ParamKind::#kind, #name)
            })
        })
        .collect()
}
