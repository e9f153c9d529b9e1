// An authenticated route mints a token its configuration allows it to (`MayMint<ApiKey>`).
use layers_core::identity::{MayMint, TokenConfig, TokenSource};
use layers_core::prelude::*;

struct Invite;
impl TokenConfig for Invite {
    const SECRET: &'static str = "SIGNING_KEY";
    const PURPOSE: &'static str = "invite";
    const SOURCE: TokenSource = TokenSource::Param("token");
}
impl MayMint<ApiKey> for Invite {}

#[route(POST "/invite", identity = ApiKey)]
async fn invite(who: Claims<'_, ApiKey>, vars: Vars<'_>) -> Result<Response> {
    let token = who.mint_token::<Invite>(&vars, "friend@example.com", 4_102_444_800)?;
    Ok(Response::ok(token)?)
}

app! { wrangler: "wrangler.toml", routes: [invite] }

fn main() {}
