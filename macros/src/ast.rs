//! The typed model of a handler: what each parameter is, with its span kept.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{FnArg, GenericArgument, ItemFn, Lifetime, PathArguments, Type};

use crate::attr::RouteAttr;
use crate::ctxt::Ctxt;
use crate::handler::{storage_param, HandlerKind};
use layers_spec::pattern::Seg;
use layers_spec::storage::StorageKind;

pub(crate) enum Role {
    Request,
    Claims,
    Storage(StorageKind),
    Vars,
    After,
    /// `Mint<'_, C>` or `Federation<'_, C>`: what the proof grants beyond storage.
    Grant(&'static str),
    /// `Path<T>`, `Query<T>`, `Cf`, `Headers`, `Cookies`: read from the request head.
    Parts,
    /// `Json<T>`, `Form<T>`: read the body (at most one per handler).
    Body,
}

pub(crate) struct Param {
    pub(crate) role: Role,
    /// The type as written, with every lifetime replaced by the expansion's `'r` (for the
    /// generated checks, which live in a fn generic over `'r`).
    pub(crate) check_ty: Type,
}

/// The lifetime every request-scoped parameter of a handler taking `After` shares once
/// `#[route]` has rewritten the signature: `Claims<'_, V>`, `D1<'_>`, `Kv`, `Vars`, `After`,
/// `Federation<'_, C>` all become `…<'request>`, so the handler can move a handle into
/// `after.spawn(…)` without naming lifetimes (see [`unify_lifetimes`]).
/// (Named so that rustc's messages read "lifetime `'request` defined here"; a handler that
/// declares a `'request` of its own gets [`SCOPE_LT_FALLBACK`].)
pub(crate) const SCOPE_LT: &str = "'request";
/// [`SCOPE_LT`] when the handler already names a lifetime `'request`.
pub(crate) const SCOPE_LT_FALLBACK: &str = "'__layers_request";

/// Sets the lifetime of the last path segment of `ty`: replaces `'_` (or any lifetime, when
/// `all`) with `lt`, or inserts `lt` first when the segment has none.
pub(crate) fn set_lifetime(ty: &mut Type, lt: &Lifetime, all: bool) -> bool {
    let seg = match ty {
        Type::Path(p) if p.qself.is_none() => match p.path.segments.last_mut() {
            Some(s) => s,
            None => return false,
        },
        Type::Group(g) => return set_lifetime(&mut g.elem, lt, all),
        Type::Paren(p) => return set_lifetime(&mut p.elem, lt, all),
        _ => return false,
    };
    match &mut seg.arguments {
        PathArguments::None => {
            seg.arguments = PathArguments::AngleBracketed(syn::parse_quote!(<#lt>));
            true
        }
        PathArguments::AngleBracketed(a) => {
            let mut found = false;
            let mut changed = false;
            for arg in &mut a.args {
                if let GenericArgument::Lifetime(l) = arg {
                    found = true;
                    if l.ident == "_" || all {
                        *l = lt.clone();
                        changed = true;
                    }
                }
            }
            if !found {
                a.args.insert(0, GenericArgument::Lifetime(lt.clone()));
                changed = true;
            }
            changed
        }
        PathArguments::Parenthesized(_) => false,
    }
}

/// Rewrites the request-scoped parameters of `f` to share [`SCOPE_LT`] (see there) — only when
/// it takes `After`, whose `spawn` needs its futures to live as long as the handles they hold.
/// Otherwise every elided lifetime stays its own (a handle written without one, `Kv`, gets
/// `'_`), so that when a value escapes the request (into a `static`, a `thread_local!`, a
/// `'static` future), rustc names that very parameter rather than the first one sharing a
/// lifetime with it.
pub(crate) fn unify_lifetimes(f: &mut ItemFn) {
    let takes_after = f.sig.inputs.iter().any(|i| match i {
        FnArg::Typed(pt) => last_segment(&pt.ty).is_some_and(|s| s.ident == "After"),
        FnArg::Receiver(_) => false,
    });
    let taken = f.sig.generics.lifetimes().any(|l| l.lifetime.ident == "request");
    let scope = if taken { SCOPE_LT_FALLBACK } else { SCOPE_LT };
    let lt = Lifetime::new(if takes_after { scope } else { "'_" }, Span::call_site());
    let mut any = false;
    for input in &mut f.sig.inputs {
        if let FnArg::Typed(pt) = input {
            let scoped = last_segment(&pt.ty).is_some_and(|s| {
                let name = s.ident.to_string();
                StorageKind::from_handle(&name).is_some()
                    || matches!(name.as_str(), "Claims" | "Vars" | "After" | "Federation" | "Mint" | "Batch")
            });
            // Without `After`, a lifetime the user wrote (`'_` included) stays as written, with
            // its own span, for rustc to point at.
            let has_lifetime = last_segment(&pt.ty).is_some_and(|s| match &s.arguments {
                PathArguments::AngleBracketed(a) => a.args.iter().any(|g| matches!(g, GenericArgument::Lifetime(_))),
                _ => false,
            });
            if scoped && (takes_after || !has_lifetime) && set_lifetime(&mut pt.ty, &lt, false) {
                any = true;
            }
        }
    }
    if any && takes_after {
        f.sig.generics.params.insert(0, syn::parse_quote!(#lt));
    }
}

const ACCEPTED: &str = "a handler's parameters are `Request`, `Claims<'_, V>` (required), `Vars`, `After`, the grants `Mint<'_, C>` and `Federation<'_, C>`, the extractors `Path<T>`, `Query<T>`, `Cf`, `Headers`, `Cookies` and one body extractor (`Json<T>` or `Form<T>`), and the storage handles its route declares in `storage(…)` (`D1<'_>`, `Kv<'_>`, `Queue<'_, T>`, `R2<'_>`, `Cache<'_>`, `AnalyticsEngine<'_>`, `DurableObject<'_>`, `Ai<'_>`, `Vectorize<'_>`)";

pub(crate) fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match ty {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last(),
        Type::Group(g) => last_segment(&g.elem),
        Type::Paren(p) => last_segment(&p.elem),
        _ => None,
    }
}

pub(crate) fn static_lifetime(seg: &syn::PathSegment) -> Option<&Lifetime> {
    if let PathArguments::AngleBracketed(a) = &seg.arguments {
        for arg in &a.args {
            if let GenericArgument::Lifetime(l) = arg {
                if l.ident == "static" {
                    return Some(l);
                }
            }
        }
    }
    None
}

/// `ty` with every lifetime of its last segment made `'static`: a grant parameter's type as
/// the route's `META` names it (`Mint<'static, C>`), to read its `GrantParam::GRANT`.
pub(crate) fn static_type(ty: &Type) -> Type {
    let mut t = ty.clone();
    set_lifetime(&mut t, &Lifetime::new("'static", Span::call_site()), true);
    t
}

/// Classifies every parameter of `f`, checking the signature against the attribute.
pub(crate) fn params(f: &ItemFn, attr: &RouteAttr, cx: &mut Ctxt) -> Vec<Param> {
    let sig = &f.sig;
    if sig.asyncness.is_none() {
        cx.error_spanned(sig.fn_token, "route handlers must be `async fn`: add `async` before `fn`");
    }
    if let Some(c) = &sig.constness {
        cx.error_spanned(c, "a route handler cannot be `const`");
    }
    if let Some(v) = &sig.variadic {
        cx.error_spanned(v, "a route handler cannot be variadic");
    }
    for g in &sig.generics.params {
        if let syn::GenericParam::Lifetime(l) = g {
            if !l.bounds.is_empty() {
                cx.error_spanned(
                    &l.bounds,
                    "a handler's lifetimes cannot be bounded: the only lifetime a handler sees is the request's, and nothing it receives outlives the request. Remove the bound",
                );
            }
        }
        if !matches!(g, syn::GenericParam::Lifetime(_)) {
            cx.error_spanned(
                g,
                "route handlers cannot have type or const parameters: the framework calls them with concrete types",
            );
        }
    }
    if let Some(w) = &sig.generics.where_clause {
        cx.error_spanned(
            w,
            "a route handler cannot have a `where` clause: it takes the request's claims and handles as they are, and they never outlive the request. Remove it",
        );
    }
    let mut out = Vec::new();
    let mut seen_claims: Option<Span> = None;
    let mut seen_request: Option<Span> = None;
    let mut seen_body: Option<(Span, String)> = None;
    for input in &sig.inputs {
        let pt = match input {
            FnArg::Receiver(r) => {
                cx.error_spanned(r, "a route handler is a free function; it cannot take `self`");
                continue;
            }
            FnArg::Typed(pt) => pt,
        };
        let ty = (*pt.ty).clone();
        let Some(seg) = last_segment(&ty) else {
            let hint = if matches!(ty, Type::Reference(_)) { " (take it by value, without `&`)" } else { "" };
            cx.error_spanned(
                &ty,
                format!("this parameter type is not something a handler can receive{hint}: {ACCEPTED}"),
            );
            continue;
        };
        let name = seg.ident.to_string();
        if let Some(l) = static_lifetime(seg) {
            cx.error_spanned(
                l,
                format!("`{name}` cannot be `'static`: claims and storage handles live only as long as the request. Write `'_`"),
            );
        }
        let role = match name.as_str() {
            "Request" => {
                if let Some(first) = seen_request {
                    let mut e = syn::Error::new(ty.span(), "the request can be taken once; remove this parameter");
                    e.combine(syn::Error::new(first, "already taken here"));
                    cx.push(e);
                    continue;
                }
                seen_request = Some(ty.span());
                Role::Request
            }
            "Claims" => {
                if let Some(first) = seen_claims {
                    let mut e = syn::Error::new(ty.span(), "a handler takes its `Claims` once; remove this parameter");
                    e.combine(syn::Error::new(first, "already taken here"));
                    cx.push(e);
                    continue;
                }
                seen_claims = Some(ty.span());
                Role::Claims
            }
            "Path" | "Query" | "Cf" | "Headers" | "Cookies" => {
                let no_params = attr
                    .pattern
                    .as_ref()
                    .filter(|(p, _)| !crate::attr::segments(p).iter().any(|s| matches!(s, Seg::Param(_))));
                if let (true, Some((pattern, ..))) = (name == "Path", no_params) {
                    cx.error_spanned(
                        &ty,
                        format!("`Path<T>` reads the route's `:name` parameters, but the pattern \"{pattern}\" has none: remove this parameter, or add a `:name` segment to the pattern"),
                    );
                    continue;
                }
                Role::Parts
            }
            "Json" | "Form" => {
                if let Some((first, first_name)) = &seen_body {
                    let mut e = syn::Error::new(
                        ty.span(),
                        format!("a handler reads the request body once, and `{first_name}` already reads it: take either `Json<T>` or `Form<T>`, not both (accept one content type per route)"),
                    );
                    e.combine(syn::Error::new(*first, "the body is read here"));
                    cx.push(e);
                    continue;
                }
                seen_body = Some((ty.span(), name.clone()));
                Role::Body
            }
            "Vars" => Role::Vars,
            "After" => Role::After,
            "Federation" => Role::Grant("Federation"),
            "Mint" => Role::Grant("Mint"),
            "Env" => {
                cx.error_spanned(
                    &ty,
                    "handlers never receive the raw `Env`: it would reach storage without an identity. Declare storage with `storage(D1, KV)` and take the handles (`D1<'_>`, `Kv<'_>`) as parameters; read plain config with `Vars`",
                );
                continue;
            }
            "Context" | "ScheduleContext" => {
                cx.error_spanned(&ty, "handlers do not receive the Worker `Context`; to work after the response, take `After<'_>` and call `after.spawn(…)`");
                continue;
            }
            other => {
                if let Some(storage) = storage_param(HandlerKind::Route, other, &ty, &attr.storage, cx) {
                    match storage {
                        Ok(k) => Role::Storage(k),
                        Err(()) => continue,
                    }
                } else {
                    cx.error_spanned(&ty, format!("`{other}` is not something a handler can receive: {ACCEPTED}"));
                    continue;
                }
            }
        };
        let mut check_ty = ty;
        if !matches!(role, Role::Parts | Role::Body) {
            set_lifetime(&mut check_ty, &Lifetime::new("'r", Span::call_site()), true);
        }
        out.push(Param { role, check_ty });
    }
    if let (Some((body, body_name)), Some(request)) = (&seen_body, seen_request) {
        let mut e = syn::Error::new(
            *body,
            format!("`{body_name}` reads the request body, so the handler cannot also take the `Request` (its body would be gone): remove the `Request` parameter and take what you need from it with `Path<T>`, `Query<T>` or `Cf`, or take only the `Request` and call `req.json().await` / `req.form().await`"),
        );
        e.combine(syn::Error::new(request, "the `Request` is taken here"));
        cx.push(e);
    }
    if seen_claims.is_none() {
        let ident =
            attr.identity.as_ref().map_or_else(|| "V".to_owned(), |t| quote::quote!(#t).to_string().replace(' ', ""));
        cx.error_spanned(
            &sig.ident,
            format!("this handler takes no `Claims`: add a parameter `who: Claims<'_, {ident}>`. The route's identity is verified before the handler runs and the proof is passed in (name it `_` if unused)"),
        );
    }
    out
}
