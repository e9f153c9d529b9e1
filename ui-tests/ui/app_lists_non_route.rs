// Promise 7: `app!` lists `#[route]` handlers only.
use layers_core::prelude::*;

struct NotARoute;

app! { wrangler: "wrangler.toml", routes: [NotARoute] }

fn main() {}
