// A Durable Object handler never receives the `Env` or the runtime's state, opens only the
// storage it declares, acts as `DurableCaller` (no `Mint`, no `Vars`), and takes one message.
use layers_core::identity::{TokenConfig, TokenSource};
use layers_core::prelude::*;

#[derive(Default)]
struct Sneaky;

#[durable_object]
impl Sneaky {
    async fn call(
        &self,
        msg: u32,
        _who: Claims<'_, DurableCaller>,
        env: layers_core::__private::worker::Env,
        db: D1<'_>,
        links: Mint<'_, Links>,
        extra: String,
    ) -> Result<u32> {
        let _ = (env, db, links, extra);
        Ok(msg)
    }
}

struct Links;
impl TokenConfig for Links {
    const SECRET: &'static str = "SIGNING_KEY";
    const PURPOSE: &'static str = "links";
    const SOURCE: TokenSource = TokenSource::Param("token");
}
// The opt-in cannot even name `DurableCaller`: it proves no one in particular.
impl MayMint<DurableCaller> for Links {}

#[derive(Default)]
struct NoClaims;

#[durable_object]
impl NoClaims {
    fn call(&mut self, msg: u32) -> u32 {
        msg
    }
}

fn main() {}
