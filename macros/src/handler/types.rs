//! Reading and rewriting the types of a handler's parameters: their last segment, their type
//! arguments, their lifetimes.

use proc_macro2::Span;
use syn::{FnArg, GenericArgument, Lifetime, PathArguments, Signature, Type};

use layers_spec::storage::StorageKind;

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

/// Rewrites the request-scoped parameters of `sig` to share [`SCOPE_LT`] (see there) — only when
/// it takes `After`, whose `spawn` needs its futures to live as long as the handles they hold.
/// Otherwise every elided lifetime stays its own (a handle written without one, `Kv`, gets
/// `'_`), so that when a value escapes the request (into a `static`, a `thread_local!`, a
/// `'static` future), rustc names that very parameter rather than the first one sharing a
/// lifetime with it.
pub(crate) fn unify_lifetimes(sig: &mut Signature) {
    let takes_after = sig.inputs.iter().any(|i| match i {
        FnArg::Typed(pt) => last_segment(&pt.ty).is_some_and(|s| s.ident == "After"),
        FnArg::Receiver(_) => false,
    });
    let taken = sig.generics.lifetimes().any(|l| l.lifetime.ident == "request");
    let scope = if taken { SCOPE_LT_FALLBACK } else { SCOPE_LT };
    let lt = Lifetime::new(if takes_after { scope } else { "'_" }, Span::call_site());
    let mut any = false;
    for input in &mut sig.inputs {
        if let FnArg::Typed(pt) = input {
            let scoped = last_segment(&pt.ty).is_some_and(|s| {
                let name = s.ident.to_string();
                StorageKind::from_handle(&name).is_some()
                    || matches!(
                        name.as_str(),
                        "Claims" | "Vars" | "Outbound" | "After" | "Federation" | "FederationIssuer" | "Mint" | "Batch"
                    )
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
        sig.generics.params.insert(0, syn::parse_quote!(#lt));
    }
}

/// The last path segment of a type (`D1` of `layers_core::D1<'_>`), through groups and parens.
pub(crate) fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match ty {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last(),
        Type::Group(g) => last_segment(&g.elem),
        Type::Paren(p) => last_segment(&p.elem),
        _ => None,
    }
}

/// The `'static` lifetime written in a segment's arguments, if any.
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

/// The first type argument of `ty`'s last segment: `T` of `Queue<'_, T>`, `Batch<'_, T>`,
/// `Result<T, E>`.
pub(crate) fn type_arg(ty: &Type) -> Option<Type> {
    match &last_segment(ty)?.arguments {
        PathArguments::AngleBracketed(a) => a.args.iter().find_map(|g| match g {
            GenericArgument::Type(t) => Some(t.clone()),
            _ => None,
        }),
        _ => None,
    }
}
