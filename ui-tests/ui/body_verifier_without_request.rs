// A verifier that checks a signature over the raw body (like a webhook) needs a handler that
// takes the `Request`, or the verified body would never reach it.
use layers_core::identity::VerifyCx;
use layers_core::prelude::*;

struct Signed;

impl Verifier for Signed {
    type Claims = ();
    const NAME: &'static str = "Signed";
    const BODY: bool = true;
    async fn verify(cx: &VerifyCx<'_>) -> std::result::Result<(), Deny> {
        cx.body().map(|_| ()).ok_or_else(|| Deny::missing("no body"))
    }
}

#[route(POST "/hook", identity = Signed)]
async fn hook(_who: Claims<'_, Signed>) -> Result<Response> {
    Ok(Response::ok("ok")?)
}

fn main() {}
