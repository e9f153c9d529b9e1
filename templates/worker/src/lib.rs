//! {{name}}: a Cloudflare Worker written with layers.
//!
//! Every route says who may call it (`identity = …`) and which storage it may open
//! (`storage(…)`); the handler's `Claims` can only be made by that identity's verifier, and the
//! storage handles are only opened with those claims in hand.

#![forbid(unsafe_code)]

use layers_core::prelude::*;
use serde::Deserialize;

/// The body of `POST /notes`.
#[derive(Debug, Deserialize)]
pub struct NewNote {
    /// The note's text.
    pub body: String,
}

/// The home page: anyone may call it.
#[route(GET "/", identity = Public)]
pub async fn home(_who: Claims<'_, Public>) -> Result<Response> {
    Ok(Response::ok("hello from {{name}}")?)
}

/// Adds a note, as the API key that called (its label, from the `API_KEYS` secret:
/// `label:key,…`). 401 without a key, 403 with a wrong one — before D1 is opened.
#[route(POST "/notes", identity = ApiKey, storage(D1))]
pub async fn add_note(Json(note): Json<NewNote>, who: Claims<'_, ApiKey>, db: D1<'_>) -> Result<Response> {
    let body = note.body.trim();
    if body.is_empty() || body.len() > 10_000 {
        return Err(Error::problem(400, "field `body` must hold 1 to 10000 bytes"));
    }
    db.prepare("INSERT INTO notes (body, author) VALUES (?1, ?2)").bind(&[&body, &who.label]).run().await?;
    Ok(Response::empty()?.with_status(201))
}

app! { routes: [home, add_note] }
