// Nobody but the platform entry points makes `Claims<System>` or its data.
use layers_core::identity::SystemClaims;
use layers_core::prelude::*;

fn main() {
    let data = SystemClaims { event: "scheduled", source: "0 2 * * SUN".into(), time_ms: 0 };
    let _forged = Claims::<System>::new(data);
}
