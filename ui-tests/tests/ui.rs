//! Misuse of layers must not compile; correct use must.

/// Without the `openapi` feature (the cases assume it off: their types have no schemas).
#[cfg(not(feature = "openapi"))]
#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/*.rs");
    t.pass("pass/*.rs");
}

/// With layers-core's `openapi` feature: every extractor and `responds(… Json<T>)` type needs a
/// JSON Schema (`cargo test -p ui-tests --features openapi`).
#[cfg(feature = "openapi")]
#[test]
fn ui_openapi() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui-openapi/*.rs");
    t.pass("pass-openapi/*.rs");
}
