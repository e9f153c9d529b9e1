//! RS256 signature checks through the runtime's WebCrypto (`crypto.subtle`), for
//! [`AccessJwt`](super::AccessJwt) in Workers (wasm32 only): pure-Rust RSA compiled to wasm is
//! far slower than the runtime's native implementation.
//!
//! Only the signature moves here; the token is parsed and its claims checked in Rust exactly
//! as natively. The key handed to WebCrypto is re-encoded from the parsed, size-checked
//! [`RsaPublicKey`] (`n`, `e` only), never the JWKS entry as published. Everything fails
//! closed: a JS exception, a rejected promise or a result other than the boolean `true` is
//! "does not verify".

use std::cell::RefCell;

use base64ct::{Base64UrlUnpadded, Encoding as _};
use jwt_compact::alg::RsaPublicKey;
use rsa::traits::PublicKeyParts as _;
use worker::js_sys::{self, Array, Function, Object, Reflect, Uint8Array};
use worker::wasm_bindgen::{JsCast as _, JsValue};
use worker::wasm_bindgen_futures::JsFuture;

/// WebCrypto's name of RS256's signature scheme.
const RSASSA: &str = "RSASSA-PKCS1-v1_5";
/// Imported keys kept per isolate; the cache is emptied when it would grow past this
/// (JWKS documents hold at most a few dozen keys, and Access rotates them rarely).
const MAX_CACHED_KEYS: usize = 64;

/// Imported `CryptoKey`s by the parsed key itself (not by kid: what is trusted is the key),
/// found by comparing `n` and `e`. Kept in a [`VerifierState`](super::VerifierState) (one
/// isolate runs one thread, so a `JsValue` may live there).
pub(super) type KeyCache = RefCell<Vec<(RsaPublicKey, JsValue)>>;

/// `crypto.subtle`, its `verify` and `importKey`, and RS256's algorithm object, looked up
/// once per isolate (every verification would otherwise ask the global scope for them again).
struct Subtle {
    subtle: JsValue,
    verify: Function,
    import_key: Function,
    /// `{ name: "RSASSA-PKCS1-v1_5" }`, as `verify` takes it (never changed after it is made).
    rsassa: Object,
}

impl Subtle {
    fn find() -> Result<Subtle, JsValue> {
        let subtle = subtle()?;
        let method =
            |name: &str| -> Result<Function, JsValue> { Reflect::get(&subtle, &JsValue::from_str(name))?.dyn_into() };
        let (verify, import_key) = (method("verify")?, method("importKey")?);
        let rsassa = object(&[("name", &JsValue::from_str(RSASSA))])?;
        Ok(Subtle { subtle, verify, import_key, rsassa })
    }
}

thread_local! {
    // `None` when the runtime has no WebCrypto: every signature is then "does not verify".
    static SUBTLE: Option<Subtle> = Subtle::find().ok();
}

/// Whether `signature` is an RSASSA-PKCS1-v1_5 / SHA-256 signature (RS256) of `signing_input`
/// by `key`. A signature whose length is not the modulus length is refused before WebCrypto is
/// asked; any failure on the way is `false`.
pub(super) async fn verify_rs256(key: &RsaPublicKey, keys: &KeyCache, signing_input: &[u8], signature: &[u8]) -> bool {
    if signature.len() != key.size() {
        return false;
    }
    let Some((subtle, verify, algorithm, import_key)) = SUBTLE
        .with(|s| s.as_ref().map(|s| (s.subtle.clone(), s.verify.clone(), s.rsassa.clone(), s.import_key.clone())))
    else {
        return false;
    };
    let Ok(crypto_key) = imported(&subtle, &import_key, keys, key).await else { return false };
    // Copies into JS memory: nothing refers to wasm memory across the await.
    let (signature, data) = (Uint8Array::from(signature), Uint8Array::from(signing_input));
    let verdict = verify.call4(&subtle, &algorithm, &crypto_key, &signature, &data);
    match awaited(verdict).await {
        Ok(verdict) => verdict.as_bool() == Some(true),
        Err(_) => false,
    }
}

/// The `CryptoKey` for `key`, imported once per key cache.
async fn imported(
    subtle: &JsValue,
    import_key: &Function,
    keys: &KeyCache,
    key: &RsaPublicKey,
) -> Result<JsValue, JsValue> {
    if let Some(k) = keys.borrow().iter().find(|(known, _)| known == key).map(|(_, k)| k.clone()) {
        return Ok(k);
    }
    let n = JsValue::from_str(&Base64UrlUnpadded::encode_string(&key.n().to_bytes_be()));
    let e = JsValue::from_str(&Base64UrlUnpadded::encode_string(&key.e().to_bytes_be()));
    let jwk = object(&[
        ("kty", &JsValue::from_str("RSA")),
        ("n", &n),
        ("e", &e),
        ("alg", &JsValue::from_str("RS256")),
        ("ext", &JsValue::TRUE),
    ])?;
    let algorithm = object(&[("name", &JsValue::from_str(RSASSA)), ("hash", &JsValue::from_str("SHA-256"))])?;
    let usages = Array::of1(&JsValue::from_str("verify"));
    let args: Array =
        [JsValue::from_str("jwk"), jwk.into(), algorithm.into(), JsValue::FALSE, usages.into()].iter().collect();
    let crypto_key = awaited(Reflect::apply(import_key, subtle, &args)).await?;
    if !crypto_key.is_object() {
        return Err(JsValue::from_str("importKey gave no key"));
    }
    let mut k = keys.borrow_mut();
    // Another request may have imported the same key meanwhile.
    if !k.iter().any(|(known, _)| known == key) {
        if k.len() >= MAX_CACHED_KEYS {
            k.clear();
        }
        k.push((key.clone(), crypto_key.clone()));
    }
    Ok(crypto_key)
}

/// 16 random bytes from `crypto.getRandomValues`, or `None` when it is not available (called
/// directly: getrandom's JS backend would link its environment detection for one call).
pub(super) fn random_16() -> Option<[u8; 16]> {
    let crypto = Reflect::get(&js_sys::global(), &JsValue::from_str("crypto")).ok()?;
    let fill: Function = Reflect::get(&crypto, &JsValue::from_str("getRandomValues")).ok()?.dyn_into().ok()?;
    let buf = Uint8Array::new_with_length(16);
    fill.call1(&crypto, &buf).ok()?;
    let mut out = [0u8; 16];
    buf.copy_to(&mut out);
    Some(out)
}

/// `globalThis.crypto.subtle`.
fn subtle() -> Result<JsValue, JsValue> {
    let crypto = Reflect::get(&js_sys::global(), &JsValue::from_str("crypto"))?;
    let subtle = Reflect::get(&crypto, &JsValue::from_str("subtle"))?;
    if subtle.is_object() {
        Ok(subtle)
    } else {
        Err(JsValue::from_str("crypto.subtle is not available"))
    }
}

/// What a WebCrypto call returned (a promise), awaited; a throw is an error too.
async fn awaited(out: Result<JsValue, JsValue>) -> Result<JsValue, JsValue> {
    JsFuture::from(js_sys::Promise::resolve(&out?)).await
}

/// A plain object with these members.
fn object(members: &[(&str, &JsValue)]) -> Result<Object, JsValue> {
    let o = Object::new();
    for (name, value) in members {
        Reflect::set(&o, &JsValue::from_str(name), value)?;
    }
    Ok(o)
}
