// A body-reading verifier and a handler that takes the verified body.
use layers_core::identity::VerifyCx;
use layers_core::prelude::*;

struct Signed;

impl Verifier for Signed {
    type Claims = usize;
    const NAME: &'static str = "Signed";
    const BODY: bool = true;
    async fn verify(cx: &VerifyCx<'_>) -> std::result::Result<usize, Deny> {
        cx.body().map(<[u8]>::len).ok_or_else(|| Deny::missing("no body"))
    }
}

#[route(POST "/hook", identity = Signed)]
async fn hook(mut req: Request, who: Claims<'_, Signed>) -> Result<Response> {
    let body = req.bytes().await?;
    assert_eq!(body.len(), *who);
    Ok(Response::ok("ok")?)
}

fn main() {}
