//! The layers reference Worker: a blog (public pages, newsletter, contact form; see [`blog`])
//! plus the framework's feature demos.
//!
//! The tables below are the app's manifest — what `app!` generates from the route table the
//! Worker dispatches with ([`manifest()`]) — written to `app/ROUTES.md` by
//! `cargo xtask manifest --write`; a test fails when they drift from the code.
//!
//! What the routes do, beyond their identity and storage:
//! - `GET /`, `GET /blog/:slug`: published posts; the view counter runs after the response.
//! - `GET /og/:slug.png`: a generated PNG, cached a day (`x-cache`).
//! - `POST /api/subscribe`: Turnstile plus an abuse guard; mints the confirm and unsubscribe
//!   links (`Mint<'_, Confirm>`, `MayMint<Turnstile>`); mail via `MAIL_URL`.
//! - `GET|POST /api/confirm/:token`: GET shows a button (mail scanners prefetch links), POST
//!   confirms.
//! - `GET /api/subscribers?cursor=&limit=`: keyset pages of ≤ 1000; `POST
//!   /api/subscribers/import`: a batch, `"strict": true` refuses known addresses with 409 and
//!   writes nothing; `/typed` and `/form` take `Json<NewSubscriber>` and `Form<…>`.
//! - `GET /api/extract/:slug/:n`: `Path`, `Query` and `Cf` echoed.
//! - `GET /api/flags/:name` ([`flags`]): a flag read with a declared default; a KV failure gives
//!   the default, logged.
//! - `/admin` ([`admin`]): the dashboard (also `/admin/` and unknown pages), one route per
//!   list page; `GET /admin/backup-credentials` obtains `Federation<BackupRole>` credentials
//!   (STS, `MayFederate<Admin>`).
//! - `GET /search?q=` ([`search`]): FTS5 over `post_search`.
//! - `POST /api/email-inbound` ([`inbound`]: the payload it accepts): Svix-signed webhooks.
//! - `POST /api/reindex/raw`: `Unchecked<String>`, the poison-message path, opted out of the
//!   queue type check.
//! - `PUT|GET|DELETE /api/files/:name`: R2, streamed both ways, up to 100 MB, content type and an
//!   `x-file-note` custom metadata; `GET /api/files` lists (`?prefix=`, `?cursor=`).
//! - `GET|DELETE /api/cached/:slug`: the default cache (`x-cache: miss` then `hit`), purge.
//! - `POST /api/limited/:bucket`: [`RateLimiter`], written with `#[durable_object]`: 429 after
//!   3 calls per bucket.
//! - `POST /api/webmention` ([`webmention`]): Public plus an abuse guard and the outbound URL
//!   guard on `source`; the `webmentions` queue fetches the source with `fetch_guarded`.
//! - cron `0 2 * * SUN` ([`digest`]): the weekly digest (`digest_runs`, `digest_sends`) and
//!   webmention retries.
//!
#![doc = include_str!("../ROUTES.md")]
#![forbid(unsafe_code)]

pub mod admin;
pub mod ai;
#[cfg(feature = "attack-routes")]
pub mod attacks;
pub mod blog;
pub mod digest;
pub mod email;
pub mod flags;
pub mod inbound;
pub mod mail;
pub mod request_demo;
pub mod search;
pub mod webmention;

use layers_core::identity::{
    AccessConfig, AccessJwt, AnyOf, EmailAllowlist, FederationConfig, Guarded, OneOf, TokenConfig, TokenSource,
};
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

// The weekly digest (a cron, `System`) puts an unsubscribe link in every mail.
impl MayMint<System> for Unsubscribe {}

/// The verifier of unsubscribe links.
pub type UnsubscribeToken = SignedToken<Unsubscribe>;

#[derive(Debug, Serialize, Deserialize)]
struct Subscriber {
    email: String,
    status: String,
}

/// Page size of `GET /api/subscribers` when `limit` is not given.
const SUBSCRIBERS_PAGE: u32 = 100;
/// The largest page `GET /api/subscribers` serves.
const SUBSCRIBERS_PAGE_MAX: u32 = 1000;

#[derive(Debug, Deserialize)]
struct SubscriberPage {
    /// Rows per page: 1 to [`SUBSCRIBERS_PAGE_MAX`], default [`SUBSCRIBERS_PAGE`].
    limit: Option<u32>,
    /// Keyset cursor: the `next` of the previous page (rows with a greater email follow).
    cursor: Option<String>,
}

/// Lists subscribers in email order, one bounded page at a time (API key required):
/// `?limit=N` (1–1000, default 100) and `?cursor=<next of the previous page>`, as the admin
/// lists do. The reply's `next` is the cursor of the following page, or `null` on the last one.
#[route(GET "/api/subscribers", identity = ApiKey, storage(D1))]
async fn list_subscribers(Query(page): Query<SubscriberPage>, key: Claims<'_, ApiKey>, db: D1<'_>) -> Result<Response> {
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
    Ok(Response::from_json(&serde_json::json!({ "key": key.label, "subscribers": rows, "next": next }))?)
}

#[derive(Debug, Deserialize)]
struct NewSubscriber {
    email: String,
}

/// Adds a subscriber (API key required). Adding an existing one is not an error.
#[route(POST "/api/subscribers", identity = ApiKey, storage(D1))]
pub async fn add_subscriber(mut req: Request, _key: Claims<'_, ApiKey>, db: D1<'_>) -> Result<Response> {
    let body: NewSubscriber = req.json().await?;
    let Some(email) = email::normalize(&body.email) else {
        return Err(Error::bad_request("invalid email"));
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
#[route(POST "/api/subscribers/typed", identity = ApiKey, storage(D1))]
async fn add_subscriber_typed(
    Json(body): Json<NewSubscriber>,
    _key: Claims<'_, ApiKey>,
    db: D1<'_>,
) -> Result<Response> {
    insert_subscriber(&db, &body.email).await
}

/// The same from an HTML form (`application/x-www-form-urlencoded`).
#[route(POST "/api/subscribers/form", identity = ApiKey, storage(D1))]
async fn add_subscriber_form(
    Form(body): Form<NewSubscriber>,
    _key: Claims<'_, ApiKey>,
    db: D1<'_>,
) -> Result<Response> {
    insert_subscriber(&db, &body.email).await
}

async fn insert_subscriber(db: &D1<'_>, email: &str) -> Result<Response> {
    let Some(email) = email::normalize(email) else {
        return Err(Error::problem(400, "field `email` is not a valid address"));
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

#[derive(Debug, Deserialize)]
struct ExtractPath {
    slug: String,
    n: u32,
}

#[derive(Debug, Deserialize)]
struct Paging {
    page: Option<u32>,
    tag: Option<String>,
}

/// Shows what the head extractors read (the e2e tests check it).
#[route(GET "/api/extract/:slug/:n", identity = ApiKey)]
async fn extract_echo(
    Path(p): Path<ExtractPath>,
    Query(q): Query<Paging>,
    cf: Cf,
    _key: Claims<'_, ApiKey>,
) -> Result<Response> {
    Ok(Response::from_json(&serde_json::json!({
        "slug": p.slug,
        "n": p.n,
        "page": q.page,
        "tag": q.tag,
        "cf_colo_present": cf.colo.is_some(),
        "cf_country": cf.country,
        "cf_asn": cf.asn,
        "cf_tls_client_auth": cf.tls_client_auth.is_some(),
    }))?)
}

/// Imports many subscribers in one D1 batch (one implicit transaction): either every address
/// is valid and all land, or the request is refused and none do. With `"strict": true` an
/// address that is already subscribed makes its statement fail inside the batch (a `UNIQUE`
/// violation, caught by D1, not by a check here): 409 `application/problem+json`, and the
/// statements before it in the batch are rolled back.
#[route(POST "/api/subscribers/import", identity = ApiKey, storage(D1))]
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
#[route(DELETE "/api/subscribers/:email", identity = ApiKey, storage(D1, KV))]
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
#[route(GET "/api/unsubscribed", identity = ApiKey, storage(KV))]
pub async fn list_unsubscribed(req: Request, _key: Claims<'_, ApiKey>, kv: Kv<'_>) -> Result<Response> {
    let page = kv.list("unsubscribed:", 100, req.query("cursor")).await?;
    let emails: Vec<&str> = page.keys.iter().filter_map(|k| k.strip_prefix("unsubscribed:")).collect();
    Ok(Response::from_json(&serde_json::json!({ "emails": emails, "cursor": page.cursor }))?)
}

/// Cloudflare Access in front of `/admin`. Keys are refetched at most every 5 s when an
/// unknown `kid` shows up (one cached GET to the team's certs URL), so a rotation is picked
/// up within seconds; fetched keys are trusted for 5 minutes.
pub struct AdminAccess;

impl AccessConfig for AdminAccess {
    const CACHE_TTL_SECS: u64 = 300;
    const REFETCH_INTERVAL_SECS: u64 = 5;
}

/// Admins: a valid Access JWT whose email is listed in `ADMIN_EMAILS`.
pub type Admin = Guarded<AccessJwt<AdminAccess>, EmailAllowlist>;

/// Machines (API key) or people (Access) may ask who they are.
#[route(GET "/api/whoami", identity = AnyOf<ApiKey, AccessJwt<AdminAccess>>)]
pub async fn whoami(who: Claims<'_, AnyOf<ApiKey, AccessJwt<AdminAccess>>>) -> Result<Response> {
    let v = match &*who {
        OneOf::First(key) => serde_json::json!({ "via": "api-key", "label": key.label }),
        OneOf::Second(access) => serde_json::json!({ "via": "access", "email": access.email() }),
    };
    Ok(Response::from_json(&v)?)
}

/// The IAM role the off-site backup job uses. The Worker signs an assertion with its key
/// (secret `FEDERATION_KEY`) as issuer `FEDERATION_ISSUER` and exchanges it at the STS
/// (`STS_URL`, default AWS) for the role in `STS_ROLE_ARN`; the credentials are cached in KV.
pub struct BackupRole;

impl FederationConfig for BackupRole {
    const KEY_ID: &'static str = "layers-backup-1";
    const SUBJECT: &'static str = "layers-app:backup";
    const SESSION_NAME: &'static str = "layers-backup";
    const NAME: &'static str = "BackupRole";
}

// Admins may see (and so obtain) the backup role's credentials.
impl MayFederate<Admin> for BackupRole {}

/// Shows an admin the backup role's current temporary credentials — which access key id, until
/// when, and whether they came from the KV cache. The secret key and session token never leave
/// the Worker (and its KV cache): they are for calls the Worker makes itself.
#[route(GET "/admin/backup-credentials", identity = Admin, storage(KV))]
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

/// The weekly jobs: the digest mail to every active subscriber ([`digest::run`]: one edition
/// per week, nobody mailed twice, a `digest_runs` row with the counts of every run).
#[scheduled("0 2 * * SUN", storage(D1, Queue = "WEBMENTIONS"))]
pub async fn weekly_digest(
    who: Claims<'_, System>,
    db: D1<'_>,
    vars: Vars<'_>,
    webmentions: Queue<'_, webmention::WebmentionJob>,
    unsubscribe_links: Mint<'_, Unsubscribe>,
) -> Result<()> {
    // The digest's outcome is returned once the other weekly work has run too.
    let digest = digest::run(&who, &db, &vars, &unsubscribe_links).await;
    webmention::retry_pending(&db, &webmentions).await?; // mentions still unverified after an hour
    digest.map(|_counts| ())
}

/// A request to reindex one post, sent by `POST /api/reindex` and consumed by [`reindex()`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReindexJob {
    /// The post's slug.
    pub slug: String,
    /// Why (free text, kept in D1).
    pub reason: String,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ReindexBody {
    One(ReindexJob),
    Many(Vec<ReindexJob>),
}

/// Queues one job (`{"slug","reason"}`) or several (`[{…}, …]`, sent as one batch).
#[route(POST "/api/reindex", identity = ApiKey, storage(Queue = "REINDEX"))]
pub async fn request_reindex(
    mut req: Request,
    _key: Claims<'_, ApiKey>,
    queue: Queue<'_, ReindexJob>,
) -> Result<Response> {
    let body: ReindexBody = req.json().await?;
    let n = match body {
        ReindexBody::One(job) => {
            queue.send(&job).await?;
            1
        }
        ReindexBody::Many(jobs) => {
            queue.send_batch(&jobs).await?;
            jobs.len()
        }
    };
    Ok(Response::from_json(&serde_json::json!({ "queued": n }))?.with_status(202))
}

/// Sends the request body as a bare string to the same queue: a message the consumer cannot
/// decode as a [`ReindexJob`] (how a poison message is retried, then dead-lettered). `app!`
/// refuses a `Queue<'_, String>` for a queue whose consumer decodes `ReindexJob`;
/// `Unchecked` is the explicit opt-out for this deliberate mismatch.
#[route(POST "/api/reindex/raw", identity = ApiKey, storage(Queue = "REINDEX"))]
pub async fn request_reindex_raw(
    mut req: Request,
    _key: Claims<'_, ApiKey>,
    queue: Queue<'_, Unchecked<String>>,
) -> Result<Response> {
    let text = req.text().await?;
    queue.send(&Unchecked(text)).await?;
    Ok(Response::from_json(&serde_json::json!({ "queued": 1 }))?.with_status(202))
}

/// Reindexes posts into the search table ([`search::reindex_batch`]: slug `*` rebuilds it all).
/// A job whose slug starts with `fail-` is retried (and, after `max_retries`, dead-lettered):
/// the explicit-retry path.
#[queue("reindex", storage(D1))]
pub async fn reindex(batch: Batch<'_, ReindexJob>, _who: Claims<'_, System>, db: D1<'_>) -> Result<()> {
    search::reindex_batch(&batch, &db).await
}

/// Keeps what reached the dead-letter queue, whatever its shape.
#[queue("reindex-dlq", storage(D1))]
pub async fn dead_letters(batch: Batch<'_, serde_json::Value>, _who: Claims<'_, System>, db: D1<'_>) -> Result<()> {
    #[allow(clippy::cast_possible_wrap)]
    let now = layers_core::log::now_ms() as i64;
    for msg in &batch {
        db.prepare("INSERT INTO dead_letters (body, received_at) VALUES (?1, ?2)")
            .bind(&[&msg.body().to_string(), &now])
            .run()
            .await?;
        msg.ack();
    }
    Ok(())
}

#[derive(Debug, Serialize, Deserialize)]
struct DigestRun {
    cron: String,
    scheduled_at: i64,
}

#[derive(Debug, Serialize, Deserialize)]
struct Reindexed {
    slug: String,
    reason: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct DeadLetter {
    body: String,
}

/// What the cron and the queue consumers wrote.
#[route(GET "/api/events", identity = ApiKey, storage(D1))]
pub async fn events(_key: Claims<'_, ApiKey>, db: D1<'_>) -> Result<Response> {
    let runs: Vec<DigestRun> = db.prepare("SELECT cron, scheduled_at FROM digest_runs ORDER BY id").all().await?;
    let reindexed: Vec<Reindexed> = db.prepare("SELECT slug, reason FROM reindexed ORDER BY slug").all().await?;
    let dead: Vec<DeadLetter> = db.prepare("SELECT body FROM dead_letters ORDER BY id").all().await?;
    let resp = Response::from_json(&serde_json::json!({
        "digest_runs": runs,
        "reindexed": reindexed,
        "dead_letters": dead.into_iter().map(|d| d.body).collect::<Vec<_>>(),
    }))?;
    let _ = resp.headers().set("cache-control", "no-store");
    Ok(resp)
}

/// Largest upload `PUT /api/files/:name` accepts (the body is streamed, never buffered).
pub const MAX_FILE: u64 = 100 * 1024 * 1024;

/// Streams the body into R2 under `:name`, with its `content-type` and an optional
/// `x-file-note` header kept as custom metadata `note`. The client must send
/// `content-length` (411 without, 413 over [`MAX_FILE`]).
#[route(PUT "/api/files/:name", identity = ApiKey, storage(R2))]
pub async fn put_file(mut req: Request, _key: Claims<'_, ApiKey>, bucket: R2<'_>) -> Result<Response> {
    let name = req.param("name").unwrap_or_default().to_owned();
    let content_type = req.header("content-type");
    let mut meta = std::collections::HashMap::new();
    if let Some(note) = req.header("x-file-note") {
        meta.insert("note".to_owned(), note);
    }
    let body = req.body_stream(MAX_FILE)?;
    let stored = bucket.put_stream(&format!("files/{name}"), body, content_type.as_deref(), meta).await?;
    let resp = Response::from_json(&serde_json::json!({ "stored": name, "size": stored.size }))?;
    Ok(resp.with_status(201))
}

/// Streams the R2 object `:name` to the client with its content type, etag and `x-file-note`.
#[route(GET "/api/files/:name", identity = ApiKey, storage(R2))]
pub async fn get_file(req: Request, _key: Claims<'_, ApiKey>, bucket: R2<'_>) -> Result<Response> {
    let name = req.param("name").unwrap_or_default();
    let Some(obj) = bucket.get_stream(&format!("files/{name}")).await? else {
        return Err(Error::not_found());
    };
    let note = obj.custom_metadata.get("note").cloned();
    let resp = obj.into_response();
    if let Some(note) = note {
        resp.headers().set("x-file-note", &note)?;
    }
    Ok(resp)
}

/// Deletes the R2 object `:name`.
#[route(DELETE "/api/files/:name", identity = ApiKey, storage(R2))]
pub async fn delete_file(req: Request, _key: Claims<'_, ApiKey>, bucket: R2<'_>) -> Result<Response> {
    let name = req.param("name").unwrap_or_default();
    bucket.delete(&format!("files/{name}")).await?;
    Ok(Response::empty()?.with_status(204))
}

/// Lists stored files (`?prefix=`, paginated with `?cursor=`).
#[route(GET "/api/files", identity = ApiKey, storage(R2))]
pub async fn list_files(req: Request, _key: Claims<'_, ApiKey>, bucket: R2<'_>) -> Result<Response> {
    let prefix = format!("files/{}", req.query("prefix").unwrap_or_default());
    let page = bucket.list(&prefix, 100, req.query("cursor")).await?;
    let files: Vec<_> = page
        .objects
        .iter()
        .map(|o| serde_json::json!({ "name": o.key.strip_prefix("files/").unwrap_or(&o.key), "size": o.size }))
        .collect();
    Ok(Response::from_json(&serde_json::json!({ "files": files, "cursor": page.cursor }))?)
}

/// A page rendered once and then served from the Cache API for 60 s; `x-cache` says which.
#[route(GET "/api/cached/:slug", identity = ApiKey, storage(Cache))]
pub async fn cached(req: Request, _key: Claims<'_, ApiKey>, cache: Cache<'_>) -> Result<Response> {
    let slug = req.param("slug").unwrap_or_default();
    let key = cache.key(&format!("/api/cached/{slug}"))?;
    if let Some(mut hit) = cache.match_(&key).await? {
        let body = hit.bytes().await?;
        let resp = Response::from_bytes(body)?;
        resp.headers().set("content-type", "application/json")?;
        resp.headers().set("x-cache", "hit")?;
        return Ok(resp);
    }
    let body = serde_json::json!({ "slug": slug, "rendered_at": layers_core::log::now_ms() });
    let mut resp = Response::from_json(&body)?;
    resp.headers().set("cache-control", "max-age=60")?;
    cache.put(&key, &mut resp).await?;
    resp.headers().set("x-cache", "miss")?;
    Ok(resp)
}

/// Purges `/api/cached/:slug` from the cache.
#[route(DELETE "/api/cached/:slug", identity = ApiKey, storage(Cache))]
pub async fn purge_cached(req: Request, _key: Claims<'_, ApiKey>, cache: Cache<'_>) -> Result<Response> {
    let slug = req.param("slug").unwrap_or_default();
    let existed = cache.delete(&cache.key(&format!("/api/cached/{slug}"))?).await?;
    Ok(Response::from_json(&serde_json::json!({ "purged": existed }))?)
}

/// Records one `:event` data point (blob: the event and the key's label; double: 1; index: the
/// event) in Analytics Engine.
#[route(POST "/api/track/:event", identity = ApiKey, storage(AnalyticsEngine))]
pub async fn track(req: Request, key: Claims<'_, ApiKey>, analytics: AnalyticsEngine<'_>) -> Result<Response> {
    let event = req.param("event").unwrap_or_default();
    analytics.write(&[event, &key.label], &[1.0], &[event])?;
    Ok(Response::empty()?.with_status(204))
}

/// Calls `POST /api/limited/:bucket` allows per bucket.
pub const RATE_LIMIT: u32 = 3;

/// `app/ROUTES.md` as the manifest makes it: what `cargo xtask manifest --write` writes, and
/// what a test compares the committed file with.
#[must_use]
pub fn routes_doc() -> String {
    format!(
        "<!-- Generated from app::manifest() by `cargo xtask manifest --write`; do not edit. -->\n\n{}",
        manifest().to_markdown()
    )
}

/// One call counted against a [`RateLimiter`] object: its limit.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Hit {
    /// How many calls the object allows in all.
    pub limit: u32,
}

/// What a [`RateLimiter`] answers to a [`Hit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Counted {
    /// Within the limit: the calls counted so far, this one included.
    Allowed(u32),
    /// Past the limit.
    Limited,
}

/// The rate-limiter Durable Object class: one counter per object (per bucket name, or per
/// client, form and window for the abuse guard), kept in the object's own storage. Written with
/// layers: it never sees the `Env`, and its storage opens with the call's
/// `Claims<'_, DurableCaller>`.
#[derive(Debug, Default)]
pub struct RateLimiter;

#[durable_object]
impl RateLimiter {
    /// Counts `hit` and says whether it is within its limit.
    async fn call(&self, hit: Hit, _who: Claims<'_, DurableCaller>, store: ObjectStorage<'_>) -> Result<Counted> {
        let hits = store.get::<u32>("hits").await?.unwrap_or(0).saturating_add(1);
        store.put("hits", &hits).await?;
        Ok(if hits > hit.limit { Counted::Limited } else { Counted::Allowed(hits) })
    }
}

/// Counts a call against `:bucket` in the [`RateLimiter`] named after it; 429 past [`RATE_LIMIT`].
#[route(POST "/api/limited/:bucket", identity = ApiKey, storage(DurableObject = "RATE_LIMITER"))]
pub async fn limited(
    req: Request,
    _key: Claims<'_, ApiKey>,
    limiter: DurableObject<'_, RateLimiter>,
) -> Result<Response> {
    let bucket = req.param("bucket").unwrap_or_default();
    match limiter.stub_by_name(bucket)?.call(&Hit { limit: RATE_LIMIT }).await? {
        Counted::Limited => {
            let resp = Response::error("too many requests\n", 429)?;
            resp.headers().set("retry-after", "60")?;
            Ok(resp)
        }
        Counted::Allowed(count) => Ok(Response::from_json(&serde_json::json!({ "bucket": bucket, "count": count }))?),
    }
}

app! {
    routes: [
        blog::home,
        blog::post,
        blog::og_image,
        blog::subscribe,
        blog::confirm_page,
        blog::confirm,
        list_subscribers,
        add_subscriber,
        add_subscriber_typed,
        add_subscriber_form,
        extract_echo,
        import_subscribers,
        delete_subscriber,
        list_unsubscribed,
        blog::unsubscribe,
        blog::unsubscribe_page,
        admin::home,
        admin::dashboard,
        admin::subscribers,
        admin::contacts,
        admin::inbound,
        admin::digests,
        admin::flags,
        admin::flag,
        admin::reindex,
        search::search,
        whoami,
        blog::contact,
        inbound::email_inbound,
        backup_credentials,
        request_reindex,
        request_reindex_raw,
        events,
        put_file,
        get_file,
        delete_file,
        list_files,
        cached,
        purge_cached,
        track,
        limited,
        ai::summarize, ai::upsert_vectors, ai::query_vectors, ai::describe_vectors, ai::get_vector, ai::delete_vector,
        webmention::receive_webmention,
        webmention::list_webmentions,
        request_demo::show_headers, request_demo::hello, request_demo::go,
        flags::public_flag,
        #[cfg(feature = "attack-routes")]
        attacks::feed_verifier,
        #[cfg(feature = "attack-routes")]
        attacks::federation_cache,
        #[cfg(feature = "attack-routes")]
        attacks::slow_keys,
    ],
    crons: [weekly_digest],
    queues: [webmention::verify_webmentions, reindex, dead_letters],
    durable_objects: [RateLimiter],
}
