//! The JS glue for bindings workers-rs does not wrap (Vectorize) or wraps by constructor name
//! (Workers AI): the binding is read from the `Env` as a plain JS object and its methods are
//! called by name. Anything with the same methods works — the real binding, or a local
//! stand-in behind an RPC service binding (`tests/standin/`).
//!
//! Arguments go in as JSON (`JSON.parse` of what `serde_json` wrote, so objects stay plain
//! objects) and results come back as `serde_json::Value`, with typed arrays
//! (`Float32Array`, `Float64Array`) read as plain arrays.

use serde_json::{Map, Number, Value};
use worker::js_sys::{self, Array, Function, Object, Reflect, JSON};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;

/// How deep a result may nest before the rest is cut (results are data, not graphs).
const MAX_DEPTH: usize = 32;

/// A binding object from the `Env`, called by method name.
pub(crate) struct JsBinding {
    obj: JsValue,
}

impl JsBinding {
    /// Reads `env[binding]`; an error when it is missing.
    pub(crate) fn open(env: &worker::Env, binding: &str) -> Result<JsBinding, String> {
        let env: &JsValue = env.as_ref();
        let obj = Reflect::get(env, &JsValue::from_str(binding))
            .map_err(|e| format!("cannot read binding `{binding}`: {}", describe(&e)))?;
        if obj.is_undefined() || obj.is_null() {
            return Err(format!("binding `{binding}` is not bound in this Worker"));
        }
        Ok(JsBinding { obj })
    }

    /// Calls `binding.method(...args)` and awaits its result if it is a promise.
    pub(crate) async fn call(&self, method: &str, args: &[Value]) -> Result<Value, String> {
        let f = Reflect::get(&self.obj, &JsValue::from_str(method))
            .map_err(|e| format!("cannot read method `{method}`: {}", describe(&e)))?;
        if !f.is_function() {
            return Err(format!("the binding has no method `{method}`"));
        }
        let f: Function = f.unchecked_into();
        let js_args = Array::new();
        for a in args {
            js_args.push(&to_js(a)?);
        }
        // `Reflect.apply`, not `f.apply(…)`: on an RPC stub (a service binding) every property,
        // `apply` included, is a remote call.
        let out = Reflect::apply(&f, &self.obj, &js_args).map_err(|e| format!("`{method}` threw: {}", describe(&e)))?;
        let out = JsFuture::from(js_sys::Promise::resolve(&out))
            .await
            .map_err(|e| format!("`{method}` failed: {}", describe(&e)))?;
        Ok(to_json(&out, 0))
    }
}

/// A JSON value as a plain JS value.
fn to_js(v: &Value) -> Result<JsValue, String> {
    let text = serde_json::to_string(v).map_err(|e| format!("cannot encode arguments: {e}"))?;
    JSON::parse(&text).map_err(|e| format!("cannot encode arguments: {}", describe(&e)))
}

/// A JS value as JSON: typed arrays become arrays, non-finite numbers and functions `null`.
fn to_json(v: &JsValue, depth: usize) -> Value {
    if depth > MAX_DEPTH || v.is_undefined() || v.is_null() || v.is_function() {
        return Value::Null;
    }
    if let Some(b) = v.as_bool() {
        return Value::Bool(b);
    }
    if let Some(n) = v.as_f64() {
        return number(n);
    }
    if let Some(s) = v.as_string() {
        return Value::String(s);
    }
    if Array::is_array(v) || js_sys::ArrayBuffer::is_view(v) {
        // `Array.from` copies typed arrays (Float32Array, …) into a plain array.
        return Value::Array(Array::from(v).iter().map(|x| to_json(&x, depth + 1)).collect());
    }
    if v.is_object() {
        let mut m = Map::new();
        for entry in Object::entries(v.unchecked_ref::<Object>()).iter() {
            let pair: Array = entry.unchecked_into();
            if let Some(k) = pair.get(0).as_string() {
                m.insert(k, to_json(&pair.get(1), depth + 1));
            }
        }
        return Value::Object(m);
    }
    Value::Null
}

/// A JS number as JSON: integral values (within 2^53) as integers, so that counts decode as
/// `u64`; other finite values as floats; NaN and infinities as `null`.
pub(crate) fn number(n: f64) -> Value {
    const SAFE: f64 = 9_007_199_254_740_992.0;
    if n.is_finite() && n.fract() == 0.0 && n.abs() <= SAFE {
        // In range and integral: the casts are exact.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        return if n >= 0.0 { Value::from(n as u64) } else { Value::from(n as i64) };
    }
    Number::from_f64(n).map_or(Value::Null, Value::Number)
}

/// A thrown JS value as text for the log (an `Error`'s message, else its string form).
fn describe(e: &JsValue) -> String {
    let msg = e
        .dyn_ref::<js_sys::Error>()
        .map(|err| String::from(err.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| "unknown error".to_owned());
    // Platform messages are short; keep log lines bounded whatever arrives.
    msg.chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::number;

    #[test]
    fn numbers_keep_integers_integral() {
        assert_eq!(number(3.0), json!(3));
        assert!(number(3.0).is_u64());
        assert_eq!(number(-2.0), json!(-2));
        assert_eq!(number(-0.0), json!(0));
        assert_eq!(number(0.5), json!(0.5));
        assert!(number(9_007_199_254_740_992.0).is_u64());
        assert!(number(1e300).is_f64());
        assert_eq!(number(f64::NAN), json!(null));
        assert_eq!(number(f64::INFINITY), json!(null));
        // A count read back from JS decodes as u64.
        assert_eq!(serde_json::from_value::<u64>(number(3.0)).unwrap(), 3);
        assert_eq!(serde_json::from_value::<Vec<f32>>(json!([number(1.0), number(0.25)])).unwrap(), [1.0, 0.25]);
    }
}
