//! The layers reference Worker (for now a small one; the full blog comes later).
//!
//! | route | identity | storage |
//! |---|---|---|
//! | `GET /` | Public | D1 |
//! | `GET /posts/:slug` | Public | D1 |
//! | `GET /api/subscribers` | ApiKey | D1 |
//! | `POST /api/subscribers` | ApiKey | D1 |
//! | `POST /api/subscribers/import` | ApiKey | D1 (batch) |
//! | `DELETE /api/subscribers/:email` | ApiKey | D1, KV |
//! | `GET /api/unsubscribed` | ApiKey | KV (list) |
//! | `GET\|POST /api/unsubscribe/:token` | SignedToken (purpose `unsubscribe`) | D1, KV |

#![forbid(unsafe_code)]

use layers_core::identity::{TokenConfig, TokenSource};
use layers_core::prelude::*;
use serde::{Deserialize, Serialize};

/// Unsubscribe links: HMAC-signed email + expiry, read from the `:token` path segment.
pub struct Unsubscribe;

impl TokenConfig for Unsubscribe {
    const SECRET: &'static str = "SIGNING_KEY";
    const PURPOSE: &'static str = "unsubscribe";
    const SOURCE: TokenSource = TokenSource::Param("token");
    const NAME: &'static str = "SignedToken<Unsubscribe>";
}

/// The verifier of unsubscribe links.
pub type UnsubscribeToken = SignedToken<Unsubscribe>;

#[derive(Debug, Serialize, Deserialize)]
struct PostRow {
    slug: String,
    title: String,
    body: String,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The home page: every post, newest first.
#[route(GET "/", identity = Public, storage(D1))]
pub async fn home(_who: Claims<'_, Public>, db: D1<'_>, vars: Vars<'_>) -> Result<Response> {
    let posts: Vec<PostRow> = db.prepare("SELECT slug, title, body FROM posts ORDER BY created_at DESC").all().await?;
    let site = vars.get("SITE_NAME").unwrap_or_else(|| "layers".into());
    let mut html = format!("<!doctype html><title>{0}</title><h1>{0}</h1><ul>", escape(&site));
    for p in &posts {
        html.push_str(&format!("<li><a href=\"/posts/{}\">{}</a></li>", escape(&p.slug), escape(&p.title)));
    }
    html.push_str("</ul>");
    Ok(Response::from_html(html)?)
}

#[derive(Debug, Deserialize)]
struct PostPage {
    title: String,
    body: String,
    views: i64,
}

/// One post. The view counter is bumped *after* the response is sent, by a task that
/// keeps using this request's D1 handle (`After` keeps the request's scope alive).
#[route(GET "/posts/:slug", identity = Public, storage(D1))]
pub async fn post(req: Request, _who: Claims<'_, Public>, db: D1<'_>, after: After<'_>) -> Result<Response> {
    let slug = req.param("slug").unwrap_or_default().to_owned();
    let row: Option<PostPage> =
        db.prepare("SELECT title, body, views FROM posts WHERE slug = ?1").bind(&[&slug]).first().await?;
    let Some(p) = row else {
        return Err(Error::not_found());
    };
    after.spawn(async move {
        // Best effort: a failed counter update is logged by the storage layer, never shown.
        let _ = db.prepare("UPDATE posts SET views = views + 1 WHERE slug = ?1").bind(&[&slug]).run().await;
    });
    Ok(Response::from_html(format!(
        "<!doctype html><h1>{}</h1><p>{}</p><p class=views>{} views</p>",
        escape(&p.title),
        escape(&p.body),
        p.views
    ))?)
}

#[derive(Debug, Serialize, Deserialize)]
struct Subscriber {
    email: String,
    status: String,
}

/// Lists subscribers (API key required).
#[route(GET "/api/subscribers", identity = ApiKey, storage(D1))]
pub async fn list_subscribers(key: Claims<'_, ApiKey>, db: D1<'_>) -> Result<Response> {
    let rows: Vec<Subscriber> = db.prepare("SELECT email, status FROM subscribers ORDER BY email").all().await?;
    Ok(Response::from_json(&serde_json::json!({ "key": key.label, "subscribers": rows }))?)
}

#[derive(Debug, Deserialize)]
struct NewSubscriber {
    email: String,
}

fn valid_email(e: &str) -> bool {
    let Some((local, domain)) = e.split_once('@') else { return false };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && e.len() <= 254
        && !e.chars().any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
}

/// Adds a subscriber (API key required). Adding an existing one is not an error.
#[route(POST "/api/subscribers", identity = ApiKey, storage(D1))]
pub async fn add_subscriber(mut req: Request, _key: Claims<'_, ApiKey>, db: D1<'_>) -> Result<Response> {
    let body: NewSubscriber = req.json().await?;
    let email = body.email.trim().to_ascii_lowercase();
    if !valid_email(&email) {
        return Err(Error::bad_request("invalid email"));
    }
    let now = layers_core::log::now_ms() / 1000;
    let info = db
        .prepare("INSERT INTO subscribers (email, status, created_at) VALUES (?1, 'active', ?2) ON CONFLICT(email) DO UPDATE SET status = 'active', unsubscribed_at = NULL")
        .bind(&[&email, &now])
        .run()
        .await?;
    let resp = Response::from_json(&serde_json::json!({ "email": email, "changes": info.changes }))?;
    Ok(resp.with_status(201))
}

#[derive(Debug, Deserialize)]
struct Import {
    emails: Vec<String>,
}

/// Imports many subscribers in one D1 batch (one implicit transaction): either every address
/// is valid and all land, or the request is refused and none do.
#[route(POST "/api/subscribers/import", identity = ApiKey, storage(D1))]
pub async fn import_subscribers(mut req: Request, _key: Claims<'_, ApiKey>, db: D1<'_>) -> Result<Response> {
    let body: Import = req.json().await?;
    if body.emails.is_empty() || body.emails.len() > 100 {
        return Err(Error::bad_request("send between 1 and 100 emails"));
    }
    let emails: Vec<String> = body.emails.iter().map(|e| e.trim().to_ascii_lowercase()).collect();
    if let Some(bad) = emails.iter().position(|e| !valid_email(e)) {
        return Err(Error::bad_request(format!("emails[{bad}] is not a valid email")));
    }
    let now = layers_core::log::now_ms() / 1000;
    let statements = emails
        .iter()
        .map(|e| {
            db.prepare("INSERT INTO subscribers (email, status, created_at) VALUES (?1, 'active', ?2) ON CONFLICT(email) DO NOTHING")
                .bind(&[e, &now])
        })
        .collect();
    let results = db.batch(statements).await?;
    let added: u64 = results.iter().map(|r| r.changes).sum();
    Ok(Response::from_json(&serde_json::json!({ "received": emails.len(), "added": added }))?)
}

/// Forgets a subscriber entirely: the D1 row and the KV unsubscribe marker.
#[route(DELETE "/api/subscribers/:email", identity = ApiKey, storage(D1, KV))]
pub async fn delete_subscriber(req: Request, _key: Claims<'_, ApiKey>, db: D1<'_>, kv: Kv<'_>) -> Result<Response> {
    let email = req.param("email").unwrap_or_default().to_ascii_lowercase();
    let info = db.prepare("DELETE FROM subscribers WHERE email = ?1").bind(&[&email]).run().await?;
    kv.delete(&format!("unsubscribed:{email}")).await?;
    if info.changes == 0 {
        return Err(Error::not_found());
    }
    Ok(Response::from_json(&serde_json::json!({ "deleted": email }))?)
}

/// Lists the KV unsubscribe markers (paginated with `?cursor=`).
#[route(GET "/api/unsubscribed", identity = ApiKey, storage(KV))]
pub async fn list_unsubscribed(req: Request, _key: Claims<'_, ApiKey>, kv: Kv<'_>) -> Result<Response> {
    let page = kv.list("unsubscribed:", 100, req.query("cursor")).await?;
    let emails: Vec<&str> = page.keys.iter().filter_map(|k| k.strip_prefix("unsubscribed:")).collect();
    Ok(Response::from_json(&serde_json::json!({ "emails": emails, "cursor": page.cursor }))?)
}

/// Unsubscribes the email the token was signed for. Idempotent; GET and POST both work
/// (mail clients prefetch GET links, so GET shows a confirmation and POST acts — both
/// are safe to repeat).
#[route(POST "/api/unsubscribe/:token", identity = UnsubscribeToken, storage(D1, KV))]
pub async fn unsubscribe(who: Claims<'_, UnsubscribeToken>, db: D1<'_>, kv: Kv<'_>) -> Result<Response> {
    let now = layers_core::log::now_ms() / 1000;
    let info = db
        .prepare("UPDATE subscribers SET status = 'unsubscribed', unsubscribed_at = ?2 WHERE email = ?1 AND status = 'active'")
        .bind(&[&who.payload, &now])
        .run()
        .await?;
    kv.put_with_ttl(&format!("unsubscribed:{}", who.payload), &now.to_string(), 30 * 24 * 3600).await?;
    Ok(Response::from_json(&serde_json::json!({ "unsubscribed": true, "changed": info.changes }))?)
}

/// Shows the unsubscribe confirmation for a valid link.
#[route(GET "/api/unsubscribe/:token", identity = UnsubscribeToken, storage(KV))]
pub async fn unsubscribe_page(req: Request, who: Claims<'_, UnsubscribeToken>, kv: Kv<'_>) -> Result<Response> {
    let done = kv.get(&format!("unsubscribed:{}", who.payload)).await?.is_some();
    let token = req.param("token").unwrap_or_default();
    let body = if done {
        "<!doctype html><p>You are unsubscribed.</p>".to_owned()
    } else {
        format!(
            "<!doctype html><form method=post action=\"/api/unsubscribe/{}\"><button>Unsubscribe</button></form>",
            escape(token)
        )
    };
    Ok(Response::from_html(body)?)
}

app! {
    routes: [
        home,
        post,
        list_subscribers,
        add_subscriber,
        import_subscribers,
        delete_subscriber,
        list_unsubscribed,
        unsubscribe,
        unsubscribe_page,
    ],
}
