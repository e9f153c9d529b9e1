//! The subscriber API (all `ApiKey`): `GET /api/subscribers` (keyset pages), `POST
//! /api/subscribers` and its typed (`Json`) and `Form` variants, `POST /api/subscribers/import`
//! (one D1 batch), `DELETE /api/subscribers/:email`, and `GET /api/unsubscribed` (the KV
//! unsubscribe markers).

use layers_core::prelude::*;
use serde::{Deserialize, Serialize};

use crate::email;

#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
struct Subscriber {
    email: String,
    status: String,
}

/// Page size of `GET /api/subscribers` when `limit` is not given.
const SUBSCRIBERS_PAGE: u32 = 100;
/// The largest page `GET /api/subscribers` serves.
const SUBSCRIBERS_PAGE_MAX: u32 = 1000;

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub(crate) struct SubscriberPage {
    /// Rows per page: 1 to [`SUBSCRIBERS_PAGE_MAX`], default [`SUBSCRIBERS_PAGE`].
    limit: Option<u32>,
    /// Keyset cursor: the `next` of the previous page (rows with a greater email follow).
    cursor: Option<String>,
}

/// Lists subscribers in email order, one bounded page at a time (API key required):
/// `?limit=N` (1–1000, default 100) and `?cursor=<next of the previous page>`, as the admin
/// lists do. The reply's `next` is the cursor of the following page, or `null` on the last one.
#[route(GET "/api/subscribers", identity = ApiKey, storage(D1 because(FixedSchema, ComplexSql, "subscribers")), responds(200 Json<SubscribersPage>))]
pub(crate) async fn list_subscribers(
    Query(page): Query<SubscriberPage>,
    key: Claims<'_, ApiKey>,
    db: D1<'_>,
) -> Result<Response> {
    let limit = page.limit.unwrap_or(SUBSCRIBERS_PAGE);
    if !(1..=SUBSCRIBERS_PAGE_MAX).contains(&limit) {
        return Err(Error::problem(400, "`limit` must be 1 to 1000"));
    }
    let after = page.cursor.unwrap_or_default();
    // One row more than the page shows whether another page follows.
    let mut rows: Vec<Subscriber> = db
        .prepare("SELECT email, status FROM subscribers WHERE email > ?1 ORDER BY email LIMIT ?2")
        .bind(&[&after, &(limit + 1)])
        .all()
        .await?;
    let next = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(|r| r.email.clone())
    } else {
        None
    };
    Ok(Response::from_json(&SubscribersPage { key: key.label.clone(), subscribers: rows, next })?)
}

/// A page of `GET /api/subscribers`.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub(crate) struct SubscribersPage {
    /// The label of the API key that asked.
    key: String,
    /// The subscribers, in email order.
    subscribers: Vec<Subscriber>,
    /// The cursor of the following page, `null` on the last one.
    next: Option<String>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub(crate) struct NewSubscriber {
    email: String,
}

/// Adds a subscriber (API key required). Adding an existing one is not an error.
#[route(POST "/api/subscribers", identity = ApiKey, storage(D1 because(FixedSchema, "subscribers")))]
pub async fn add_subscriber(mut req: Request, _key: Claims<'_, ApiKey>, db: D1<'_>) -> Result<Response> {
    let body: NewSubscriber = req.json().await?;
    insert_subscriber(&db, &body.email, || Error::bad_request("invalid email")).await
}

#[derive(Debug, Deserialize)]
struct Import {
    emails: Vec<String>,
    /// Every address must be new: one already subscribed fails its INSERT inside the batch,
    /// and the whole import is refused (409 problem+json) with nothing written.
    #[serde(default)]
    strict: bool,
}

/// Adds a subscriber from a typed JSON body: a wrong content type is 415, more than 1 MiB 413,
/// a missing or mistyped field 400, each as `application/problem+json`.
#[route(POST "/api/subscribers/typed", identity = ApiKey, storage(D1 because(FixedSchema, "subscribers")))]
pub(crate) async fn add_subscriber_typed(
    Json(body): Json<NewSubscriber>,
    _key: Claims<'_, ApiKey>,
    db: D1<'_>,
) -> Result<Response> {
    insert_subscriber(&db, &body.email, invalid_email_field).await
}

/// The same from an HTML form (`application/x-www-form-urlencoded`).
#[route(POST "/api/subscribers/form", identity = ApiKey, storage(D1 because(FixedSchema, "subscribers")))]
pub(crate) async fn add_subscriber_form(
    Form(body): Form<NewSubscriber>,
    _key: Claims<'_, ApiKey>,
    db: D1<'_>,
) -> Result<Response> {
    insert_subscriber(&db, &body.email, invalid_email_field).await
}

/// The typed routes' 400 for an address that does not normalize.
fn invalid_email_field() -> Error {
    Error::problem(400, "field `email` is not a valid address")
}

/// Inserts (or reactivates) `email`, 201 with the number of rows changed; `invalid` is the
/// error for an address that does not normalize.
async fn insert_subscriber(db: &D1<'_>, email: &str, invalid: impl FnOnce() -> Error) -> Result<Response> {
    let Some(email) = email::normalize(email) else {
        return Err(invalid());
    };
    let now = layers_core::log::now_ms() / 1000;
    let info = db
        .prepare("INSERT INTO subscribers (email, status, created_at) VALUES (?1, 'active', ?2) ON CONFLICT(email) DO UPDATE SET status = 'active', unsubscribed_at = NULL")
        .bind(&[&email, &now])
        .run()
        .await?;
    let resp = Response::from_json(&serde_json::json!({ "email": email, "changes": info.changes }))?;
    Ok(resp.with_status(201))
}

/// Imports many subscribers in one D1 batch (one implicit transaction): either every address
/// is valid and all land, or the request is refused and none do. With `"strict": true` an
/// address that is already subscribed makes its statement fail inside the batch (a `UNIQUE`
/// violation, caught by D1, not by a check here): 409 `application/problem+json`, and the
/// statements before it in the batch are rolled back.
#[route(POST "/api/subscribers/import", identity = ApiKey, storage(D1 because(FixedSchema, Transactions, "a batch import, all or nothing")))]
pub async fn import_subscribers(mut req: Request, _key: Claims<'_, ApiKey>, db: D1<'_>) -> Result<Response> {
    let body: Import = req.json().await?;
    if body.emails.is_empty() || body.emails.len() > 100 {
        return Err(Error::bad_request("send between 1 and 100 emails"));
    }
    let normalized: Vec<Option<String>> = body.emails.iter().map(|e| email::normalize(e)).collect();
    if let Some(bad) = normalized.iter().position(Option::is_none) {
        return Err(Error::bad_request(format!("emails[{bad}] is not a valid email")));
    }
    let emails: Vec<String> = normalized.into_iter().flatten().collect();
    let now = layers_core::log::now_ms() / 1000;
    let sql = if body.strict {
        "INSERT INTO subscribers (email, status, created_at) VALUES (?1, 'active', ?2)"
    } else {
        "INSERT INTO subscribers (email, status, created_at) VALUES (?1, 'active', ?2) ON CONFLICT(email) DO NOTHING"
    };
    let statements = emails.iter().map(|e| db.prepare(sql).bind(&[e, &now])).collect();
    let results = db.batch(statements).await?;
    let added: u64 = results.iter().map(|r| r.changes).sum();
    Ok(Response::from_json(&serde_json::json!({ "received": emails.len(), "added": added }))?)
}

/// Forgets a subscriber entirely: the D1 row and the KV unsubscribe marker.
#[route(DELETE "/api/subscribers/:email", identity = ApiKey, storage(D1 because(FixedSchema, "subscribers"), KV because(Sessions, EventualConsistencyOk, "the record of recent unsubscribes")))]
pub async fn delete_subscriber(req: Request, _key: Claims<'_, ApiKey>, db: D1<'_>, kv: Kv<'_>) -> Result<Response> {
    // Not validated again: rows stored before the current rules must stay deletable.
    let email = email::canonical(req.param("email").unwrap_or_default());
    let info = db.prepare("DELETE FROM subscribers WHERE email = ?1").bind(&[&email]).run().await?;
    kv.delete(&format!("unsubscribed:{email}")).await?;
    if info.changes == 0 {
        return Err(Error::not_found());
    }
    Ok(Response::from_json(&serde_json::json!({ "deleted": email }))?)
}

/// Lists the KV unsubscribe markers (paginated with `?cursor=`).
#[route(GET "/api/unsubscribed", identity = ApiKey, storage(KV because(PrefixListing, EventualConsistencyOk, "recent unsubscribes, listed by prefix")))]
pub async fn list_unsubscribed(req: Request, _key: Claims<'_, ApiKey>, kv: Kv<'_>) -> Result<Response> {
    let page = kv.list("unsubscribed:", 100, req.query("cursor")).await?;
    let emails: Vec<&str> = page.keys.iter().filter_map(|k| k.strip_prefix("unsubscribed:")).collect();
    Ok(Response::from_json(&serde_json::json!({ "emails": emails, "cursor": page.cursor }))?)
}
