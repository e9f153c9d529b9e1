//! Prints the reference app's OpenAPI 3.1 document (what `cargo xtask openapi` writes):
//! `cargo run -p app --features openapi --example openapi`.

fn main() {
    println!("{:#}", app::openapi());
}
