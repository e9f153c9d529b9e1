// Promise 2: claims cannot be forged by writing the struct out.
use std::marker::PhantomData;

use layers_core::prelude::*;

fn forge() -> Claims<'static, Public> {
    Claims { data: (), scope: PhantomData }
}

fn main() {
    let _ = forge();
}
