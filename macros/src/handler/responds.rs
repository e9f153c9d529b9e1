//! A route's `responds(STATUS [BODY], …)`: the success responses its handler declares, for the
//! OpenAPI document. `BODY` is `Json<T>` (`application/json` of `T`, which must implement
//! `schemars::JsonSchema` when layers' `openapi` feature is on), `Html`, `Text`, or nothing
//! (`responds(204)`, `responds(303)`).

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::parse::ParseStream;
use syn::spanned::Spanned;
use syn::{LitInt, Token, Type};

use super::types::{last_segment, type_arg};
use crate::ctxt::Ctxt;

/// What a declared response carries.
#[derive(Clone)]
pub(crate) enum RespondsBody {
    /// No body.
    Empty,
    /// `Json<T>`: the `T`.
    Json(Box<Type>),
    /// `Html`.
    Html,
    /// `Text`.
    Text,
}

/// One entry of `responds(…)`.
#[derive(Clone)]
pub(crate) struct RespondsItem {
    pub(crate) status: u16,
    pub(crate) body: RespondsBody,
}

const GRAMMAR: &str =
    "`responds(…)` lists status codes, each with what it carries: `responds(200 Json<Post>, 201 Html, 204)` — `Json<T>`, `Html`, `Text`, or nothing";

/// Parses `(…)` after the `responds` key, appending to `out` and recording problems in `cx`.
pub(crate) fn parse_responds(input: ParseStream<'_>, out: &mut Vec<RespondsItem>, cx: &mut Ctxt) -> syn::Result<()> {
    let content;
    syn::parenthesized!(content in input);
    if content.is_empty() {
        cx.error_at(content.span(), format!("empty `responds()`: {GRAMMAR}"));
    }
    while !content.is_empty() {
        let lit: LitInt = content.parse().map_err(|e| syn::Error::new(e.span(), GRAMMAR))?;
        let body = if content.is_empty() || content.peek(Token![,]) {
            RespondsBody::Empty
        } else {
            let ty: Type = content.parse()?;
            body_of(&ty, cx)
        };
        match lit.base10_parse::<u16>() {
            Ok(status @ 100..=599) => {
                if out.iter().any(|r| r.status == status) {
                    cx.error_spanned(&lit, format!("status {status} is declared twice in `responds(…)`"));
                } else {
                    out.push(RespondsItem { status, body });
                }
            }
            _ => cx.error_spanned(&lit, "an HTTP status code is a number from 100 to 599"),
        }
        if content.is_empty() {
            break;
        }
        content.parse::<Token![,]>()?;
    }
    Ok(())
}

fn body_of(ty: &Type, cx: &mut Ctxt) -> RespondsBody {
    let name = last_segment(ty).map(|s| s.ident.to_string()).unwrap_or_default();
    match (name.as_str(), type_arg(ty)) {
        ("Json", Some(inner)) => RespondsBody::Json(Box::new(inner)),
        ("Html", None) => RespondsBody::Html,
        ("Text", None) => RespondsBody::Text,
        _ => {
            cx.error_spanned(ty, format!("unknown response body: {GRAMMAR}"));
            RespondsBody::Empty
        }
    }
}

/// The `&[Responds]` of a route's `META`: a `Json<T>`'s schema is asked of `T` at its span, so
/// a type without one is reported where it is written.
pub(crate) fn responds_tokens(items: &[RespondsItem], private: &TokenStream) -> Vec<TokenStream> {
    items
        .iter()
        .map(|r| {
            let status = r.status;
            match &r.body {
                RespondsBody::Json(ty) => {
                    quote_spanned!(ty.span()=> #private::Responds::json::<#ty>(#status))
                }
                RespondsBody::Empty => quote!(#private::Responds { status: #status, body: #private::Body::Empty }),
                RespondsBody::Html => quote!(#private::Responds { status: #status, body: #private::Body::Html }),
                RespondsBody::Text => quote!(#private::Responds { status: #status, body: #private::Body::Text }),
            }
        })
        .collect()
}
