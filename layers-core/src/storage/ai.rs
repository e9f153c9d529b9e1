//! Workers AI: run a model on typed or raw-JSON input.
//!
//! The binding is called through its JS object (`env.AI.run(model, input)`), not through
//! `worker::Ai`, whose lookup checks the JS constructor name: so the same handle works with the
//! real `[ai]` binding and with any object that has a `run(model, input)` method (the local
//! stand-in the e2e tests bind under the same name). Each call logs one storage line with the
//! binding, `op: "run"`, the model name and the time taken — never the input or the output.
//!
//! JSON answers only: streamed (`stream: true`) and binary outputs (images, audio) are not
//! supported by this handle.

use std::marker::PhantomData;
use std::rc::Rc;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use super::open::{Opens, Site};
use super::StorageKind;
use crate::error::Error;
use crate::log::{now_ms, LogCx};
use crate::storage::js_binding::JsBinding;

/// Longest model name accepted (Workers AI names are like `@cf/meta/llama-3.1-8b-instruct`).
pub const MAX_MODEL_NAME: usize = 128;

/// A Workers AI handle, valid for the current request.
#[derive(Clone)]
pub struct Ai<'r> {
    ai: Rc<JsBinding>,
    binding: &'static str,
    log: Rc<LogCx>,
    scope: PhantomData<fn(&'r ()) -> &'r ()>,
}

impl std::fmt::Debug for Ai<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ai").field("binding", &self.binding).finish_non_exhaustive()
    }
}

/// Why `model` is not a model name: empty, too long, or holding anything but ASCII letters,
/// digits and `@ / . _ - :` (so a name is always safe to log).
pub(crate) fn model_problem(model: &str) -> Option<&'static str> {
    if model.is_empty() {
        return Some("the model name is empty");
    }
    if model.len() > MAX_MODEL_NAME {
        return Some("the model name is too long");
    }
    if !model.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'@' | b'/' | b'.' | b'_' | b'-' | b':')) {
        return Some("the model name holds characters model names do not have");
    }
    None
}

impl<'r> Opens<'r> for Ai<'r> {
    const KIND: StorageKind = StorageKind::Ai;

    /// Opens the binding — only with the route's claims in hand.
    fn open<V: crate::identity::Verifier>(
        site: &Site<'_>,
        binding: &'static str,
        _proof: &crate::identity::Claims<'r, V>,
        log: Rc<LogCx>,
    ) -> Result<Self, Error> {
        let ai =
            JsBinding::open(site.env, binding).map_err(|e| Error::internal(format!("AI binding {binding}: {e}")))?;
        Ok(Ai { ai: Rc::new(ai), binding, log, scope: PhantomData })
    }
}

impl<'r> Ai<'r> {
    /// The binding name this handle was opened from.
    #[must_use]
    pub fn binding(&self) -> &'static str {
        self.binding
    }

    /// Runs `model` on `input` (serialized to JSON) and decodes its answer as `O`.
    ///
    /// # Errors
    /// A 400 problem for a malformed model name; a 500 (detail logged) when the input does
    /// not serialize, the model fails, or its answer does not decode as `O`.
    pub async fn run<I: Serialize + ?Sized, O: DeserializeOwned>(&self, model: &str, input: &I) -> Result<O, Error> {
        let input = serde_json::to_value(input).map_err(|e| {
            Error::internal(format!("AI input for {model}: {}", crate::events::redact_quoted(&e.to_string())))
        })?;
        let out = self.run_json(model, &input).await?;
        serde_json::from_value(out).map_err(|e| {
            Error::internal(format!(
                "AI answer of {model} does not decode: {}",
                crate::events::redact_quoted(&e.to_string())
            ))
        })
    }

    /// Runs `model` on a raw JSON `input` and returns its raw JSON answer.
    ///
    /// # Errors
    /// A 400 problem for a malformed model name; a 500 (detail logged) when the model fails.
    pub async fn run_json(&self, model: &str, input: &Value) -> Result<Value, Error> {
        if let Some(p) = model_problem(model) {
            self.log.storage_with("Ai", self.binding, "run", 0, Some(p), &[]);
            return Err(Error::problem(400, p));
        }
        let t0 = now_ms();
        let r = self.ai.call("run", &[Value::String(model.to_owned()), input.clone()]).await;
        let ms = now_ms().saturating_sub(t0);
        self.log.storage_with(
            "Ai",
            self.binding,
            "run",
            ms,
            r.as_ref().err().map(String::as_str),
            &[("model", model.into())],
        );
        r.map_err(|e| Error::internal(format!("AI run {model}: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::model_problem;

    #[test]
    fn model_names() {
        assert_eq!(model_problem("@cf/meta/llama-3.1-8b-instruct"), None);
        assert_eq!(model_problem("@cf/baai/bge-small-en-v1.5"), None);
        assert_eq!(model_problem("@hf/thebloke/model:v1_2"), None);
        assert!(model_problem("").is_some());
        assert!(model_problem(&"a".repeat(129)).is_some());
        assert_eq!(model_problem(&"a".repeat(128)), None);
        assert!(model_problem("model name").is_some());
        assert!(model_problem("m\"odel").is_some());
        assert!(model_problem("m\nodel").is_some());
        assert!(model_problem("modèle").is_some());
    }
}
