// A handler may return a plain `Response`, or a `Result` with any error convertible to
// `layers_core::Error`.
use layers_core::prelude::*;

#[route(GET "/plain", identity = Public)]
async fn plain(_: Claims<'_, Public>) -> Response {
    Response::empty().unwrap().with_status(204)
}

/// An error of the app's own.
struct NotReady;

impl From<NotReady> for Error {
    fn from(_: NotReady) -> Error {
        Error::new(503, "not ready")
    }
}

#[route(GET "/own-error", identity = Public)]
async fn own_error(_: Claims<'_, Public>) -> std::result::Result<Response, NotReady> {
    Err(NotReady)
}

app! { wrangler: "wrangler.toml", routes: [plain, own_error] }

fn main() {}
