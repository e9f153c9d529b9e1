//! `#[durable_object(storage(…))]` on the `impl` block of a `Default` struct: a Durable Object
//! class written with layers. The block holds one `async fn` — the handler — taking `&self`,
//! the class's message (any `Serialize + Deserialize` type), `Claims<'_, DurableCaller>`, and
//! optionally `ObjectStorage<'_>` and the storage handles `storage(…)` declares; it returns
//! `Result<Reply>`. The expansion describes the class (`DurableClass`) and exports the
//! JavaScript class the runtime constructs, named after the struct (wrangler.toml's
//! `class_name`), wrapping layers' host: the handler never sees the `Env`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned;
use syn::{FnArg, GenericArgument, Ident, ImplItem, ItemImpl, Lifetime, PathArguments, ReturnType, Token, Type};

use crate::ast::{last_segment, set_lifetime, static_lifetime};
use crate::attr::{parse_storage, StorageItem};
use crate::ctxt::Ctxt;
use crate::handler::{storage_let, storage_param, HandlerKind};
use crate::paths;
use layers_spec::storage::StorageKind;

const ACCEPTED: &str = "a Durable Object handler takes `&self`, its message (one `Serialize + Deserialize` type), `Claims<'_, DurableCaller>` (required), `ObjectStorage<'_>` (the object's own storage), and the storage handles `storage(…)` declares (`D1<'_>`, `Kv<'_>`, `Queue<'_, T>`, `R2<'_>`, `AnalyticsEngine<'_>`, `DurableObject<'_, C>`, `Ai<'_>`, `Vectorize<'_>`)";

enum Role {
    Msg,
    Claims,
    Object,
    Storage(StorageKind),
}

fn parse_attr(tokens: TokenStream, cx: &mut Ctxt) -> Vec<StorageItem> {
    let mut storage = Vec::new();
    let parser = |input: ParseStream<'_>| -> syn::Result<()> {
        while !input.is_empty() {
            let key: Ident = input.parse()?;
            if key == "storage" {
                parse_storage(input, &mut storage, cx)?;
                if let Some(c) = storage.iter().find(|s| !s.kind.spec().outside_requests) {
                    cx.push(syn::Error::new(c.span, format!("a Durable Object cannot use `{}`: cache keys live under the origin of a request being served, and an object call has none", c.kind.as_str())));
                    storage.retain(|s| s.kind.spec().outside_requests);
                }
            } else {
                cx.error_spanned(&key, format!("unknown key `{key}`; `#[durable_object]` takes only `storage(…)`"));
                crate::attr::skip_value(input)?;
            }
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        Ok(())
    };
    if let Err(e) = parser.parse2(tokens) {
        cx.push(e);
    }
    storage
}

/// The `T` of `Result<T, …>`.
fn ok_type(ret: &ReturnType) -> Option<Type> {
    let ReturnType::Type(_, ty) = ret else { return None };
    let seg = last_segment(ty)?;
    if seg.ident != "Result" {
        return None;
    }
    match &seg.arguments {
        PathArguments::AngleBracketed(a) => a.args.iter().find_map(|g| match g {
            GenericArgument::Type(t) => Some(t.clone()),
            _ => None,
        }),
        _ => None,
    }
}

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut cx = Ctxt::default();
    let imp: ItemImpl = match syn::parse2(item.clone()) {
        Ok(i) => i,
        Err(_) => {
            let mut out = item;
            out.extend(
                syn::Error::new(
                    Span::call_site(),
                    "`#[durable_object]` goes on the `impl` block of a `Default` struct holding its one handler: `#[durable_object] impl RateLimiter { async fn call(&self, msg: Hit, who: Claims<'_, DurableCaller>, store: ObjectStorage<'_>) -> Result<Answer> { … } }`",
                )
                .to_compile_error(),
            );
            return out;
        }
    };
    let storage = parse_attr(attr, &mut cx);
    let class = match &*imp.self_ty {
        Type::Path(p) if p.qself.is_none() && imp.generics.params.is_empty() && imp.trait_.is_none() => {
            p.path.segments.last().map(|s| s.ident.clone())
        }
        _ => None,
    };
    let Some(class) = class else {
        cx.error_spanned(&imp.self_ty, "`#[durable_object]` goes on an inherent `impl` of a plain struct (no generics, no trait): the struct's name is the class name");
        let mut out = quote!(#imp);
        out.extend(cx.into_compile_errors());
        return out;
    };
    let fns: Vec<&syn::ImplItemFn> =
        imp.items.iter().filter_map(|i| if let ImplItem::Fn(f) = i { Some(f) } else { None }).collect();
    if fns.len() != 1 {
        cx.error_spanned(&imp.self_ty, format!("a `#[durable_object]` impl holds exactly one method, the handler (found {}): put helpers in another `impl {class}` block", fns.len()));
        let mut out = quote!(#imp);
        out.extend(cx.into_compile_errors());
        return out;
    }
    let f = fns[0];
    let sig = &f.sig;
    if sig.asyncness.is_none() {
        cx.error_spanned(sig.fn_token, "a Durable Object handler must be `async fn`: add `async` before `fn`");
    }
    if !sig.generics.params.iter().all(|g| matches!(g, syn::GenericParam::Lifetime(_))) {
        cx.error_spanned(&sig.generics, "a Durable Object handler cannot have type or const parameters");
    }
    let mut roles: Vec<(Role, Type)> = Vec::new();
    let mut has_self = false;
    for input in &sig.inputs {
        let pt = match input {
            FnArg::Receiver(r) => {
                if r.reference.is_none() || r.mutability.is_some() {
                    cx.error_spanned(r, "a Durable Object handler takes `&self` (one object serves calls concurrently: keep state in `ObjectStorage`, or in `Cell`/`RefCell` fields)");
                }
                has_self = true;
                continue;
            }
            FnArg::Typed(pt) => pt,
        };
        let ty = (*pt.ty).clone();
        let name = last_segment(&ty).map(|s| s.ident.to_string()).unwrap_or_default();
        if let Some(l) = last_segment(&ty).and_then(static_lifetime) {
            cx.error_spanned(
                l,
                format!("`{name}` cannot be `'static`: claims and handles live only as long as the call. Write `'_`"),
            );
        }
        let role = match name.as_str() {
            "Claims" => Role::Claims,
            "ObjectStorage" => Role::Object,
            "Env" | "State" | "Request" | "Context" => {
                cx.error_spanned(&ty, format!("a Durable Object handler does not receive `{name}`: {ACCEPTED}"));
                continue;
            }
            "Vars" | "After" | "Mint" | "Federation" | "Batch" => {
                cx.error_spanned(&ty, format!("a Durable Object handler does not receive `{name}` (it acts as `DurableCaller`, which grants nothing beyond storage): {ACCEPTED}"));
                continue;
            }
            other => match storage_param(HandlerKind::DurableObject, other, &ty, &storage, &mut cx) {
                Some(Ok(k)) => Role::Storage(k),
                Some(Err(())) => continue,
                None => Role::Msg,
            },
        };
        roles.push((role, ty));
    }
    if !has_self {
        cx.error_spanned(&sig.ident, "a Durable Object handler is a method: take `&self` first");
    }
    let msgs: Vec<&Type> = roles.iter().filter(|(r, _)| matches!(r, Role::Msg)).map(|(_, t)| t).collect();
    if msgs.len() != 1 {
        cx.error_spanned(&sig.ident, format!("a Durable Object handler takes exactly one message parameter (a `Serialize + Deserialize` type callers send), found {}: {ACCEPTED}", msgs.len()));
    }
    if !roles.iter().any(|(r, _)| matches!(r, Role::Claims)) {
        cx.error_spanned(&sig.ident, "this handler takes no `Claims`: add `who: Claims<'_, DurableCaller>` (storage opens only with that proof; name it `_` if unused)");
    }
    let reply = ok_type(&sig.output);
    if reply.is_none() {
        cx.error_spanned(&sig.output, "a Durable Object handler returns `Result<Reply>` (or `Result<Reply, E>` with `E: Into<layers_core::Error>`), `Reply` being what callers receive");
    }
    if cx.has_errors() {
        let mut out = quote!(#imp);
        out.extend(cx.into_compile_errors());
        return out;
    }
    let (Some(reply), Some(msg)) = (reply, msgs.first().copied()) else { return quote!(#imp) };

    // The user's impl, with the handler's request-scoped lifetimes unified (as `#[route]` does).
    let mut unified = imp.clone();
    for item in &mut unified.items {
        if let ImplItem::Fn(m) = item {
            let mut as_fn =
                syn::ItemFn { attrs: vec![], vis: m.vis.clone(), sig: m.sig.clone(), block: Box::new(m.block.clone()) };
            crate::ast::unify_lifetimes(&mut as_fn);
            m.sig = as_fn.sig;
        }
    }
    let method = &sig.ident;
    let class_str = class.to_string();
    let decls = storage.iter().map(StorageItem::decl_tokens);
    let mut lets = Vec::new();
    let mut args = Vec::new();
    for (i, (role, ty)) in roles.iter().enumerate() {
        let arg = format_ident!("__arg{}", i);
        let mut check = ty.clone();
        set_lifetime(&mut check, &Lifetime::new("'r", Span::call_site()), true);
        lets.push(match role {
            Role::Msg => quote!(let #arg = msg;),
            Role::Claims => {
                let (private, identity) = (paths::private_at(ty.span()), paths::identity_at(ty.span()));
                quote_spanned! {ty.span()=>
                    let #arg = <#check as #private::ClaimsFor<'r, #identity::DurableCaller>>::from_claims(cx.claims()?);
                }
            }
            Role::Object => quote!(let #arg = cx.object_storage();),
            Role::Storage(kind) => storage_let(*kind, &arg, &check),
        });
        args.push(arg);
    }
    let export = format_ident!("__LayersDurableObject_{}", class);
    let ret_span = sig.output.span();
    let call = quote_spanned! {ret_span=>
        ::core::result::Result::map_err(self.#method(#(#args),*).await, ::core::convert::Into::into)
    };
    let msg_item = quote_spanned!(msg.span()=> type Msg = #msg;);
    let reply_item = quote_spanned!(reply.span()=> type Reply = #reply;);
    let durable_checks = crate::expand::durable_checks_for(
        &class,
        &storage,
        roles.iter().filter(|(r, _)| matches!(r, Role::Storage(StorageKind::DurableObject))).map(|(_, t)| t),
    );
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
