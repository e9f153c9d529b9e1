// The signing secret of a token a handler mints is a secret too: under [vars] it is refused.
use layers_core::identity::{TokenConfig, TokenSource, Turnstile};
use layers_core::prelude::*;

struct Confirm;
impl TokenConfig for Confirm {
    const SECRET: &'static str = "SIGNING_KEY";
    const PURPOSE: &'static str = "confirm";
    const SOURCE: TokenSource = TokenSource::Param("token");
}
impl MayMint<Turnstile> for Confirm {}

#[route(POST "/subscribe", identity = Turnstile)]
async fn subscribe(req: Request, _who: Claims<'_, Turnstile>, confirm: Mint<'_, Confirm>) -> Result<Response> {
    let _ = req;
    Ok(Response::ok(confirm.mint("ada@example.com", u64::MAX)?)?)
}

app! { wrangler: "secret-vars-wrangler.toml", routes: [subscribe] }

fn main() {}
