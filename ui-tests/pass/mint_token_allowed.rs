// Minting where a configuration of the app opts in: an API-key route (`MayMint<ApiKey>`), and a
// cron (`MayMint<System>`) minting the same configuration through its own opt-in.
use layers_core::identity::{MayMint, TokenConfig, TokenSource};
use layers_core::prelude::*;

struct Invite;
impl TokenConfig for Invite {
    const SECRET: &'static str = "SIGNING_KEY";
    const PURPOSE: &'static str = "invite";
    const SOURCE: TokenSource = TokenSource::Param("token");
}
impl MayMint<ApiKey> for Invite {}
impl MayMint<System> for Invite {}

#[route(POST "/invite", identity = ApiKey)]
async fn invite(_who: Claims<'_, ApiKey>, invites: Mint<'_, Invite>) -> Result<Response> {
    let token = invites.mint("friend@example.com", 4_102_444_800)?;
    Ok(Response::ok(token)?)
}

#[scheduled("0 2 * * SUN")]
async fn weekly(_who: Claims<'_, System>, invites: Mint<'_, Invite>) -> Result<()> {
    let _token = invites.mint("friend@example.com", 4_102_444_800)?;
    Ok(())
}

app! { wrangler: "cron-wrangler.toml", routes: [invite], crons: [weekly] }

fn main() {}
