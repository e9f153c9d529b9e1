// The capability laundering the opt-in closes: a verifier of the app's own that accepts everyone,
// marked as authenticating, opted in to mint layers' *default* token configuration — whose
// tokens any `SignedToken` route of any app accepts. Orphan rules allow the impl (the verifier is
// local), so the route's grant check refuses it: only configurations the app defines can be
// minted.
use layers_core::identity::{Authenticates, DefaultToken, Deny, MayMint, VerifyCx};
use layers_core::prelude::*;

struct Everyone;
impl Verifier for Everyone {
    type Claims = ();
    const NAME: &'static str = "Everyone";
    async fn verify(_: &VerifyCx<'_>) -> std::result::Result<(), Deny> {
        Ok(())
    }
}
impl Authenticates for Everyone {}
impl MayMint<Everyone> for DefaultToken {}

#[route(GET "/mint", identity = Everyone)]
async fn mint(_who: Claims<'_, Everyone>, tokens: Mint<'_, DefaultToken>) -> Result<Response> {
    Ok(Response::ok(tokens.mint("admin@example.com", u64::MAX)?)?)
}

fn main() {}
