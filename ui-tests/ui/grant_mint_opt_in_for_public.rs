// The opt-in itself cannot name `Public`, nor a composition containing it.
use layers_core::identity::{MayMint, TokenConfig, TokenSource};
use layers_core::prelude::*;

struct Confirm;
impl TokenConfig for Confirm {
    const SECRET: &'static str = "SIGNING_KEY";
    const PURPOSE: &'static str = "confirm";
    const SOURCE: TokenSource = TokenSource::Param("token");
}
impl MayMint<Public> for Confirm {}
impl MayMint<AnyOf<ApiKey, Public>> for Confirm {}

fn main() {}
