//! What every kind of handler shares — routes, crons, queue consumers and Durable Object
//! methods: the kinds themselves, and the parameter rules and expansion they have in common (a
//! storage handle must be declared, and is taken from the handles dispatch opened with the
//! handler's claims; a handle carries the storage kinds' table from `layers-spec`).

use layers_spec::storage::StorageKind;
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, Type};

use crate::attr::StorageItem;
use crate::ctxt::Ctxt;

/// The kinds of handler layers' macros describe.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum HandlerKind {
    /// `#[route(…)]`.
    Route,
    /// `#[scheduled("cron", …)]`.
    Cron,
    /// `#[queue("name", …)]`.
    Queue,
    /// The method of a `#[durable_object]` impl.
    DurableObject,
}

impl HandlerKind {
    /// What messages call it.
    pub(crate) fn what(self) -> &'static str {
        match self {
            HandlerKind::Route | HandlerKind::DurableObject => "handler",
            HandlerKind::Cron => "cron handler",
            HandlerKind::Queue => "queue handler",
        }
    }

    /// A short example of its attribute.
    pub(crate) fn example(self) -> &'static str {
        match self {
            HandlerKind::Route => "#[route(GET \"/\", identity = Public)]",
            HandlerKind::Cron => "#[scheduled(\"0 2 * * SUN\", storage(D1))]",
            HandlerKind::Queue => "#[queue(\"reindex\", storage(D1))]",
            HandlerKind::DurableObject => "#[durable_object(storage(D1))]",
        }
    }

    /// Where its storage is declared, as messages say it.
    fn declared_in(self) -> &'static str {
        match self {
            HandlerKind::Route => "its route",
            HandlerKind::Cron | HandlerKind::Queue => "its attribute",
            HandlerKind::DurableObject => "`#[durable_object]`",
        }
    }
}

/// The storage kind a parameter's type names (`D1`, `Kv`, `Queue`…), if it names one:
/// `Some(Ok(kind))` when the handler declared that storage, `Some(Err(()))` once the undeclared
/// use is reported at the parameter.
pub(crate) fn storage_param(
    kind: HandlerKind,
    type_name: &str,
    ty: &Type,
    declared: &[StorageItem],
    cx: &mut Ctxt,
) -> Option<Result<StorageKind, ()>> {
    let storage = StorageKind::from_handle(type_name)?;
    if declared.iter().any(|s| s.kind == storage) {
        return Some(Ok(storage));
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
    Some(Err(()))
}

impl StorageItem {
    /// `StorageDecl { kind, binding }` for a handler's `META`.
    pub(crate) fn decl_tokens(&self) -> TokenStream {
        let storage = crate::paths::storage();
        let variant = format_ident!("{}", self.kind.spec().variant);
        let binding = &self.binding;
        quote!(#storage::StorageDecl { kind: #storage::StorageKind::#variant, binding: #binding })
    }
}

/// `let #arg = cx.storage().<accessor>()?;` for a handle parameter of type `ty` (the type
/// written out, at the parameter's span, where the handle carries one: `Queue<T>`,
/// `DurableObject<C>`, so a mismatch is reported there).
pub(crate) fn storage_let(kind: StorageKind, arg: &Ident, ty: &Type) -> TokenStream {
    let accessor = format_ident!("{}", kind.spec().accessor);
    if kind.spec().typed {
        quote_spanned!(ty.span()=> let #arg: #ty = cx.storage().#accessor()?;)
    } else {
        quote!(let #arg = cx.storage().#accessor()?;)
    }
}
