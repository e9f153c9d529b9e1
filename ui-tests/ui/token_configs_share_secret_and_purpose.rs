// Two token configurations on one secret with one purpose: a password-reset link would also
// confirm a subscription (and back). `app!` refuses it, naming both.
use layers_core::identity::{SignedToken, TokenConfig, TokenSource};
use layers_core::prelude::*;

struct Confirm;
impl TokenConfig for Confirm {
    const SECRET: &'static str = "SIGNING_KEY";
    const PURPOSE: &'static str = "token";
    const SOURCE: TokenSource = TokenSource::Param("token");
    const NAME: &'static str = "Confirm";
}

struct Reset;
impl TokenConfig for Reset {
    const SECRET: &'static str = "SIGNING_KEY";
    const PURPOSE: &'static str = "token";
    const SOURCE: TokenSource = TokenSource::Query("t");
    const NAME: &'static str = "Reset";
}
impl MayMint<ApiKey> for Reset {}

#[route(GET "/confirm/:token", identity = SignedToken<Confirm>)]
async fn confirm(_who: Claims<'_, SignedToken<Confirm>>) -> Result<Response> {
    Ok(Response::ok("confirmed")?)
}

#[route(POST "/reset", identity = ApiKey)]
async fn reset(_who: Claims<'_, ApiKey>, links: Mint<'_, Reset>) -> Result<Response> {
    Ok(Response::ok(links.mint("ada@example.com", u64::MAX)?)?)
}

app! { wrangler: "wrangler.toml", routes: [confirm, reset] }

fn main() {}
