//! Entry points for the fuzzers in `fuzz/` (feature `fuzzing`; never enabled in a Worker build):
//! thin wrappers over crate-private decoders, so the fuzzers reach exactly the code the
//! extractors run without widening the public API.

use serde::de::DeserializeOwned;

use crate::error::Error;
pub use crate::identity::fuzz_check_unsigned;

/// What [`Json<T>`](crate::Json) does with a body once its content type and size passed.
///
/// # Errors
/// The 400 problem the extractor answers with.
pub fn json_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
    crate::request::extract::from_json(body)
}

/// What [`Query<T>`](crate::Query) and [`Form<T>`](crate::Form) do with the text.
///
/// # Errors
/// The 400 problem the extractor answers with.
pub fn urlencoded<T: DeserializeOwned>(text: &str) -> Result<T, Error> {
    crate::request::extract::from_urlencoded(text, "query")
}

/// What [`Path<T>`](crate::Path) does with the route's parameters.
///
/// # Errors
/// The 400 problem the extractor answers with.
pub fn path_params<T: DeserializeOwned>(params: &[(&'static str, String)]) -> Result<T, Error> {
    crate::request::extract::from_params(params)
}

/// The redaction applied to serde's messages before they reach a client.
#[must_use]
pub fn safe_detail(msg: &str) -> String {
    crate::request::extract::safe_detail(msg)
}
