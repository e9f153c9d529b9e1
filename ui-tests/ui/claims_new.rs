// Promise 2: the constructor the framework uses is not public.
use layers_core::identity::ApiKeyClaims;
use layers_core::prelude::*;

fn main() {
    let _forged = Claims::<ApiKey>::new(ApiKeyClaims { label: "root".into() });
}
