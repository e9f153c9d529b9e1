// A token configuration must say which identities may mint it: an authenticated route minting a
// configuration that never opted in does not compile.
use layers_core::identity::{TokenConfig, TokenSource};
use layers_core::prelude::*;

struct Reset;
impl TokenConfig for Reset {
    const SECRET: &'static str = "SIGNING_KEY";
    const PURPOSE: &'static str = "password-reset";
    const SOURCE: TokenSource = TokenSource::Param("token");
}

#[route(POST "/mint", identity = ApiKey)]
async fn mint(who: Claims<'_, ApiKey>, vars: Vars<'_>) -> Result<Response> {
    let token = who.mint_token::<Reset>(&vars, "anyone@example.com", u64::MAX)?;
    Ok(Response::ok(token)?)
}

app! { wrangler: "wrangler.toml", routes: [mint] }

fn main() {}
