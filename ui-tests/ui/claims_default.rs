// Promise 2: claims have no `Default`.
use layers_core::prelude::*;

fn main() {
    let _anyone: Claims<'static, Public> = Default::default();
}
