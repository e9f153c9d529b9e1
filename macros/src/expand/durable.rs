//! The expansion of `#[durable_object(storage(…))]` on the `impl` block of a `Default` struct:
//! a Durable Object class written with layers. The block holds one `async fn` — the handler —
//! taking `&self`, the class's message (any `Serialize + Deserialize` type),
//! `Claims<'_, DurableCaller>`, and optionally `ObjectStorage<'_>` and the storage handles
//! `storage(…)` declares; it returns `Result<Reply>`. The expansion describes the class
//! (`DurableClass`) and exports the JavaScript class the runtime constructs, named after the
//! struct (wrangler.toml's `class_name`), wrapping layers' host: the handler never sees the
//! `Env`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use super::{arguments, checks, Checks};
use crate::handler::params::reply_type;
use crate::handler::{Handler, Role};
use crate::paths;

pub(crate) fn expand(h: &Handler) -> TokenStream {
    let class = h.name();
    let sig = h.item.sig();
    let (Some(reply), Some(msg)) = (reply_type(sig), h.of_role(|r| r == Role::Message).next()) else {
        unreachable!("a Durable Object handler without a message or a reply fails its check")
    };
    let method = &sig.ident;
    let class_str = class.to_string();
    let decls = h.attr.storage.iter().map(|s| s.decl_tokens());
    let (lets, args) = arguments(h);
    let export = format_ident!("__LayersDurableObject_{}", class);
    let ret_span = sig.output.span();
    let call = quote_spanned! {ret_span=>
        ::core::result::Result::map_err(self.#method(#(#args),*).await, ::core::convert::Into::into)
    };
    let msg_item = quote_spanned!(msg.span()=> type Msg = #msg;);
    let reply_item = quote_spanned!(reply.span()=> type Reply = #reply;);
    let Checks { durable: durable_checks, .. } = checks(h);
    let unified = h.item.unified();
    let (private, core) = (paths::private(), paths::core());
    let (wb, wbf, js, worker) =
        (paths::wasm_bindgen(), paths::wasm_bindgen_futures(), paths::js_sys(), paths::worker());
    quote! {
        #unified

        #durable_checks

        impl #private::DurableClass for #class {
            #msg_item
            #reply_item
            const META: #private::DurableMeta = #private::DurableMeta {
                class: #class_str,
                storage: &[#(#decls),*],
                handler: ::core::stringify!(#method),
            };
            fn call<'r>(
                &'r self,
                msg: Self::Msg,
                mut cx: #private::ObjectCx<'r>,
            ) -> #private::LocalBoxFuture<'r, ::core::result::Result<Self::Reply, #core::Error>> {
                ::std::boxed::Box::pin(async move {
                    #(#lets)*
                    #call
                })
            }
        }

        // The JavaScript class the runtime constructs (`class_name = "…"` in wrangler.toml).
        const _: () = {
            use #wb::prelude::*;
            // wasm-bindgen's struct export names `wasm_bindgen::…` relative to this scope,
            // whatever `wasm_bindgen = …` says: found here, through layers' re-export.
            #[allow(unused_imports)]
            use #wb;

            #[wasm_bindgen(wasm_bindgen = #wb, js_name = #class)]
            #[doc(hidden)]
            #[allow(non_camel_case_types)]
            pub struct #export {
                host: #private::DurableHost<#class>,
            }

            #[wasm_bindgen(
                wasm_bindgen = #wb,
                wasm_bindgen_futures = #wbf,
                js_sys = #js,
                js_class = #class
            )]
            impl #export {
                #[wasm_bindgen(constructor, wasm_bindgen = #wb)]
                pub fn new(
                    state: #worker::worker_sys::DurableObjectState,
                    env: #worker::Env,
                ) -> Self {
                    #export { host: #private::DurableHost::new(state, env) }
                }

                #[wasm_bindgen(js_name = fetch)]
                pub async fn fetch(
                    &self,
                    req: #worker::web_sys::Request,
                ) -> ::core::result::Result<#wb::JsValue, #wb::JsValue> {
                    self.host.fetch(req).await
                }
            }
        };
    }
}
