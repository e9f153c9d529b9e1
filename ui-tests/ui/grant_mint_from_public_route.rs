// A route anyone can call cannot mint credentials, even for a configuration that allows minting
// from some other identity.
use layers_core::identity::{MayMint, TokenConfig, TokenSource};
use layers_core::prelude::*;

struct Confirm;
impl TokenConfig for Confirm {
    const SECRET: &'static str = "SIGNING_KEY";
    const PURPOSE: &'static str = "confirm";
    const SOURCE: TokenSource = TokenSource::Param("token");
}
impl MayMint<ApiKey> for Confirm {}

#[route(GET "/mint", identity = Public)]
async fn mint(_who: Claims<'_, Public>, confirm: Mint<'_, Confirm>) -> Result<Response> {
    Ok(Response::ok(confirm.mint("anyone@example.com", u64::MAX)?)?)
}

fn main() {}
