//! The admin area: everything under `/admin/`, behind Cloudflare Access plus the
//! `ADMIN_EMAILS` allowlist ([`Admin`]).
//!
//! | route | what |
//! |---|---|
//! | `GET /admin`, `GET /admin/*` (`/admin/`, `/admin/dashboard`, any unknown page) | who is signed in, subscriber count, flags |
//! | `GET /admin/subscribers?cursor=&limit=&status=` | subscribers by email (keyset pagination) |
//! | `GET /admin/contacts?cursor=&limit=` | contact messages, newest first |
//! | `GET /admin/inbound?cursor=&limit=` | stored inbound emails, newest first |
//! | `GET /admin/digests?cursor=&limit=` | weekly digest runs and their counts, newest first |
//! | `GET /admin/flags` | feature flags (KV `flag:*`) |
//! | `POST /admin/flags/:name` `{"on": bool}` | turns a flag on/off, audit row in D1 |
//! | `POST /admin/reindex` `application/json` `{"slug"?}` | queues a [`ReindexJob`] (`{}`: all posts), 202; other content types 415 |
//! | `GET /admin/backup-credentials` | the backup role's temporary credentials ([`backup_credentials()`]) |
//!
//! Each page is its own route, opening only the storage it reads; the router gives a path to
//! the most specific pattern, so `/admin/subscribers` reaches [`subscribers()`] and everything
//! else under `/admin/` the catch-all [`dashboard()`] — same identity, so nothing to declare. The
//! catch-all keeps every path under `/admin/` behind the admin identity (an unknown page is the
//! dashboard, never a 404 that tells strangers what exists).
//! Lists answer JSON `{"items": [...], "next": cursor|null}`; pass `next` back as `cursor` for
//! the following page (`limit` 1..=100, default 50). A browser (`Accept: text/html`) gets
//! the same data as an HTML table.

use layers_core::outbound::form_encode;
use layers_core::prelude::*;
use serde::Deserialize;

use crate::reindex::ReindexJob;
use crate::search::{escape, wants_html, ALL_POSTS};
use crate::{Admin, BackupRole};

/// Default page size of the admin lists.
pub const DEFAULT_LIMIT: u32 = 50;
/// Largest page size of the admin lists.
pub const MAX_LIMIT: u32 = 100;

/// `?limit=`: absent → [`DEFAULT_LIMIT`], otherwise clamped to `1..=MAX_LIMIT`; not a number → 400.
///
/// # Errors
/// A 400 problem when the value is not an integer.
pub fn page_limit(raw: Option<&str>) -> Result<u32> {
    match raw.map(str::trim) {
        None | Some("") => Ok(DEFAULT_LIMIT),
        Some(s) => {
            let n: i64 = s.parse().map_err(|_| Error::problem(400, "`limit` must be an integer"))?;
            Ok(u32::try_from(n.clamp(1, i64::from(MAX_LIMIT))).unwrap_or(DEFAULT_LIMIT))
        }
    }
}

/// Above every row id: the cursor of a list's first page (D1 numbers are exact up to 2^53).
const FIRST_PAGE: i64 = 1 << 53;

/// `?cursor=` of the lists ordered by a numeric id, newest first: absent → from the newest.
///
/// # Errors
/// A 400 problem when the value is not a positive integer.
pub fn id_cursor(raw: Option<&str>) -> Result<i64> {
    match raw.map(str::trim) {
        None | Some("") => Ok(FIRST_PAGE),
        Some(s) => s
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=FIRST_PAGE).contains(n))
            .ok_or_else(|| Error::problem(400, "`cursor` is not valid")),
    }
}

/// `?status=` of the subscriber list: absent or one of `active`, `pending`, `unsubscribed`.
///
/// # Errors
/// A 400 problem for any other value.
pub fn status_filter(raw: Option<&str>) -> Result<Option<&str>> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(s @ ("active" | "pending" | "unsubscribed")) => Ok(Some(s)),
        Some(_) => Err(Error::problem(400, "`status` must be active, pending or unsubscribed")),
    }
}

/// Splits `rows` fetched with `limit + 1` into the page and whether more follow.
fn take_page(mut rows: Vec<serde_json::Value>, limit: u32) -> (Vec<serde_json::Value>, bool) {
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    (rows, more)
}

/// A list page: JSON by default, an HTML table for browsers.
fn list_response(
    req: &Request,
    title: &str,
    items: &[serde_json::Value],
    next: Option<serde_json::Value>,
    extra: &[(&str, String)],
) -> Result<Response> {
    let resp = if wants_html(req) {
        Response::from_html(html_table(req, title, items, next.as_ref(), extra))?
    } else {
        Response::from_json(&serde_json::json!({ "items": items, "next": next }))?
    };
    resp.headers().set("cache-control", "no-store")?;
    Ok(resp)
}

fn cell(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => escape(s),
        other => escape(&other.to_string()),
    }
}

fn html_table(
    req: &Request,
    title: &str,
    items: &[serde_json::Value],
    next: Option<&serde_json::Value>,
    extra: &[(&str, String)],
) -> String {
    let mut html = format!(
        "<!doctype html><meta charset=utf-8><title>{0}</title><p><a href=\"/admin/dashboard\">admin</a></p><h1>{0}</h1><table>",
        escape(title)
    );
    if let Some(first) = items.first().and_then(serde_json::Value::as_object) {
        html.push_str("<tr>");
        for k in first.keys() {
            html.push_str(&format!("<th>{}</th>", escape(k)));
        }
        html.push_str("</tr>");
    }
    for item in items {
        html.push_str("<tr>");
        if let Some(obj) = item.as_object() {
            for v in obj.values() {
                html.push_str(&format!("<td>{}</td>", cell(v)));
            }
        }
        html.push_str("</tr>");
    }
    html.push_str("</table>");
    if let Some(next) = next {
        let cursor = match next {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let mut pairs: Vec<(&str, &str)> = vec![("cursor", &cursor)];
        let limit = req.query("limit");
        if let Some(l) = &limit {
            pairs.push(("limit", l));
        }
        for (k, v) in extra {
            pairs.push((k, v));
        }
        html.push_str(&format!(
            "<p><a href=\"{}?{}\">next page</a></p>",
            escape(req.path()),
            escape(&form_encode(&pairs))
        ));
    }
    html
}

pub(crate) fn admin_email(who: &Claims<'_, Admin>) -> String {
    who.email().unwrap_or_default().to_owned()
}

#[derive(Debug, Deserialize)]
struct Count {
    n: i64,
}

/// `GET /admin`: the dashboard.
#[route(GET "/admin", identity = Admin, storage(D1 because(FixedSchema, ComplexSql, "the dashboard's counts"), KV because(FlagsConfig, "feature flags")))]
pub async fn home(req: Request, who: Claims<'_, Admin>, db: D1<'_>, kv: Kv<'_>) -> Result<Response> {
    render_dashboard(&req, &who, "", &db, &kv).await
}

/// Every other `GET` under `/admin/` (`/admin/` included): the dashboard, with the page asked
/// for.
#[route(GET "/admin/*", identity = Admin, storage(D1 because(FixedSchema, ComplexSql, "the dashboard's counts"), KV because(FlagsConfig, "feature flags")))]
pub async fn dashboard(req: Request, who: Claims<'_, Admin>, db: D1<'_>, kv: Kv<'_>) -> Result<Response> {
    let page = req.rest().unwrap_or_default().to_owned();
    render_dashboard(&req, &who, &page, &db, &kv).await
}

async fn render_dashboard(
    req: &Request,
    who: &Claims<'_, Admin>,
    page: &str,
    db: &D1<'_>,
    kv: &Kv<'_>,
) -> Result<Response> {
    let count: Option<Count> = db.prepare("SELECT COUNT(*) AS n FROM subscribers").first().await?;
    let flags = kv.list("flag:", 100, None).await?;
    let flags: Vec<&str> = flags.keys.iter().filter_map(|k| k.strip_prefix("flag:")).collect();
    let subscribers = count.map_or(0, |c| c.n);
    let resp = if wants_html(req) {
        let mut html = format!(
            "<!doctype html><meta charset=utf-8><title>admin</title><h1>admin</h1><p>Signed in as {}</p><p>{subscribers} subscribers</p><ul>",
            escape(&admin_email(who))
        );
        for p in ["subscribers", "contacts", "inbound", "digests", "flags", "webmentions"] {
            html.push_str(&format!("<li><a href=\"/admin/{p}\">{p}</a></li>"));
        }
        html.push_str("</ul>");
        Response::from_html(html)?
    } else {
        Response::from_json(&serde_json::json!({
            "admin": admin_email(who),
            "page": page,
            "subscribers": subscribers,
            "flags": flags,
        }))?
    };
    resp.headers().set("cache-control", "no-store")?;
    Ok(resp)
}

/// Subscribers by email (keyset pagination), optionally one `status`.
#[route(GET "/admin/subscribers", identity = Admin, storage(D1 because(FixedSchema, ComplexSql, "subscribers")))]
pub async fn subscribers(req: Request, _who: Claims<'_, Admin>, db: D1<'_>) -> Result<Response> {
    let (req, db) = (&req, &db);
    let limit = page_limit(req.query("limit").as_deref())?;
    let status_raw = req.query("status");
    let status = status_filter(status_raw.as_deref())?;
    let cursor = req.query("cursor").unwrap_or_default();
    if cursor.len() > 254 {
        return Err(Error::problem(400, "`cursor` is not valid"));
    }
    let rows: Vec<serde_json::Value> = db
        .prepare(
            "SELECT email, status, created_at FROM subscribers WHERE email > ?1 AND (?2 = '' OR status = ?2) ORDER BY email LIMIT ?3",
        )
        .bind(&[&cursor, &status.unwrap_or_default(), &(limit + 1)])
        .all()
        .await?;
    let (items, more) = take_page(rows, limit);
    let next = if more { items.last().and_then(|r| r.get("email")).cloned() } else { None };
    let extra: Vec<(&str, String)> = status.map(|s| vec![("status", s.to_owned())]).unwrap_or_default();
    list_response(req, "subscribers", &items, next, &extra)
}

/// A list ordered by a numeric `id`, newest first, with keyset pagination on it.
pub(crate) async fn by_id_desc(req: &Request, db: &D1<'_>, title: &str, sql: &str) -> Result<Response> {
    let limit = page_limit(req.query("limit").as_deref())?;
    let cursor = id_cursor(req.query("cursor").as_deref())?;
    let rows: Vec<serde_json::Value> = db.prepare(sql).bind(&[&cursor, &(limit + 1)]).all().await?;
    let (items, more) = take_page(rows, limit);
    let next = if more { items.last().and_then(|r| r.get("id")).cloned() } else { None };
    list_response(req, title, &items, next, &[])
}

/// Contact messages, newest first.
#[route(GET "/admin/contacts", identity = Admin, storage(D1 because(FixedSchema, "contact messages")))]
pub async fn contacts(req: Request, _who: Claims<'_, Admin>, db: D1<'_>) -> Result<Response> {
    by_id_desc(
        &req,
        &db,
        "contacts",
        "SELECT id, name, email, message, created_at FROM contacts WHERE id < ?1 ORDER BY id DESC LIMIT ?2",
    )
    .await
}

/// Stored inbound emails, newest first.
#[route(GET "/admin/inbound", identity = Admin, storage(D1 because(FixedSchema, "inbound mail")))]
pub async fn inbound(req: Request, _who: Claims<'_, Admin>, db: D1<'_>) -> Result<Response> {
    by_id_desc(
        &req,
        &db,
        "inbound email",
        "SELECT rowid AS id, svix_id, message_id, from_addr, to_addrs, subject, text_body, received_at FROM inbound_emails WHERE rowid < ?1 ORDER BY rowid DESC LIMIT ?2",
    )
    .await
}

/// Weekly digest runs and their counts, newest first.
#[route(GET "/admin/digests", identity = Admin, storage(D1 because(FixedSchema, "digests sent")))]
pub async fn digests(req: Request, _who: Claims<'_, Admin>, db: D1<'_>) -> Result<Response> {
    by_id_desc(
        &req,
        &db,
        "digest runs",
        "SELECT id, cron, scheduled_at, ran_at, edition, posts, recipients, sent, skipped, failed FROM digest_runs WHERE id < ?1 ORDER BY id DESC LIMIT ?2",
    )
    .await
}

/// Feature flags (KV `flag:*`).
#[route(GET "/admin/flags", identity = Admin, storage(KV because(FlagsConfig, PrefixListing, "feature flags")))]
pub async fn flags(req: Request, _who: Claims<'_, Admin>, kv: Kv<'_>) -> Result<Response> {
    let (req, kv) = (&req, &kv);
    let mut items = Vec::new();
    let mut cursor = None;
    loop {
        let page = kv.list("flag:", 1000, cursor).await?;
        for k in &page.keys {
            if let Some(name) = k.strip_prefix("flag:") {
                items.push(serde_json::json!({ "name": name, "on": true }));
            }
        }
        match page.cursor {
            Some(c) if !c.is_empty() => cursor = Some(c),
            _ => break,
        }
    }
    list_response(req, "flags", &items, None, &[])
}

#[derive(Deserialize)]
struct Flag {
    on: bool,
}

/// Turns a feature flag on (`{"on": true}`) or off, with an audit row in D1.
#[route(POST "/admin/flags/:name", identity = Admin, storage(KV because(FlagsConfig, "feature flags"), D1 because(FixedSchema, "the admin audit log")))]
pub async fn flag(mut req: Request, who: Claims<'_, Admin>, kv: Kv<'_>, db: D1<'_>) -> Result<Response> {
    let name = req.param("name").unwrap_or_default().to_owned();
    if name.is_empty() || name.len() > 64 || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(Error::bad_request("flag names are 1-64 letters, digits, '-' or '_'"));
    }
    let flag: Flag = req.json().await?;
    if flag.on {
        kv.put(&format!("flag:{name}"), "on").await?;
    } else {
        kv.delete(&format!("flag:{name}")).await?;
    }
    let now = layers_core::log::now_ms() / 1000;
    let action = format!("flag {name} {}", if flag.on { "on" } else { "off" });
    db.prepare("INSERT INTO admin_audit (actor, action, created_at) VALUES (?1, ?2, ?3)")
        .bind(&[&admin_email(&who), &action, &now])
        .run()
        .await?;
    Ok(Response::from_json(&serde_json::json!({ "flag": name, "on": flag.on }))?)
}

#[derive(Debug, Deserialize)]
struct ReindexRequest {
    slug: Option<String>,
}

/// Queues a reindex: a JSON body (`content-type: application/json`), `{"slug": "…"}` for one
/// post, `{}` for all posts. Answers 202 `{"queued": 1, "slug": …}`; the `reindex` consumer does
/// the work. Any other content type is refused with 415 and an empty body with 400 (both
/// problem+json): a cross-site HTML form can only send `text/plain`, urlencoded or multipart
/// bodies, so it cannot trigger this even if the Access cookie travels with it.
#[route(POST "/admin/reindex", identity = Admin, storage(Queue = "REINDEX" because(BackgroundJobs, Retries, "reindexing after the response"), D1 because(FixedSchema, "the admin audit log")))]
pub async fn reindex(
    mut req: Request,
    who: Claims<'_, Admin>,
    queue: Queue<'_, ReindexJob>,
    db: D1<'_>,
) -> Result<Response> {
    // The content type first: nothing of a form post is read.
    let ct = req.header("content-type");
    require_json(ct.as_deref())?;
    let body = req.bytes_limited(4096).await.map_err(Error::into_problem)?;
    let ask = reindex_body(&body)?;
    let slug = ask.slug.unwrap_or_else(|| ALL_POSTS.to_owned());
    if slug.is_empty() || slug.len() > 128 || slug.chars().any(char::is_control) {
        return Err(Error::problem(400, "`slug` must be 1-128 printable characters"));
    }
    queue.send(&ReindexJob { slug: slug.clone(), reason: "admin".to_owned() }).await?;
    let now = layers_core::log::now_ms() / 1000;
    db.prepare("INSERT INTO admin_audit (actor, action, created_at) VALUES (?1, ?2, ?3)")
        .bind(&[&admin_email(&who), &format!("reindex {slug}"), &now])
        .run()
        .await?;
    let resp = Response::from_json(&serde_json::json!({ "queued": 1, "slug": slug }))?;
    resp.headers().set("cache-control", "no-store")?;
    Ok(resp.with_status(202))
}

/// 415 problem+json unless the media type is exactly `application/json` (parameters such as
/// `charset` allowed).
pub(crate) fn require_json(ct: Option<&str>) -> Result<()> {
    let mime = ct.unwrap_or_default().split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    if mime == "application/json" {
        Ok(())
    } else {
        Err(Error::problem(415, "send the body as content-type: application/json ({} for all posts)"))
    }
}

/// The JSON body: `{}` (all posts) or `{"slug": string}`; anything else, an empty body
/// included, is 400 problem+json.
fn reindex_body(body: &[u8]) -> Result<ReindexRequest> {
    serde_json::from_slice(body).map_err(|_| Error::problem(400, "body must be {} or {\"slug\": string}"))
}

/// Shows an admin the backup role's current temporary credentials — which access key id, until
/// when, and whether they came from the KV cache. The secret key and session token never leave
/// the Worker (and its KV cache): they are for calls the Worker makes itself.
#[route(GET "/admin/backup-credentials", identity = Admin, storage(KV because(Sessions, "cached short-lived cloud credentials")))]
pub async fn backup_credentials(
    _who: Claims<'_, Admin>,
    kv: Kv<'_>,
    sts: Federation<'_, BackupRole>,
) -> Result<Response> {
    let creds = sts.credentials(&kv).await?;
    let resp = Response::from_json(&serde_json::json!({
        "access_key_id": creds.access_key_id,
        "expiration": creds.expiration,
        "from_cache": creds.from_cache,
    }))?;
    let _ = resp.headers().set("cache-control", "no-store");
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reindex_needs_a_json_body() {
        for ok in ["application/json", "Application/JSON; charset=utf-8", " application/json "] {
            assert!(require_json(Some(ok)).is_ok(), "{ok}");
        }
        for bad in [
            None,
            Some(""),
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            Some("multipart/form-data; boundary=x"),
            Some("application/jsonx"),
            Some("text/plain; application/json"),
        ] {
            let e = require_json(bad).unwrap_err();
            assert_eq!(e.status(), 415, "{bad:?}");
            assert!(e.problem_json().is_some(), "{bad:?}");
        }
        assert_eq!(reindex_body(b"{}").unwrap().slug, None);
        assert_eq!(reindex_body(br#"{"slug":"a-b"}"#).unwrap().slug.as_deref(), Some("a-b"));
        for bad in [&b""[..], b"  ", b"slug=a", b"[]", br#"{"slug":1}"#] {
            assert_eq!(reindex_body(bad).unwrap_err().status(), 400, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn limits_are_clamped() {
        assert_eq!(page_limit(None).unwrap(), DEFAULT_LIMIT);
        assert_eq!(page_limit(Some("")).unwrap(), DEFAULT_LIMIT);
        assert_eq!(page_limit(Some("0")).unwrap(), 1);
        assert_eq!(page_limit(Some("-5")).unwrap(), 1);
        assert_eq!(page_limit(Some("7")).unwrap(), 7);
        assert_eq!(page_limit(Some("100")).unwrap(), 100);
        assert_eq!(page_limit(Some("101")).unwrap(), 100);
        assert_eq!(page_limit(Some("99999999999999999")).unwrap(), 100);
        assert_eq!(page_limit(Some("ten")).unwrap_err().status(), 400);
    }

    #[test]
    fn cursors_and_status() {
        assert_eq!(id_cursor(None).unwrap(), FIRST_PAGE);
        assert_eq!(id_cursor(Some("9007199254740993")).unwrap_err().status(), 400);
        assert_eq!(id_cursor(Some("42")).unwrap(), 42);
        for bad in ["0", "-1", "x", "1.5"] {
            assert_eq!(id_cursor(Some(bad)).unwrap_err().status(), 400, "{bad}");
        }
        assert_eq!(status_filter(None).unwrap(), None);
        assert_eq!(status_filter(Some("active")).unwrap(), Some("active"));
        assert_eq!(status_filter(Some("' OR 1=1")).unwrap_err().status(), 400);
    }

    #[test]
    fn pages_split() {
        let rows: Vec<_> = (0..4).map(|i| serde_json::json!({ "id": i })).collect();
        let (items, more) = take_page(rows.clone(), 3);
        assert_eq!((items.len(), more), (3, true));
        let (items, more) = take_page(rows, 4);
        assert_eq!((items.len(), more), (4, false));
    }
}
