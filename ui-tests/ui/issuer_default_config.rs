// `FederationIssuer` of layers' own default configuration: refused like a `Federation` of it.
use layers_core::identity::{DefaultFederation, FederationIssuer};
use layers_core::prelude::*;

#[route(GET "/.well-known/jwks.json", identity = Public)]
async fn jwks(_who: Claims<'_, Public>, issuer: FederationIssuer<'_, DefaultFederation>) -> Result<Response> {
    Ok(Response::from_json(&issuer.jwks()?)?)
}

fn main() {}
