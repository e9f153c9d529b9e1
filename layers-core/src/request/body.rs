//! Reading a request body with a size limit, chunk by chunk from its stream.

use crate::error::Error;

/// Reads `stream` to its end, keeping at most `limit` bytes: from the first chunk that would pass
/// `limit` on, nothing more is copied into wasm memory, the rest is read and dropped, and the
/// answer is 413.
pub(crate) async fn read_stream_limited(
    stream: &worker::web_sys::ReadableStream,
    limit: usize,
) -> Result<Vec<u8>, Error> {
    use worker::js_sys::{Function, Promise, Reflect, Uint8Array};
    use worker::wasm_bindgen::{JsCast, JsValue};
    let unreadable = |e: &JsValue| {
        let why = e.as_string().or_else(|| Reflect::get(e, &"message".into()).ok().and_then(|m| m.as_string()));
        Error::bad_request("unreadable body").with_detail(why.unwrap_or_else(|| "the body stream failed".to_owned()))
    };
    let call = |target: &JsValue, method: &str| -> Result<JsValue, Error> {
        let f: Function =
            Reflect::get(target, &method.into()).and_then(JsCast::dyn_into).map_err(|e| unreadable(&e))?;
        f.call0(target).map_err(|e| unreadable(&e))
    };
    let reader = call(stream, "getReader")?;
    let mut body = Vec::new();
    let mut too_large = false;
    loop {
        let next = call(&reader, "read")?;
        let result =
            worker::wasm_bindgen_futures::JsFuture::from(Promise::resolve(&next)).await.map_err(|e| unreadable(&e))?;
        if Reflect::get(&result, &"done".into()).ok().and_then(|d| d.as_bool()).unwrap_or(true) {
            return if too_large { Err(Error::new(413, "payload too large")) } else { Ok(body) };
        }
        let chunk: Uint8Array = Reflect::get(&result, &"value".into())
            .ok()
            .and_then(|v| v.dyn_into().ok())
            .ok_or_else(|| Error::bad_request("unreadable body").with_detail("a body chunk is not bytes"))?;
        let n = chunk.length() as usize;
        if too_large || body.len() + n > limit {
            // Past the limit nothing more is copied into wasm memory; the rest of the upload is
            // read and dropped on the JavaScript side, then refused. (Answering with the body
            // half read breaks the stream under `wrangler dev`'s proxy; workerd itself would
            // let it go.)
            too_large = true;
            body = Vec::new();
            continue;
        }
        let start = body.len();
        body.resize(start + n, 0);
        chunk.copy_to(&mut body[start..]);
    }
}
