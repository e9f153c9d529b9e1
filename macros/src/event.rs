//! `#[scheduled("cron", storage(…))]` and `#[queue("name", storage(…))]`: platform-event
//! handlers. They run as `System` (no `identity = …`), take `Claims<'_, System>`, the declared
//! storage handles and `Vars`; a queue handler also takes its typed `Batch<'_, T>`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned;
use syn::{FnArg, GenericArgument, Ident, ItemFn, Lifetime, LitStr, PathArguments, Token, Type};

use crate::ast::{last_segment, set_lifetime, static_lifetime};
use crate::attr::{parse_storage, StorageItem};
use crate::ctxt::Ctxt;
use crate::handler::{storage_let, storage_param, HandlerKind};
use crate::paths;
use layers_spec::storage::StorageKind;

/// The platform events a handler can take.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `#[scheduled("cron")]`.
    Scheduled,
    /// `#[queue("name")]`.
    Queue,
}

impl Kind {
    fn handler(self) -> HandlerKind {
        match self {
            Kind::Scheduled => HandlerKind::Cron,
            Kind::Queue => HandlerKind::Queue,
        }
    }

    fn what(self) -> &'static str {
        self.handler().what()
    }
}

pub(crate) struct EventAttr {
    source: Option<String>,
    storage: Vec<StorageItem>,
}

/// A queue name as Cloudflare allows it: lowercase letters, digits and `-`, at most 63.
fn queue_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() || name.len() > 63 {
        return Some("a queue name is 1 to 63 characters");
    }
    if !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
        return Some("a queue name has only lowercase letters, digits and `-`");
    }
    None
}

pub(crate) fn parse_attr(kind: Kind, tokens: TokenStream, cx: &mut Ctxt) -> EventAttr {
    let mut out = EventAttr { source: None, storage: Vec::new() };
    let parser = |input: ParseStream<'_>| -> syn::Result<()> {
        let first = match kind {
            Kind::Scheduled => "a cron handler needs its cron expression first: `#[scheduled(\"0 2 * * SUN\")]`",
            Kind::Queue => "a queue handler needs the queue's name first: `#[queue(\"reindex\")]`",
        };
        if input.is_empty() {
            return Err(syn::Error::new(Span::call_site(), first));
        }
        let lit: LitStr = input.parse().map_err(|e| syn::Error::new(e.span(), first))?;
        let text = lit.value();
        match kind {
            Kind::Scheduled => match layers_spec::cron::validate(&text) {
                Ok(()) => out.source = Some(text),
                Err(e) => cx.error_spanned(&lit, format!("invalid cron: {}", e.render(&text))),
            },
            Kind::Queue => match queue_name_problem(&text) {
                None => out.source = Some(text),
                Some(p) => cx.error_spanned(&lit, format!("invalid queue name \"{text}\": {p}")),
            },
        }
        let mut seen_storage: Option<Span> = None;
        while !input.is_empty() {
            input.parse::<Token![,]>()?;
            if input.is_empty() {
                break;
            }
            let key: Ident = input.parse()?;
            match key.to_string().as_str() {
                "storage" => {
                    if let Some(first) = seen_storage {
                        let mut e = syn::Error::new(
                            key.span(),
                            "`storage` is given twice; list every kind in one `storage(…)`",
                        );
                        e.combine(syn::Error::new(first, "first `storage` here"));
                        cx.push(e);
                    }
                    seen_storage = Some(key.span());
                    parse_storage(input, &mut out.storage, cx)?;
                    if let Some(c) = out.storage.iter().find(|s| !s.kind.spec().outside_requests) {
                        cx.push(syn::Error::new(c.span, format!("a {} cannot use `{}`: cache keys live under the origin of the request being served, and a platform event has none", kind.what(), c.kind.as_str())));
                        out.storage.retain(|s| s.kind.spec().outside_requests);
                    }
                }
                "identity" => {
                    cx.error_spanned(
                        &key,
                        format!("a {} always runs as `System`, the platform's identity: remove `identity = …` and take `who: Claims<'_, System>`", kind.what()),
                    );
                    input.parse::<Token![=]>()?;
                    let _: Type = input.parse()?;
                }
                other => {
                    cx.error_spanned(
                        &key,
                        format!(
                            "unknown key `{other}`; a {} takes only `storage(…)`: `{}`",
                            kind.what(),
                            kind.handler().example()
                        ),
                    );
                    crate::attr::skip_value(input)?;
                }
            }
        }
        Ok(())
    };
    if let Err(e) = parser.parse2(tokens) {
        cx.push(e);
    }
    out
}

enum Role {
    Claims,
    Storage(StorageKind),
    Vars,
    Batch,
    /// `Mint<'_, C>`: mints tokens of a configuration that opted in for `System`.
    Mint,
}

struct Param {
    role: Role,
    check_ty: Type,
}

fn accepted(kind: Kind) -> &'static str {
    match kind {
        Kind::Scheduled => "a cron handler's parameters are `Claims<'_, System>` (required), `Vars`, `Mint<'_, C>`, and the storage handles its attribute declares in `storage(…)` (`D1<'_>`, `Kv<'_>`, `Queue<'_, T>`, `R2<'_>`, `AnalyticsEngine<'_>`, `DurableObject<'_>`, `Ai<'_>`, `Vectorize<'_>`)",
        Kind::Queue => "a queue handler's parameters are `Batch<'_, T>` (required), `Claims<'_, System>` (required), `Vars`, `Mint<'_, C>`, and the storage handles its attribute declares in `storage(…)` (`D1<'_>`, `Kv<'_>`, `Queue<'_, T>`, `R2<'_>`, `AnalyticsEngine<'_>`, `DurableObject<'_>`, `Ai<'_>`, `Vectorize<'_>`)",
    }
}

fn params(kind: Kind, f: &ItemFn, attr: &EventAttr, cx: &mut Ctxt) -> Vec<Param> {
    let sig = &f.sig;
    let what = kind.what();
    if sig.asyncness.is_none() {
        cx.error_spanned(sig.fn_token, format!("{what}s must be `async fn`: add `async` before `fn`"));
    }
    for g in &sig.generics.params {
        if !matches!(g, syn::GenericParam::Lifetime(_)) {
            cx.error_spanned(
                g,
                format!("{what}s cannot have type or const parameters: the framework calls them with concrete types"),
            );
        }
    }
    let mut out = Vec::new();
    let (mut claims, mut batch) = (false, false);
    for input in &sig.inputs {
        let FnArg::Typed(pt) = input else {
            cx.error_spanned(input, format!("a {what} is a free function; it cannot take `self`"));
            continue;
        };
        let ty = (*pt.ty).clone();
        let Some(seg) = last_segment(&ty) else {
            cx.error_spanned(
                &ty,
                format!("this parameter type is not something a {what} can receive: {}", accepted(kind)),
            );
            continue;
        };
        let name = seg.ident.to_string();
        if let Some(l) = static_lifetime(seg) {
            cx.error_spanned(l, format!("`{name}` cannot be `'static`: claims, batches and storage handles live only as long as the event. Write `'_`"));
        }
        let role = match name.as_str() {
            "Claims" => {
                if claims {
                    cx.error_spanned(&ty, format!("a {what} takes its `Claims` once; remove this parameter"));
                    continue;
                }
                claims = true;
                Role::Claims
            }
            "Vars" => Role::Vars,
            "Mint" => Role::Mint,
            "Batch" if kind == Kind::Queue => {
                if batch {
                    cx.error_spanned(&ty, "a queue handler takes its `Batch` once; remove this parameter");
                    continue;
                }
                batch = true;
                let has_type = matches!(&seg.arguments, PathArguments::AngleBracketed(a) if a.args.iter().any(|g| matches!(g, GenericArgument::Type(_))));
                if !has_type {
                    cx.error_spanned(&ty, "`Batch` needs the message type: `Batch<'_, ReindexJob>`, where `ReindexJob` is a `#[derive(Deserialize)]` struct (what the producer's `Queue<'_, ReindexJob>` sends)");
                    continue;
                }
                Role::Batch
            }
            "Batch" => {
                cx.error_spanned(&ty, "only a `#[queue(\"name\")]` handler receives a `Batch`");
                continue;
            }
            "Request" | "After" | "Federation" | "Env" | "Context" | "ScheduleContext" | "ScheduledEvent"
            | "MessageBatch" => {
                let hint = match name.as_str() {
                    "ScheduledEvent" => " (the cron and its scheduled time are in `who.source` and `who.time_ms`)",
                    "Env" => " (it would reach storage without an identity; declare `storage(…)` and take the handles)",
                    _ => "",
                };
                cx.error_spanned(&ty, format!("a {what} does not receive `{name}`{hint}: {}", accepted(kind)));
                continue;
            }
            other => {
                if let Some(storage) = storage_param(kind.handler(), other, &ty, &attr.storage, cx) {
                    match storage {
                        Ok(k) => Role::Storage(k),
                        Err(()) => continue,
                    }
                } else {
                    cx.error_spanned(
                        &ty,
                        format!("`{other}` is not something a {what} can receive: {}", accepted(kind)),
                    );
                    continue;
                }
            }
        };
        let mut check_ty = ty;
        set_lifetime(&mut check_ty, &Lifetime::new("'r", Span::call_site()), true);
        out.push(Param { role, check_ty });
    }
    if !claims {
        cx.error_spanned(&sig.ident, format!("this {what} takes no `Claims`: add a parameter `who: Claims<'_, System>`. Platform events run as `System`, and storage opens only with that proof (name it `_` if unused)"));
    }
    if kind == Kind::Queue && !batch {
        cx.error_spanned(&sig.ident, "this queue handler takes no messages: add a parameter `batch: Batch<'_, ReindexJob>`, where `ReindexJob` is the `#[derive(Deserialize)]` message type its producers send");
    }
    out
}

pub(crate) fn expand(kind: Kind, attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut cx = Ctxt::default();
    let f: ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(e) => {
            let mut out = item;
            out.extend(
                syn::Error::new(e.span(), format!("`{}` goes on an `async fn`: {e}", kind.handler().example()))
                    .to_compile_error(),
            );
            return out;
        }
    };
    let a = parse_attr(kind, attr, &mut cx);
    let ps = params(kind, &f, &a, &mut cx);
    if cx.has_errors() {
        let mut out = quote!(#f);
        out.extend(cx.into_compile_errors());
        return out;
    }
    let Some(source) = &a.source else { return quote!(#f) };
    let mut unified = f.clone();
    crate::ast::unify_lifetimes(&mut unified);
    let (private, core) = (paths::private(), paths::core());
    let name = &f.sig.ident;
    let vis = &f.vis;
    let handler = name.to_string();
    let decls = a.storage.iter().map(StorageItem::decl_tokens);
    let mut lets = Vec::new();
    let mut args = Vec::new();
    for (i, p) in ps.iter().enumerate() {
        let arg = format_ident!("__arg{}", i);
        let ty = &p.check_ty;
        lets.push(match p.role {
            Role::Claims => {
                let identity = paths::identity_at(ty.span());
                quote_spanned! {ty.span()=>
                    let #arg = <#ty as #private::ClaimsFor<'r, #identity::System>>::from_claims(cx.claims()?);
                }
            }
            Role::Storage(kind) => storage_let(kind, &arg, ty),
            Role::Vars => quote!(let #arg = cx.vars();),
            Role::Batch => quote_spanned!(ty.span()=> let #arg: #ty = cx.batch()?;),
            Role::Mint => quote_spanned!(ty.span()=> let #arg: #ty = cx.mint();),
        });
        args.push(arg);
    }
    let ret_span = match &f.sig.output {
        syn::ReturnType::Default => f.sig.ident.span(),
        syn::ReturnType::Type(_, t) => t.span(),
    };
    let call = quote_spanned! {ret_span=> #private::IntoOutcome::into_outcome(#name(#(#args),*).await) };
    let (trait_, meta, field, doc) = match kind {
        Kind::Scheduled => (
            quote!(Scheduled),
            quote!(CronMeta),
            quote!(cron),
            format!("The `#[scheduled]` description of [`{handler}()`]: list it in `app!{{ crons: [..] }}`."),
        ),
        Kind::Queue => (
            quote!(Consumer),
            quote!(QueueMeta),
            quote!(queue),
            format!("The `#[queue]` description of [`{handler}()`]: list it in `app!{{ queues: [..] }}`."),
        ),
    };
    let (grants, grant_checks) =
        crate::expand::grants(ps.iter().filter(|p| matches!(p.role, Role::Mint)).map(|p| &p.check_ty), &handler);
    // Like a route, a handler sending to a queue is checked against that queue's consumer.
    let producer_check = crate::expand::producer_check_for(
        name,
        a.storage.iter().find(|s| s.kind == StorageKind::Queue).map(|s| s.binding.as_str()),
        ps.iter().find(|p| matches!(p.role, Role::Storage(StorageKind::Queue))).map(|p| &p.check_ty),
    );
    let durable_check = crate::expand::durable_checks_for(
        name,
        &a.storage,
        ps.iter().filter(|p| matches!(p.role, Role::Storage(StorageKind::DurableObject))).map(|p| &p.check_ty),
    );
    // A consumer names the type its batch decodes: `app!` checks producers against it.
    let msg_item = (kind == Kind::Queue).then(|| {
        let msg = ps.iter().filter(|p| matches!(p.role, Role::Batch)).find_map(|p| {
            match &last_segment(&p.check_ty)?.arguments {
                PathArguments::AngleBracketed(a) => a.args.iter().find_map(|g| match g {
                    GenericArgument::Type(t) => Some(t.clone()),
                    _ => None,
                }),
                _ => None,
            }
        });
        match msg {
            Some(t) => quote_spanned!(t.span()=> type Msg = #t;),
            None => quote!(
                type Msg = ();
            ),
        }
    });
    quote! {
        #unified

        #[doc = #doc]
        #[allow(non_camel_case_types)]
        #vis struct #name {}

        const _: () = {
            #producer_check
            #durable_check
            #(#grant_checks)*

            impl #private::#trait_ for #name {
                #msg_item
                const META: #private::#meta = #private::#meta {
                    #field: #source,
                    storage: &[#(#decls),*],
                    handler: #handler,
                    grants: &[#(#grants),*],
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
    }
}
