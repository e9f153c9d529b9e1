// A token configuration must say which identities may mint it: an authenticated route minting a
// configuration that never opted in does not compile, and neither does a cron.
use layers_core::identity::{TokenConfig, TokenSource};
use layers_core::prelude::*;

struct Reset;
impl TokenConfig for Reset {
    const SECRET: &'static str = "SIGNING_KEY";
    const PURPOSE: &'static str = "password-reset";
    const SOURCE: TokenSource = TokenSource::Param("token");
}

#[route(POST "/mint", identity = ApiKey)]
async fn mint(_who: Claims<'_, ApiKey>, resets: Mint<'_, Reset>) -> Result<Response> {
    Ok(Response::ok(resets.mint("anyone@example.com", u64::MAX)?)?)
}

#[scheduled("0 2 * * SUN")]
async fn weekly(_who: Claims<'_, System>, resets: Mint<'_, Reset>) -> Result<()> {
    resets.mint("anyone@example.com", u64::MAX).map(|_| ())
}

fn main() {}
