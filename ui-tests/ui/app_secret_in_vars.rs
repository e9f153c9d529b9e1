// wrangler.toml lists `API_KEYS` under [vars]: the secret `ApiKey` verifies with would sit in
// the repository and be readable by every handler through `Vars`.
use layers_core::prelude::*;

#[route(GET "/api", identity = ApiKey)]
async fn api(_who: Claims<'_, ApiKey>) -> Result<Response> {
    Ok(Response::ok("api")?)
}

app! { wrangler: "secret-vars-wrangler.toml", routes: [api] }

fn main() {}
