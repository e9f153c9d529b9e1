//! The type-level tables of the whole-app checks that need types rather than `const` values: a
//! producer's message type against its queue's consumer, a `DurableObject<'_, C>` handle against
//! the class its binding names.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::parse::{cfgs, Listed};
use crate::paths;
use crate::wrangler::Scope;

/// The Durable Object binding check: a table type `__LayersDurables` implementing
/// `BindingOf<hash(name)>` for every `[[durable_objects.bindings]]`, whose `Class` is the listed
/// `#[durable_object]` class named like the binding's `class_name` (or `UnlistedClass`); then
/// every handler's `__layers_durable_check` (see `expand::durable_checks_for`) is named with it.
pub(crate) fn durable_types(
    routes: &[Listed],
    crons: &[Listed],
    queues: &[Listed],
    durables: &[Listed],
    w: &Scope,
) -> TokenStream {
    let private = paths::private();
    let check = quote!(#private::durable_check);
    let mut seen = Vec::new();
    let impls: Vec<_> = w
        .durable_classes
        .iter()
        .filter(|(b, _, _)| {
            let first = !seen.contains(b);
            seen.push(b.clone());
            first
        })
        .map(|(binding, class, other_script)| {
            let key = layers_spec::text::name_hash(binding);
            let clean =
                |s: &str| s.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect::<String>();
            let marker = quote::format_ident!("binding_{}_is_class_{}", clean(binding), clean(class));
            let listed = (!other_script)
                .then(|| durables.iter().find(|d| d.path.segments.last().is_some_and(|s| s.ident == class)))
                .flatten();
            let class_ty = match listed {
                Some(d) => {
                    let g = cfgs(d);
                    let p = &d.path;
                    // A class left out of this build by its `#[cfg]` is unlisted here too.
                    quote!(#g type Class = #p;)
                }
                None => quote!(type Class = #check::UnlistedClass;),
            };
            quote! {
                #[doc(hidden)]
                #[allow(non_camel_case_types, dead_code)]
                struct #marker;
                impl #check::BindingOf<#key> for __LayersDurables {
                    #class_ty
                    type Marker = #marker;
                }
            }
        })
        .collect();
    let checks = routes.iter().chain(crons).chain(queues).chain(durables).map(|r| {
        let g = cfgs(r);
        quote_spanned!(r.span()=> #g let _ = #r::__layers_durable_check::<__LayersDurables>;)
    });
    quote! {
        #[doc(hidden)]
        #[allow(dead_code)]
        struct __LayersDurables;
        #(#impls)*
        const _: () = {
            #[allow(unused_imports)]
            use #check::NoDurableCheck as _;
            fn __layers_durable_checks() {
                #(#checks)*
            }
        };
    }
}

/// The producer/consumer type check: a table type `__LayersQueues` with, per listed consumer,
/// the type it decodes (keyed by its queue's name) and, per `[[queues.producers]]` binding,
/// what a handler sending through it must send; then every route's, cron's and consumer's
/// `__layers_producer_check` (see `expand::producer_check_for`) is named with that table.
pub(crate) fn queue_types(routes: &[Listed], crons: &[Listed], queues: &[Listed], w: &Scope) -> TokenStream {
    let private = paths::private();
    let check = quote!(#private::queue_check);
    let consumers = queues.iter().map(|q| {
        let g = cfgs(q);
        let private_q = paths::private_at(q.span());
        quote_spanned! {q.span()=>
            #g
            impl #check::ConsumerOfQueue<{ #check::name_hash(<#q as #private_q::Consumer>::META.queue) }> for __LayersQueues {
                type Msg = <#q as #private_q::Consumer>::Msg;
            }
        }
    });
    let mut seen = Vec::new();
    let producers = w.producer_queues.iter().filter(|(b, _)| {
        let first = !seen.contains(b);
        seen.push(b.clone());
        first
    });
    let producers: Vec<_> = producers
        .map(|(binding, queue)| {
            let key = layers_spec::text::name_hash(binding);
            if w.consumers.contains(queue) {
                let clean =
                    |s: &str| s.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect::<String>();
                let marker = quote::format_ident!("binding_{}_sends_to_queue_{}", clean(binding), clean(queue));
                let qkey = layers_spec::text::name_hash(queue);
                quote! {
                    #[doc(hidden)]
                    #[allow(non_camel_case_types, dead_code)]
                    struct #marker;
                    impl #check::ProducerOf<#key> for __LayersQueues {
                        type Check = #check::Consumed<<__LayersQueues as #check::ConsumerOfQueue<#qkey>>::Msg, #marker>;
                    }
                }
            } else {
                quote! {
                    impl #check::ProducerOf<#key> for __LayersQueues {
                        type Check = #check::Unconsumed;
                    }
                }
            }
        })
        .collect();
    let checks = routes.iter().chain(crons).chain(queues).map(|r| {
        let g = cfgs(r);
        quote_spanned!(r.span()=> #g let _ = #r::__layers_producer_check::<__LayersQueues>;)
    });
    quote! {
        #[doc(hidden)]
        #[allow(dead_code)]
        struct __LayersQueues;
        #(#consumers)*
        #(#producers)*
        const _: () = {
            #[allow(unused_imports)]
            use #check::NoProducerCheck as _;
            fn __layers_producer_checks() {
                #(#checks)*
            }
        };
    }
}
