// Promise 4: a handle cannot be assembled from a binding by hand.
#![allow(unreachable_code)]

use std::marker::PhantomData;
use std::rc::Rc;

use layers_core::prelude::*;

fn side_door(env: &layers_core::__private::worker::Env) -> D1<'static> {
    D1 { db: Rc::new(env.d1("DB").unwrap()), binding: "DB", log: panic!("conjured"), scope: PhantomData }
}

fn main() {
    let _ = side_door;
}
