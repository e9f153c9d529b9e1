// A config that does not parse is reported with its file, line and column.
use layers_core::prelude::*;

#[route(GET "/", identity = Public)]
async fn home(_who: Claims<'_, Public>) -> Result<Response> {
    Ok(Response::ok("home")?)
}

app! { wrangler: "wrangler-formats/syntax.jsonc", routes: [home] }

fn main() {}
