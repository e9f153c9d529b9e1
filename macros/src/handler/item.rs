//! The item a handler macro annotates: the `async fn` of a route, cron or queue consumer, or
//! the `impl` block of a Durable Object class holding its one method.

use proc_macro2::{Span, TokenStream};
use quote::{quote, ToTokens};
use syn::{Ident, ImplItem, ItemFn, ItemImpl, Signature, Type};

use super::types::unify_lifetimes;
use super::HandlerKind;
use crate::ctxt::Ctxt;

/// The annotated item, parsed.
pub(crate) enum Item {
    /// A route's, cron handler's or queue consumer's fn.
    Fn(ItemFn),
    /// A Durable Object class: its inherent `impl`, the class (the struct's name), and the index
    /// of its one method in `imp.items`.
    Impl { imp: ItemImpl, class: Ident, method: usize },
}

impl Item {
    /// Parses the item `kind` goes on and checks its shape (a Durable Object's: an inherent
    /// impl of a plain struct, holding one method); `None` once the problem is in `cx`.
    pub(crate) fn parse(kind: HandlerKind, tokens: TokenStream, cx: &mut Ctxt) -> Option<Item> {
        match kind {
            HandlerKind::Route => syn::parse2(tokens)
                .map_err(|e| cx.error_at(e.span(), format!("`#[route]` goes on an `async fn` handler: {e}")))
                .ok()
                .map(Item::Fn),
            HandlerKind::Cron | HandlerKind::Queue => syn::parse2(tokens)
                .map_err(|e| cx.error_at(e.span(), format!("`{}` goes on an `async fn`: {e}", kind.example())))
                .ok()
                .map(Item::Fn),
            HandlerKind::DurableObject => {
                let Ok(imp) = syn::parse2::<ItemImpl>(tokens) else {
                    cx.error_at(Span::call_site(), "`#[durable_object]` goes on the `impl` block of a `Default` struct holding its one handler: `#[durable_object] impl RateLimiter { async fn call(&self, msg: Hit, who: Claims<'_, DurableCaller>, store: ObjectStorage<'_>) -> Result<Answer> { … } }`");
                    return None;
                };
                let class = match &*imp.self_ty {
                    Type::Path(p) if p.qself.is_none() && imp.generics.params.is_empty() && imp.trait_.is_none() => {
                        p.path.segments.last().map(|s| s.ident.clone())
                    }
                    _ => None,
                };
                let Some(class) = class else {
                    cx.error_spanned(&imp.self_ty, "`#[durable_object]` goes on an inherent `impl` of a plain struct (no generics, no trait): the struct's name is the class name");
                    return None;
                };
                let fns: Vec<usize> = imp
                    .items
                    .iter()
                    .enumerate()
                    .filter(|(_, i)| matches!(i, ImplItem::Fn(_)))
                    .map(|(i, _)| i)
                    .collect();
                if fns.len() != 1 {
                    cx.error_spanned(&imp.self_ty, format!("a `#[durable_object]` impl holds exactly one method, the handler (found {}): put helpers in another `impl {class}` block", fns.len()));
                    return None;
                }
                Some(Item::Impl { imp, class, method: fns[0] })
            }
        }
    }

    /// The handler's signature.
    pub(crate) fn sig(&self) -> &Signature {
        match self {
            Item::Fn(f) => &f.sig,
            Item::Impl { imp, method, .. } => match &imp.items[*method] {
                ImplItem::Fn(m) => &m.sig,
                _ => unreachable!("`method` indexes a fn"),
            },
        }
    }

    /// The name `app!` lists: the fn's, or the class's.
    pub(crate) fn name(&self) -> &Ident {
        match self {
            Item::Fn(f) => &f.sig.ident,
            Item::Impl { class, .. } => class,
        }
    }

    /// The item with the handler's request-scoped lifetimes unified (see
    /// [`unify_lifetimes`]): what the expansion emits in place of the user's item.
    pub(crate) fn unified(&self) -> TokenStream {
        match self {
            Item::Fn(f) => {
                let mut f = f.clone();
                unify_lifetimes(&mut f.sig);
                f.to_token_stream()
            }
            Item::Impl { imp, method, .. } => {
                let mut imp = imp.clone();
                if let ImplItem::Fn(m) = &mut imp.items[*method] {
                    unify_lifetimes(&mut m.sig);
                }
                imp.to_token_stream()
            }
        }
    }
}

impl ToTokens for Item {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        match self {
            Item::Fn(f) => f.to_tokens(tokens),
            Item::Impl { imp, .. } => tokens.extend(quote!(#imp)),
        }
    }
}
