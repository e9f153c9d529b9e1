// A handler may return a plain `Response`, or a `Result` with any error convertible to
// `layers_core::Error`.
use layers_core::prelude::*;

#[route(GET "/plain", identity = Public)]
async fn plain(_: Claims<'_, Public>) -> Response {
    Response::empty().unwrap().with_status(204)
}

#[route(GET "/worker-result", identity = Public)]
async fn worker_result(_: Claims<'_, Public>) -> worker::Result<Response> {
    Response::ok("from worker::Result")
}

app! { wrangler: "wrangler.toml", routes: [plain, worker_result] }

fn main() {}
