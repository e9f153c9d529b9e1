//! Test-only crate: see `tests/ui.rs`.
//!
//! * `ui/*.rs`: programs that misuse layers, each with the `.stderr` the compiler must print.
//! * `pass/*.rs`: programs that use layers correctly and must compile.
