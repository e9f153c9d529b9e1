//! `app! { routes: [...], wrangler: "wrangler.toml" }`: the route table, the whole-app
//! compile-time checks, and the Worker's `fetch` entry point.

use std::path::PathBuf;

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned;
use syn::{Ident, LitStr, Path, Token};

use crate::ctxt::Ctxt;
use crate::paths;
use crate::wrangler::{bindings_tokens, read_wrangler, Wrangler};

/// One entry of a list in `app!`: a handler's path, with the `#[cfg(…)]` attributes that
/// say in which builds it is part of the app.
struct Listed {
    cfgs: Vec<syn::Attribute>,
    path: Path,
}

impl quote::ToTokens for Listed {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        self.path.to_tokens(tokens);
    }
}

/// The `#[cfg(…)]` attributes of an entry, to put before everything generated from it.
fn cfgs(l: &Listed) -> TokenStream {
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

struct AppInput {
    routes: Option<(Vec<Listed>, Span)>,
    crons: Option<(Vec<Listed>, Span)>,
    queues: Option<(Vec<Listed>, Span)>,
    durables: Option<(Vec<Listed>, Span)>,
    wrangler: Option<LitStr>,
}

pub(crate) fn expand(input: TokenStream, call_site_file: Option<PathBuf>) -> TokenStream {
    let mut cx = Ctxt::default();
    let mut parsed = AppInput { routes: None, crons: None, queues: None, durables: None, wrangler: None };
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
                        list.push(Listed::parse(&content, &mut cx)?);
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
                other => {
                    cx.error_spanned(&key, format!("unknown key `{other}` in `app!`: expected `routes: [..]`, and optionally `crons: [..]`, `queues: [..]`, `durable_objects: [..]` and `wrangler: \"path/to/wrangler.toml\"`"));
                    let _: syn::Expr = s.parse()?;
                }
            }
            if !s.is_empty() {
                s.parse::<Token![,]>()?;
            }
        }
        Ok(())
    };
    if let Err(e) = parser.parse2(input) {
        return e.to_compile_error();
    }
    let Some((routes, list_span)) = parsed.routes else {
        return syn::Error::new(Span::call_site(), "`app!` needs its routes: `app! { routes: [home, about] }`")
            .to_compile_error();
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
        return cx.into_compile_errors();
    }
    let private = paths::private();
    let path_str = path.to_string_lossy().into_owned();
    let entries = routes.iter().map(|r| {
        let c = cfgs(r);
        quote_spanned!(r.span()=> #c #private::entry::<#r>())
    });
    let metas = routes.iter().map(|r| {
        let c = cfgs(r);
        quote_spanned!(r.span()=> #c #private::route_meta::<#r>())
    });
    let bindings = bindings_tokens(&wrangler);
    let vars = &wrangler.vars;
    let metas: Vec<_> = metas.collect();
    let check = quote_spanned! {list_span=>
        const _: () = #private::check_app(&[#(#metas),*], #bindings);
    };
    let cron_entries: Vec<_> = crons
        .iter()
        .map(|c| {
            let g = cfgs(c);
            quote_spanned!(c.span()=> #g #private::cron_entry::<#c>())
        })
        .collect();
    let cron_metas: Vec<_> = crons
        .iter()
        .map(|c| {
            let g = cfgs(c);
            quote_spanned!(c.span()=> #g <#c as #private::Scheduled>::META)
        })
        .collect();
    let queue_entries: Vec<_> = queues
        .iter()
        .map(|q| {
            let g = cfgs(q);
            quote_spanned!(q.span()=> #g #private::queue_entry::<#q>())
        })
        .collect();
    let queue_metas: Vec<_> = queues
        .iter()
        .map(|q| {
            let g = cfgs(q);
            quote_spanned!(q.span()=> #g <#q as #private::Consumer>::META)
        })
        .collect();
    let w_crons = &wrangler.crons;
    let w_consumers = &wrangler.consumers;
    let events_span = if crons.is_empty() { queues_span } else { crons_span };
    let check_events = quote_spanned! {events_span=>
        const _: () = #private::check_events(
            &[#(#cron_metas),*],
            &[#(#queue_metas),*],
            &[#(#w_crons),*],
            &[#(#w_consumers),*],
            #bindings,
        );
    };
    let (wb, wbf, js, worker) =
        (paths::wasm_bindgen(), paths::wasm_bindgen_futures(), paths::js_sys(), paths::worker());
    // Every export is written out with `wasm_bindgen` through layers' re-exports (never
    // `#[worker::event]`, whose expansion names `::worker`): an app depends on layers-core alone.
    let scheduled_entry = (!crons.is_empty() || !wrangler.crons.is_empty()).then(|| {
        quote! {
            #[doc(hidden)]
            mod __layers_scheduled_export {
                use #wb::prelude::wasm_bindgen;
                #[wasm_bindgen(
                    wasm_bindgen = #wb,
                    wasm_bindgen_futures = #wbf,
                    js_sys = #js
                )]
                pub async fn scheduled(
                    event: #worker::worker_sys::ScheduledEvent,
                    env: #worker::Env,
                    _ctx: #worker::worker_sys::ScheduleContext,
                ) -> ::std::result::Result<#wb::JsValue, #wb::JsValue> {
                    ::std::panic::AssertUnwindSafe(async move {
                        super::__LAYERS_APP.scheduled(event, env).await;
                        Ok(#wb::JsValue::UNDEFINED)
                    })
                    .await
                }
            }
        }
    });
    // The `queue` export is written out rather than `#[worker::event(queue)]`, whose glue
    // hides the JS batch: the framework reads each message's `attempts` from it.
    let queue_entry = (!queues.is_empty() || !wrangler.consumers.is_empty()).then(|| {
        quote! {
            #[doc(hidden)]
            mod __layers_queue_export {
                use #wb::prelude::wasm_bindgen;
                #[wasm_bindgen(
                    wasm_bindgen = #wb,
                    wasm_bindgen_futures = #wbf,
                    js_sys = #js
                )]
                pub async fn queue(
                    batch: #worker::worker_sys::MessageBatch,
                    env: #worker::Env,
                    _ctx: #worker::worker_sys::Context,
                ) -> ::std::result::Result<#wb::JsValue, #wb::JsValue> {
                    ::std::panic::AssertUnwindSafe(async move {
                        // Never an `Err`: failures are logged and the messages retried.
                        let _ = super::__LAYERS_APP.queue(batch, env).await;
                        Ok(#wb::JsValue::UNDEFINED)
                    })
                    .await
                }
            }
        }
    });
    let durable_metas: Vec<_> = durables
        .iter()
        .map(|d| {
            let g = cfgs(d);
            quote_spanned!(d.span()=> #g <#d as #private::DurableClass>::META)
        })
        .collect();
    let local_classes: Vec<&String> =
        wrangler.durable_classes.iter().filter(|(_, _, other)| !other).map(|(_, c, _)| c).collect();
    let private_d = paths::private_at(durables_span);
    let check_durable = quote_spanned! {durables_span=>
        const _: () = #private_d::check_durable(&[#(#durable_metas),*], &[#(#local_classes),*], #bindings);
    };
    let durable_types = durable_types(&routes, &crons, &queues, &durables, &wrangler);
    let manifest = manifest_tokens();
    let queue_types = queue_types(&routes, &crons, &queues, &wrangler);
    // `App::new` checks the table itself (segments, conflicting routes, `[vars]` naming
    // secrets): its compile error points at the route list.
    let private_l = paths::private_at(list_span);
    let new_app = quote_spanned! {list_span=>
        #private_l::App::new(
            &[#(#entries),*],
            &[#(#cron_entries),*],
            &[#(#queue_entries),*],
            &[#(#durable_metas),*],
            &[#(#vars),*],
        )
    };
    quote! {
        #[doc(hidden)]
        static __LAYERS_APP: #private::App = #new_app;

        // Rebuild when wrangler.toml changes.
        const _: &[u8] = ::core::include_bytes!(#path_str);

        #check
        #check_events
        #check_durable

        // The runtime's `Request` as is: `worker::Request`'s conversion would read `request.cf`,
        // the method, the URL and the headers up front, whether a route needs them or not. And a
        // synchronous export rather than `#[worker::event(fetch)]`'s `async` one: a request that
        // never waits on the runtime is answered without a promise (see `fetch_export`).
        #[doc(hidden)]
        mod __layers_fetch_export {
            use #wb::prelude::wasm_bindgen;
            #[wasm_bindgen(wasm_bindgen = #wb)]
            pub fn fetch(
                req: #worker::web_sys::Request,
                env: #worker::Env,
                ctx: #worker::worker_sys::Context,
            ) -> #wb::JsValue {
                #private::fetch_export(&super::__LAYERS_APP, req, env, ctx)
            }
        }

        #scheduled_entry
        #queue_entry
        #manifest
        #queue_types
        #durable_types
    }
}

/// The Durable Object binding check: a table type `__LayersDurables` implementing
/// `BindingOf<hash(name)>` for every `[[durable_objects.bindings]]`, whose `Class` is the listed
/// `#[durable_object]` class named like the binding's `class_name` (or `UnlistedClass`); then
/// every handler's `__layers_durable_check` (see `expand::durable_checks_for`) is named with it.
fn durable_types(
    routes: &[Listed],
    crons: &[Listed],
    queues: &[Listed],
    durables: &[Listed],
    w: &Wrangler,
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
fn queue_types(routes: &[Listed], crons: &[Listed], queues: &[Listed], w: &Wrangler) -> TokenStream {
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

/// `pub fn manifest()`: the app's table of routes, crons and queues with their identity and
/// storage, read from `__LAYERS_APP` — the same entries dispatch uses, so it cannot drift
/// (`cargo xtask manifest` prints it). It only names the app static, so a wrong entry in `app!`
/// is reported once, where the static is built.
fn manifest_tokens() -> TokenStream {
    let core = paths::core();
    quote! {
        /// The app's manifest: every route, cron and queue consumer with its identity and
        /// storage, from the table the Worker dispatches with (`cargo xtask manifest` prints it).
        #[allow(dead_code, unreachable_pub)]
        #[must_use]
        pub fn manifest() -> #core::manifest::Manifest {
            #core::manifest::Manifest::from_app(&__LAYERS_APP)
        }
    }
}
