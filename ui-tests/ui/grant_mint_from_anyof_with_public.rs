// A composition that lets anyone through (`AnyOf<Public, _>`) cannot mint either.
use layers_core::identity::{MayMint, TokenConfig, TokenSource};
use layers_core::prelude::*;

struct Confirm;
impl TokenConfig for Confirm {
    const SECRET: &'static str = "SIGNING_KEY";
    const PURPOSE: &'static str = "confirm";
    const SOURCE: TokenSource = TokenSource::Param("token");
}
impl MayMint<ApiKey> for Confirm {}

#[route(GET "/mint", identity = AnyOf<Public, ApiKey>)]
async fn mint(_who: Claims<'_, AnyOf<Public, ApiKey>>, confirm: Mint<'_, Confirm>) -> Result<Response> {
    Ok(Response::ok(confirm.mint("anyone@example.com", u64::MAX)?)?)
}

fn main() {}
