//! What `app!` generates: the app static dispatch serves from (`App::new` checks the route
//! table itself), the `const` checks of the whole app against wrangler's config, the Worker's
//! exports (`fetch`, and `scheduled`/`queue` when the app has crons or consumers), the type
//! tables of the producer and Durable Object checks, and `manifest()`.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::check::App;
use super::parse::cfgs;
use super::type_tables::{durable_types, queue_types};
use crate::paths;
use crate::wrangler::config_tokens;

/// The expansion of a checked `app!`.
pub(crate) fn generate(app: &App) -> TokenStream {
    let (routes, crons, queues, durables) = (&app.routes, &app.crons, &app.queues, &app.durables);
    let (list_span, crons_span, queues_span, durables_span) =
        (app.routes_span, app.crons_span, app.queues_span, app.durables_span);
    let (path, wrangler) = (&app.wrangler_path, &app.wrangler);
    let private = paths::private();
    // `include_bytes!` resolves a relative path against the invoking file's directory, but the
    // path was resolved against this process's directory (a `wrangler: "…"` path joined to a
    // call-site file that rustc names relative to the workspace root): make it absolute.
    let path_str = std::path::absolute(path).unwrap_or_else(|_| path.clone()).to_string_lossy().into_owned();
    let entries = routes.iter().map(|r| {
        let c = cfgs(r);
        quote_spanned!(r.span()=> #c #private::entry::<#r>())
    });
    let metas = routes.iter().map(|r| {
        let c = cfgs(r);
        quote_spanned!(r.span()=> #c #private::route_meta::<#r>())
    });
    let config = config_tokens(wrangler);
    // `[vars]` of every deployment: a secret's name is refused under any of them.
    let mut vars: Vec<&String> = wrangler.scopes().flat_map(|(_, s)| &s.vars).collect();
    vars.sort();
    vars.dedup();
    let metas: Vec<_> = metas.collect();
    let check = quote_spanned! {list_span=>
        const _: () = #private::check_app(&[#(#metas),*], __LAYERS_WRANGLER);
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
    let events_span = if crons.is_empty() { queues_span } else { crons_span };
    let check_events = quote_spanned! {events_span=>
        const _: () = #private::check_events(&[#(#cron_metas),*], &[#(#queue_metas),*], __LAYERS_WRANGLER);
    };
    let any_crons = wrangler.scopes().any(|(_, s)| !s.crons.is_empty());
    let any_consumers = wrangler.scopes().any(|(_, s)| !s.consumers.is_empty());
    let (wb, wbf, js, worker) =
        (paths::wasm_bindgen(), paths::wasm_bindgen_futures(), paths::js_sys(), paths::worker());
    // Every export is written out with `wasm_bindgen` through layers' re-exports (never
    // `#[worker::event]`, whose expansion names `::worker`): an app depends on layers-core alone.
    let scheduled_entry = (!crons.is_empty() || any_crons).then(|| {
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
    let queue_entry = (!queues.is_empty() || any_consumers).then(|| {
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
    let private_d = paths::private_at(durables_span);
    let check_durable = quote_spanned! {durables_span=>
        const _: () = #private_d::check_durable(&[#(#durable_metas),*], __LAYERS_WRANGLER);
    };
    // The type checks (a producer's message against its consumer, a handle against its class)
    // read the top level's mappings.
    let durable_types = durable_types(routes, crons, queues, durables, &wrangler.top);
    let manifest = manifest_tokens();
    let queue_types = queue_types(routes, crons, queues, &wrangler.top);
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

        // Rebuild when wrangler's config changes.
        const _: &[u8] = ::core::include_bytes!(#path_str);

        #[doc(hidden)]
        const __LAYERS_WRANGLER: &#private::WranglerConfig<'static> = #config;

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

        /// The app's route table as the Worker dispatches with it: what
        /// `layers_core::openapi::document` describes (layers' `openapi` feature).
        #[allow(dead_code, unreachable_pub)]
        #[must_use]
        pub fn layers_app() -> &'static #core::__private::App {
            &__LAYERS_APP
        }
    }
}
