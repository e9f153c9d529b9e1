//! Every path the expansions emit into the user's crate, from one place: absolute, through
//! `::layers_core` (an app depends on layers-core alone), nothing the user's scope can shadow.
//!
//! Each comes in two forms: at the macro's call site, and `…_at(span)` with every token at a
//! span of the user's code, for checks whose failure rustc should report there (a grant at its
//! parameter, a handler's return type).

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};

/// `::layers_core`.
pub(crate) fn core() -> TokenStream {
    quote!(::layers_core)
}

/// `::layers_core::__private`: what the expansions call (not a public API).
pub(crate) fn private() -> TokenStream {
    quote!(::layers_core::__private)
}

/// `::layers_core::__private` at `span`.
pub(crate) fn private_at(span: Span) -> TokenStream {
    quote_spanned!(span=> ::layers_core::__private)
}

/// `::layers_core::request::pattern`.
pub(crate) fn pattern() -> TokenStream {
    quote!(::layers_core::request::pattern)
}

/// `::layers_core::storage`.
pub(crate) fn storage() -> TokenStream {
    quote!(::layers_core::storage)
}

/// `::layers_core::identity` at `span`.
pub(crate) fn identity_at(span: Span) -> TokenStream {
    quote_spanned!(span=> ::layers_core::identity)
}

/// The runtime's bindings crates, through layers-core's re-exports: `wasm_bindgen`,
/// `wasm_bindgen_futures`, `js_sys` and `worker`.
pub(crate) fn wasm_bindgen() -> TokenStream {
    quote!(::layers_core::__private::wasm_bindgen)
}

/// `::layers_core::__private::wasm_bindgen_futures`.
pub(crate) fn wasm_bindgen_futures() -> TokenStream {
    quote!(::layers_core::__private::wasm_bindgen_futures)
}

/// `::layers_core::__private::js_sys`.
pub(crate) fn js_sys() -> TokenStream {
    quote!(::layers_core::__private::js_sys)
}

/// `::layers_core::__private::worker`.
pub(crate) fn worker() -> TokenStream {
    quote!(::layers_core::__private::worker)
}
