// Promise 2: claims cannot be read from JSON (or any other serde format).
use layers_core::prelude::*;

fn main() {
    let _ = serde_json::from_str::<Claims<'static, Public>>("null");
}
