//! What a route's description says about the data it takes and returns: the JSON Schema of
//! each extractor's type ([`ParamSchema`]) and of each declared response ([`Responds`]).
//!
//! These types exist with or without the `openapi` feature, so `#[route]` expands the same way
//! either way; only with the feature does a [`SchemaFn`] hold a schema, and only then must the
//! types implement `schemars::JsonSchema` ([`HasSchema`]).

/// Makes a type's JSON Schema (with the `openapi` feature; without it, nothing).
#[derive(Clone, Copy)]
pub struct SchemaFn {
    #[cfg(feature = "openapi")]
    make: fn(&mut schemars::SchemaGenerator) -> schemars::Schema,
}

impl std::fmt::Debug for SchemaFn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SchemaFn")
    }
}

#[cfg(feature = "openapi")]
impl SchemaFn {
    /// The schema, written into `generator` (named types become `$ref`s to its definitions).
    #[must_use]
    pub fn schema(&self, generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        (self.make)(generator)
    }
}

#[cfg(feature = "openapi")]
fn schema_of<T: schemars::JsonSchema + ?Sized>(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
    generator.subschema_for::<T>()
}

/// A type the OpenAPI document can describe. With the `openapi` feature, every type that
/// implements `schemars::JsonSchema`; without it, every type (nothing is asked).
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no JSON Schema, and the `openapi` feature describes every extractor and `responds(…)` type",
    label = "`{Self}` does not implement `schemars::JsonSchema`",
    note = "derive it next to the serde derives: `#[derive(Deserialize, schemars::JsonSchema)]` (or, to keep it out of the Worker build, `#[cfg_attr(feature = \"openapi\", derive(schemars::JsonSchema))]` with an `openapi` feature of your crate); a foreign type needs a wrapper that implements `schemars::JsonSchema`"
)]
pub trait HasSchema {
    /// How to make its schema.
    const SCHEMA: SchemaFn;
}

#[cfg(feature = "openapi")]
impl<T: schemars::JsonSchema + ?Sized> HasSchema for T {
    const SCHEMA: SchemaFn = SchemaFn { make: schema_of::<T> };
}

#[cfg(not(feature = "openapi"))]
impl<T: ?Sized> HasSchema for T {
    const SCHEMA: SchemaFn = SchemaFn {};
}

/// Which extractor a [`ParamSchema`] describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// `Path<T>`: the pattern's `:params`.
    Path,
    /// `Query<T>`: the query string.
    Query,
    /// `Json<T>`: an `application/json` body.
    Json,
    /// `Form<T>`: an `application/x-www-form-urlencoded` body.
    Form,
}

impl ParamKind {
    /// The media type of a body extractor (`None` for `Path`/`Query`).
    #[must_use]
    pub const fn media_type(self) -> Option<&'static str> {
        match self {
            ParamKind::Json => Some("application/json"),
            ParamKind::Form => Some("application/x-www-form-urlencoded"),
            ParamKind::Path | ParamKind::Query => None,
        }
    }
}

/// One extractor of a handler, with its type's schema.
#[derive(Debug, Clone, Copy)]
pub struct ParamSchema {
    /// The extractor.
    pub kind: ParamKind,
    /// The type as written (`PostPath`), for messages.
    pub type_name: &'static str,
    /// Its schema.
    pub schema: SchemaFn,
}

impl ParamSchema {
    /// The description of extractor `kind` of type `T` (what `#[route]` writes).
    #[must_use]
    pub const fn of<T: HasSchema + ?Sized>(kind: ParamKind, type_name: &'static str) -> ParamSchema {
        ParamSchema { kind, type_name, schema: T::SCHEMA }
    }
}

/// What a declared response carries (`responds(200 Json<T>)`, `responds(200 Html)`, …).
#[derive(Debug, Clone, Copy)]
pub enum Body {
    /// No body (`responds(204)`, a redirect).
    Empty,
    /// `application/json` of a type.
    Json(SchemaFn),
    /// `text/html`.
    Html,
    /// `text/plain`.
    Text,
}

/// A success response a handler declares with `responds(…)`.
#[derive(Debug, Clone, Copy)]
pub struct Responds {
    /// The status code.
    pub status: u16,
    /// What it carries.
    pub body: Body,
}

impl Responds {
    /// `status` with a JSON body of type `T` (what `#[route]` writes for `Json<T>`).
    #[must_use]
    pub const fn json<T: HasSchema + ?Sized>(status: u16) -> Responds {
        Responds { status, body: Body::Json(T::SCHEMA) }
    }
}
