//! The app's OpenAPI 3.1 document, generated from the same route table dispatch uses.
//!
//! Always here: what `#[route]` writes about a handler's data ([`ParamSchema`], [`Responds`]),
//! kept empty of schemas unless the `openapi` feature is on. With the feature,
//! `document` (with the feature) describes an app: each route's method and path (`:param` → `{param}`, a trailing
//! `*` → `{rest}`), its extractors' schemas (`Path<T>`, `Query<T>`, `Json<T>`, `Form<T>`, from
//! `schemars::JsonSchema`), the success responses declared with `responds(…)`, the error
//! responses layers itself produces (RFC 9457 `application/problem+json` for the extractors and
//! the handler's own `Error::problem`, plain text for denials and the body limit), and the
//! identity's security scheme ([`Verifier::openapi_security`](crate::Verifier::openapi_security)).
//!
//! The reference app's document comes from `cargo xtask openapi`; the guide's page is
//! `docs/openapi.md`.

#[cfg(feature = "openapi")]
mod document;
mod schema;
#[cfg(feature = "openapi")]
mod security;

pub use schema::{Body, HasSchema, ParamKind, ParamSchema, Responds, SchemaFn};

#[cfg(feature = "openapi")]
pub use document::{document, Info};
#[cfg(feature = "openapi")]
pub use security::{requirement_and_schemes, scheme_object};
