// Issue 22: outbound HTTP is a declared capability. `Outbound` without `outbound(…)`, and
// `outbound(…)` without `Outbound`, are refused, as are malformed declarations.
use layers_core::prelude::*;

#[route(GET "/a", identity = Public)]
async fn a(_who: Claims<'_, Public>, _out: Outbound<'_>) -> Result<Response> {
    Ok(Response::ok("a")?)
}

#[route(GET "/b", identity = Public, outbound(MAIL_URL))]
async fn b(_who: Claims<'_, Public>) -> Result<Response> {
    Ok(Response::ok("b")?)
}

#[route(GET "/c", identity = Public, outbound(public, MAIL_URL, public, mail_url, MAIL_URL))]
async fn c(_who: Claims<'_, Public>, _out: Outbound<'_>) -> Result<Response> {
    Ok(Response::ok("c")?)
}

#[route(GET "/d", identity = Public, outbound(public(deny = X)))]
async fn d(_who: Claims<'_, Public>, _out: Outbound<'_>) -> Result<Response> {
    Ok(Response::ok("d")?)
}

#[route(GET "/e", identity = Public, outbound())]
async fn e(_who: Claims<'_, Public>, _out: Outbound<'_>) -> Result<Response> {
    Ok(Response::ok("e")?)
}

fn main() {}
