//! Checking a handler's signature against its kind and attribute, and classifying each
//! parameter into a [`Role`] — one set of rules for every kind of handler.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{FnArg, Lifetime, Signature, Type};

use super::attr::{segments, HandlerAttr};
use super::item::Item;
use super::types::{last_segment, set_lifetime, static_lifetime, type_arg};
use super::{Grant, Handler, HandlerKind, Param, Role};
use crate::ctxt::Ctxt;
use layers_spec::pattern::Seg;
use layers_spec::storage::StorageKind;

/// What a parameter's type names, before the handler's kind says whether it may take it.
enum Named {
    /// A role some kind of handler accepts.
    Role(Role),
    /// A platform object no handler receives (`Env`, `Context`, …): it would bypass the layers.
    Platform,
    /// Nothing layers knows.
    Unknown,
}

fn named(name: &str) -> Named {
    if let Some(kind) = StorageKind::from_handle(name) {
        return Named::Role(Role::Storage(kind));
    }
    Named::Role(match name {
        "Request" => Role::Request,
        "Claims" => Role::Claims,
        "Vars" => Role::Vars,
        "Outbound" => Role::Outbound,
        "After" => Role::After,
        "Mint" => Role::Grant(Grant::Mint),
        "Federation" => Role::Grant(Grant::Federation),
        "FederationIssuer" => Role::Grant(Grant::Issuer),
        "Path" | "Query" | "Cf" | "Headers" | "Cookies" => Role::Part,
        "Json" | "Form" => Role::Body,
        "Batch" => Role::Batch,
        "ObjectStorage" => Role::ObjectStorage,
        "Env" | "Context" | "ScheduleContext" | "ScheduledEvent" | "MessageBatch" | "State" => return Named::Platform,
        _ => return Named::Unknown,
    })
}

/// Why a handler of `kind` cannot take the parameter `name` (a platform object, or a role its
/// kind does not accept).
fn refusal(kind: HandlerKind, name: &str, role: Option<Role>) -> String {
    let what = kind.what();
    let accepted = kind.accepted();
    match (kind, name, role) {
        (HandlerKind::Route, "Env", _) => "handlers never receive the raw `Env`: it would reach storage without an identity. Declare storage with `storage(D1, KV)` and take the handles (`D1<'_>`, `Kv<'_>`) as parameters; read plain config with `Vars`".to_owned(),
        (HandlerKind::Route, "Context" | "ScheduleContext", _) => "handlers do not receive the Worker `Context`; to work after the response, take `After<'_>` and call `after.spawn(…)`".to_owned(),
        (HandlerKind::Route, ..) => format!("`{name}` is not something a handler can receive: {accepted}"),
        (_, _, Some(Role::Batch)) => "only a `#[queue(\"name\")]` handler receives a `Batch`".to_owned(),
        (HandlerKind::DurableObject, _, Some(_)) => format!("a Durable Object handler does not receive `{name}` (it acts as `DurableCaller`, which grants nothing beyond storage): {accepted}"),
        _ => {
            let hint = match name {
                "ScheduledEvent" => " (the cron and its scheduled time are in `who.source` and `who.time_ms`)",
                "Env" => " (it would reach storage without an identity; declare `storage(…)` and take the handles)",
                _ => "",
            };
            format!("a {what} does not receive `{name}`{hint}: {accepted}")
        }
    }
}

/// The storage kind a parameter's type names, when the handler declared it; otherwise the
/// undeclared use is reported at the parameter.
fn declared_storage(kind: HandlerKind, storage: StorageKind, ty: &Type, attr: &HandlerAttr, cx: &mut Ctxt) -> bool {
    if attr.storage.iter().any(|s| s.kind == storage) {
        return true;
    }
    let (handle, k) = (storage.spec().handle, storage.as_str());
    let suffix = if kind == HandlerKind::Route { " to the `#[route]` attribute" } else { "" };
    cx.error_spanned(
        ty,
        format!(
            "this {} takes a `{handle}` handle, but {} does not declare that storage: add `storage({k})` (or `storage({k} = \"BINDING\")`){suffix}",
            kind.what(),
            kind.declared_in()
        ),
    );
    false
}

/// The rules on the signature itself: `async`, no `const`, no variadics, no type parameters,
/// no bounded lifetimes, no `where` clause.
fn check_signature(kind: HandlerKind, sig: &Signature, cx: &mut Ctxt) {
    let plural = kind.plural();
    if sig.asyncness.is_none() {
        cx.error_spanned(sig.fn_token, format!("{plural} must be `async fn`: add `async` before `fn`"));
    }
    let noun = kind.noun();
    if let Some(c) = &sig.constness {
        cx.error_spanned(c, format!("a {noun} cannot be `const`"));
    }
    if let Some(v) = &sig.variadic {
        cx.error_spanned(v, format!("a {noun} cannot be variadic"));
    }
    for g in &sig.generics.params {
        match g {
            syn::GenericParam::Lifetime(l) if !l.bounds.is_empty() => cx.error_spanned(
                &l.bounds,
                format!("a {what}'s lifetimes cannot be bounded: the only lifetime a {what} sees is the {scope}'s, and nothing it receives outlives the {scope}. Remove the bound", what = kind.what(), scope = kind.scope()),
            ),
            syn::GenericParam::Lifetime(_) => {}
            _ => cx.error_spanned(
                g,
                format!("{plural} cannot have type or const parameters: the framework calls them with concrete types"),
            ),
        }
    }
    if let Some(w) = &sig.generics.where_clause {
        cx.error_spanned(
            w,
            format!("a {noun} cannot have a `where` clause: it takes the {scope}'s claims and handles as they are, and they never outlive the {scope}. Remove it", scope = kind.scope()),
        );
    }
}

/// Reports a second parameter of a role taken once, pointing at both.
fn taken_twice(cx: &mut Ctxt, ty: &Type, msg: String, first: Span, first_msg: &str) {
    let mut e = syn::Error::new(ty.span(), msg);
    e.combine(syn::Error::new(first, first_msg));
    cx.push(e);
}

/// Checks a parsed handler and classifies its parameters; `None` when a problem was recorded
/// in `cx` (the expansion then emits the item as written, with the errors).
pub(crate) fn check(kind: HandlerKind, attr: HandlerAttr, item: Item, cx: &mut Ctxt) -> Option<Handler> {
    let sig = item.sig();
    check_signature(kind, sig, cx);
    let what = kind.what();
    let mut params = Vec::new();
    let mut first: Vec<(Role, Span)> = Vec::new();
    let mut body_name = String::new();
    let mut has_self = false;
    for input in &sig.inputs {
        let pt = match input {
            FnArg::Receiver(r) if kind == HandlerKind::DurableObject => {
                if r.reference.is_none() || r.mutability.is_some() {
                    cx.error_spanned(r, "a Durable Object handler takes `&self` (one object serves calls concurrently: keep state in `ObjectStorage`, or in `Cell`/`RefCell` fields)");
                }
                has_self = true;
                continue;
            }
            FnArg::Receiver(r) => {
                cx.error_spanned(r, format!("a {} is a free function; it cannot take `self`", kind.noun()));
                continue;
            }
            FnArg::Typed(pt) => pt,
        };
        let ty = (*pt.ty).clone();
        let seg = last_segment(&ty);
        let name = seg.map(|s| s.ident.to_string()).unwrap_or_default();
        let role = match named(&name) {
            Named::Role(role) if kind.accepts(role) => role,
            // A Durable Object's message is any type layers does not know.
            Named::Unknown if kind == HandlerKind::DurableObject => Role::Message,
            _ if seg.is_none() => {
                let hint = if matches!(ty, Type::Reference(_)) { " (take it by value, without `&`)" } else { "" };
                cx.error_spanned(
                    &ty,
                    format!("this parameter type is not something a {what} can receive{hint}: {}", kind.accepted()),
                );
                continue;
            }
            Named::Role(role) => {
                cx.error_spanned(&ty, refusal(kind, &name, Some(role)));
                continue;
            }
            Named::Platform => {
                cx.error_spanned(&ty, refusal(kind, &name, None));
                continue;
            }
            Named::Unknown => {
                cx.error_spanned(&ty, format!("`{name}` is not something a {what} can receive: {}", kind.accepted()));
                continue;
            }
        };
        if let Some(l) = seg.and_then(static_lifetime).filter(|_| role != Role::Message) {
            let batches = if kind == HandlerKind::Queue || kind == HandlerKind::Cron { ", batches" } else { "" };
            cx.error_spanned(
                l,
                format!("`{name}` cannot be `'static`: claims{batches} and storage handles live only as long as the {}. Write `'_`", kind.scope()),
            );
        }
        // Roles taken once.
        if let Some(&(_, at)) = first.iter().find(|(r, _)| *r == role) {
            match role {
                Role::Request => {
                    taken_twice(
                        cx,
                        &ty,
                        "the request can be taken once; remove this parameter".to_owned(),
                        at,
                        "already taken here",
                    );
                    continue;
                }
                Role::Claims | Role::Batch => {
                    taken_twice(
                        cx,
                        &ty,
                        format!("a {what} takes its `{name}` once; remove this parameter"),
                        at,
                        "already taken here",
                    );
                    continue;
                }
                Role::Body => {
                    taken_twice(cx, &ty, format!("a handler reads the request body once, and `{body_name}` already reads it: take either `Json<T>` or `Form<T>`, not both (accept one content type per route)"), at, "the body is read here");
                    continue;
                }
                _ => {}
            }
        }
        first.push((role, ty.span()));
        match role {
            Role::Storage(storage) if !declared_storage(kind, storage, &ty, &attr, cx) => continue,
            Role::Part if name == "Path" => {
                if let Some((pattern, _)) =
                    attr.pattern.as_ref().filter(|(p, _)| !segments(p).iter().any(|s| matches!(s, Seg::Param(_))))
                {
                    cx.error_spanned(
                        &ty,
                        format!("`Path<T>` reads the route's `:name` parameters, but the pattern \"{pattern}\" has none: remove this parameter, or add a `:name` segment to the pattern"),
                    );
                    continue;
                }
            }
            Role::Body => body_name = name.clone(),
            Role::Batch if type_arg(&ty).is_none() => {
                cx.error_spanned(&ty, "`Batch` needs the message type: `Batch<'_, ReindexJob>`, where `ReindexJob` is a `#[derive(Deserialize)]` struct (what the producer's `Queue<'_, ReindexJob>` sends)");
                continue;
            }
            _ => {}
        }
        let mut check_ty = ty;
        if !matches!(role, Role::Part | Role::Body | Role::Message) {
            set_lifetime(&mut check_ty, &Lifetime::new("'r", Span::call_site()), true);
        }
        params.push(Param { role, check_ty });
    }
    check_required(kind, sig, &attr, &params, &first, has_self, cx);
    if cx.has_errors() {
        return None;
    }
    Some(Handler { kind, attr, item, params })
}

/// What each kind requires: its claims; a queue handler its batch; a Durable Object handler
/// `&self`, one message and a `Result<Reply>`. A route cannot take both a body extractor and
/// the `Request`.
fn check_required(
    kind: HandlerKind,
    sig: &Signature,
    attr: &HandlerAttr,
    params: &[Param],
    first: &[(Role, Span)],
    has_self: bool,
    cx: &mut Ctxt,
) {
    let span_of = |role: Role| first.iter().find(|(r, _)| *r == role).map(|(_, s)| *s);
    // `Vars` reads only what `vars(…)` lists and `Outbound` sends only what `outbound(…)`
    // declares, and what they list is what the manifest says the handler reads and calls: a
    // parameter without its key, or a key without its parameter, is a mistake.
    let paired = [
        (
            Role::Vars,
            attr.vars_span,
            "`Vars` reads only the vars the attribute lists: add `vars(NAME, …)` to it with the `[vars]` this handler reads (e.g. `vars(SITE_NAME)`)",
            "`vars(…)` lists the vars the handler reads through a `Vars` parameter, but it takes none: add `vars: Vars<'_>`, or remove `vars(…)`",
        ),
        (
            Role::Outbound,
            attr.outbound_span,
            "`Outbound` sends only what the attribute declares: add `outbound(…)` to it — `outbound(MAIL_URL)` for the service at the URL a var holds, `outbound(public)` for URLs that came from users",
            "`outbound(…)` declares the calls the handler makes through an `Outbound` parameter, but it takes none: add `out: Outbound<'_>`, or remove `outbound(…)`",
        ),
    ];
    for (role, key, without_key, without_param) in paired {
        match (span_of(role), key) {
            (Some(at), None) => cx.error_at(at, without_key),
            (None, Some(at)) if kind != HandlerKind::DurableObject => cx.error_at(at, without_param),
            _ => {}
        }
    }
    if let (Some(body), Some(request)) = (span_of(Role::Body), span_of(Role::Request)) {
        let body_name = params
            .iter()
            .find(|p| p.role == Role::Body)
            .and_then(|p| last_segment(&p.check_ty))
            .map_or_else(|| "Json".to_owned(), |s| s.ident.to_string());
        let mut e = syn::Error::new(
            body,
            format!("`{body_name}` reads the request body, so the handler cannot also take the `Request` (its body would be gone): remove the `Request` parameter and take what you need from it with `Path<T>`, `Query<T>` or `Cf`, or take only the `Request` and call `req.json().await` / `req.form().await`"),
        );
        e.combine(syn::Error::new(request, "the `Request` is taken here"));
        cx.push(e);
    }
    if span_of(Role::Claims).is_none() {
        let msg = match kind {
            HandlerKind::Route => {
                let ident = attr
                    .identity
                    .as_ref()
                    .map_or_else(|| "V".to_owned(), |t| quote::quote!(#t).to_string().replace(' ', ""));
                format!("this handler takes no `Claims`: add a parameter `who: Claims<'_, {ident}>`. The route's identity is verified before the handler runs and the proof is passed in (name it `_` if unused)")
            }
            HandlerKind::Cron | HandlerKind::Queue => format!("this {} takes no `Claims`: add a parameter `who: Claims<'_, System>`. Platform events run as `System`, and storage opens only with that proof (name it `_` if unused)", kind.what()),
            HandlerKind::DurableObject => "this handler takes no `Claims`: add `who: Claims<'_, DurableCaller>` (storage opens only with that proof; name it `_` if unused)".to_owned(),
        };
        cx.error_spanned(&sig.ident, msg);
    }
    if kind == HandlerKind::Queue && span_of(Role::Batch).is_none() {
        cx.error_spanned(&sig.ident, "this queue handler takes no messages: add a parameter `batch: Batch<'_, ReindexJob>`, where `ReindexJob` is the `#[derive(Deserialize)]` message type its producers send");
    }
    if kind == HandlerKind::DurableObject {
        if !has_self {
            cx.error_spanned(&sig.ident, "a Durable Object handler is a method: take `&self` first");
        }
        let messages = params.iter().filter(|p| p.role == Role::Message).count();
        if messages != 1 {
            cx.error_spanned(&sig.ident, format!("a Durable Object handler takes exactly one message parameter (a `Serialize + Deserialize` type callers send), found {messages}: {}", kind.accepted()));
        }
        if reply_type(sig).is_none() {
            cx.error_spanned(&sig.output, "a Durable Object handler returns `Result<Reply>` (or `Result<Reply, E>` with `E: Into<layers_core::Error>`), `Reply` being what callers receive");
        }
    }
}

/// The `Reply` of a Durable Object handler's `Result<Reply, …>`.
pub(crate) fn reply_type(sig: &Signature) -> Option<Type> {
    let syn::ReturnType::Type(_, ty) = &sig.output else { return None };
    if last_segment(ty)?.ident != "Result" {
        return None;
    }
    type_arg(ty)
}
