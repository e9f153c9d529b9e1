// Promise 4: storage is opened by the framework only; `D1::open` is not public, not even to
// code that holds claims and an `Env`.
#![allow(unreachable_code)]

use layers_core::prelude::*;

fn open_by_hand<'r>(env: &layers_core::__private::worker::Env, who: &Claims<'r, ApiKey>) -> Result<D1<'r>> {
    D1::open(env, "DB", who, panic!("conjured"))
}

fn main() {
    let _ = open_by_hand;
}
