// Issue 22: the var an `outbound(…)` declaration reads is under `[vars]` of wrangler's config
// (in every deployment), like the names of `vars(…)`.
use layers_core::prelude::*;

#[route(POST "/hook", identity = ApiKey, outbound(HOOK_URL))]
async fn hook(_who: Claims<'_, ApiKey>, out: Outbound<'_>) -> Result<Response> {
    Ok(Response::ok(out.url("HOOK_URL")?)?)
}

app! { wrangler: "../pass/wrangler.toml", routes: [hook] }

fn main() {}
