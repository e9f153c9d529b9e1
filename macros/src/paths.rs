//! The absolute paths the expansion uses: nothing relative, nothing the user's scope can shadow.

use proc_macro2::TokenStream;
use quote::quote;

pub(crate) fn private() -> TokenStream {
    quote!(::layers_core::__private)
}

pub(crate) fn pattern() -> TokenStream {
    quote!(::layers_core::request::pattern)
}

pub(crate) fn storage() -> TokenStream {
    quote!(::layers_core::storage)
}
