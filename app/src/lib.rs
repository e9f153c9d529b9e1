//! The layers reference Worker (for now a small one; the full blog comes later).
//!
//! | route | identity | storage |
//! |---|---|---|
//! | `GET /` | Public | D1 |
//! | `GET /posts/:slug` | Public | D1 |
//! | `GET /api/subscribers` | ApiKey | D1 |
//! | `POST /api/subscribers` | ApiKey | D1 |
//! | `POST /api/subscribers/typed` (`Json<NewSubscriber>`), `POST /api/subscribers/form` (`Form<…>`) | ApiKey | D1 |
//! | `GET /api/extract/:slug/:n` (`Path`, `Query`, `Cf`) | ApiKey | — |
//! | `POST /api/subscribers/import` | ApiKey | D1 (batch) |
//! | `DELETE /api/subscribers/:email` | ApiKey | D1, KV |
//! | `GET /api/unsubscribed` | ApiKey | KV (list) |
//! | `GET\|POST /api/unsubscribe/:token` | SignedToken (purpose `unsubscribe`) | D1, KV |
//! | `GET /admin/*` | AccessJwt + `ADMIN_EMAILS` allowlist | D1, KV |
//! | `POST /admin/flags/:name` | AccessJwt + `ADMIN_EMAILS` allowlist | KV, D1 |
//! | `GET /api/whoami` | AnyOf<ApiKey, AccessJwt> | — |
//! | `POST /api/contact` | Turnstile | D1 |
//! | `POST /api/email-inbound` | Webhook (Svix signature) | D1 |
//! | `GET /ops/backup-credentials` | AccessJwt + `ADMIN_EMAILS` allowlist; outbound `Federation<BackupRole>` (STS) | KV (credential cache) |
//! | `POST /api/reindex` | ApiKey | Queue producer `REINDEX` (`ReindexJob`) |
//! | `POST /api/reindex/raw` | ApiKey | Queue producer `REINDEX` (a raw string: the poison-message path) |
//! | `GET /api/events` | ApiKey | D1 (what the cron and the consumers wrote) |
//! | `PUT\|GET\|DELETE /api/files/:name` | ApiKey | R2 (`BUCKET`, up to 10 MB, content type and an `x-file-note` custom metadata) |
//! | `GET /api/files` | ApiKey | R2 (list, `?prefix=`, `?cursor=`) |
//! | `GET /api/cached/:slug` | ApiKey | Cache (default cache; `x-cache: miss` then `hit`) |
//! | `DELETE /api/cached/:slug` | ApiKey | Cache (purge) |
//! | `POST /api/track/:event` | ApiKey | Analytics Engine (`ANALYTICS`: one data point per call) |
//! | `POST /api/limited/:bucket` | ApiKey | Durable Object `RATE_LIMITER` ([`RateLimiter`]: 429 after 3 calls per bucket) |
//! | cron `0 2 * * SUN` | System | D1 (`digest_runs`) |
//! | queue `reindex` | System | D1 (`reindexed`) |
//! | queue `reindex-dlq` | System | D1 (`dead_letters`) |

#![forbid(unsafe_code)]

use layers_core::identity::{
    AccessClaims, AccessConfig, AccessJwt, AnyOf, EmailAllowlist, FederationConfig, Guarded, OneOf, TokenConfig,
    TokenSource, Turnstile, Webhook,
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
    let email = email.trim().to_ascii_lowercase();
    if !valid_email(&email) {
        return Err(Error::problem(400, "field `email` is not a valid address"));
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

fn admin_email(who: &AccessClaims) -> String {
    who.email().unwrap_or_default().to_owned()
}

#[derive(Debug, Deserialize, Serialize)]
struct Count {
    n: i64,
}

/// The admin dashboard (any path under `/admin/`): who is signed in, subscriber count, flags.
#[route(GET "/admin/*", identity = Admin, storage(D1, KV))]
pub async fn admin_dashboard(req: Request, who: Claims<'_, Admin>, db: D1<'_>, kv: Kv<'_>) -> Result<Response> {
    let count: Option<Count> = db.prepare("SELECT COUNT(*) AS n FROM subscribers").first().await?;
    let flags = kv.list("flag:", 100, None).await?;
    Ok(Response::from_json(&serde_json::json!({
        "admin": admin_email(&who),
        "page": req.rest().unwrap_or_default(),
        "subscribers": count.map_or(0, |c| c.n),
        "flags": flags.keys.iter().filter_map(|k| k.strip_prefix("flag:")).collect::<Vec<_>>(),
    }))?)
}

/// Turns a feature flag on (`{"on": true}`) or off, with an audit row in D1.
#[route(POST "/admin/flags/:name", identity = Admin, storage(KV, D1))]
pub async fn admin_flag(mut req: Request, who: Claims<'_, Admin>, kv: Kv<'_>, db: D1<'_>) -> Result<Response> {
    #[derive(Deserialize)]
    struct Flag {
        on: bool,
    }
    let name = req.param("name").unwrap_or_default().to_owned();
    if name.len() > 64 || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
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

/// Machines (API key) or people (Access) may ask who they are.
#[route(GET "/api/whoami", identity = AnyOf<ApiKey, AccessJwt<AdminAccess>>)]
pub async fn whoami(who: Claims<'_, AnyOf<ApiKey, AccessJwt<AdminAccess>>>) -> Result<Response> {
    let v = match &*who {
        OneOf::First(key) => serde_json::json!({ "via": "api-key", "label": key.label }),
        OneOf::Second(access) => serde_json::json!({ "via": "access", "email": access.email() }),
    };
    Ok(Response::from_json(&v)?)
}

/// The contact form: a solved Turnstile challenge, then the message is stored.
#[route(POST "/api/contact", identity = Turnstile, storage(D1))]
pub async fn contact(mut req: Request, _human: Claims<'_, Turnstile>, db: D1<'_>) -> Result<Response> {
    let form = req.form().await?;
    let field = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim().to_owned()).unwrap_or_default();
    let (name, email, message) = (field("name"), field("email").to_ascii_lowercase(), field("message"));
    if name.is_empty() || name.len() > 200 {
        return Err(Error::bad_request("name is required (at most 200 characters)"));
    }
    if !valid_email(&email) {
        return Err(Error::bad_request("a valid email is required"));
    }
    if message.is_empty() || message.len() > 10_000 {
        return Err(Error::bad_request("message is required (at most 10000 characters)"));
    }
    let now = layers_core::log::now_ms() / 1000;
    db.prepare("INSERT INTO contacts (name, email, message, created_at) VALUES (?1, ?2, ?3, ?4)")
        .bind(&[&name, &email, &message, &now])
        .run()
        .await?;
    Ok(Response::from_json(&serde_json::json!({ "received": true }))?.with_status(201))
}

/// Inbound email events, signed by the mail provider (Svix scheme). Retries carry the same
/// `svix-id` and are stored once.
#[route(POST "/api/email-inbound", identity = Webhook, storage(D1))]
pub async fn email_inbound(mut req: Request, hook: Claims<'_, Webhook>, db: D1<'_>) -> Result<Response> {
    let body = req.text().await?;
    let event: serde_json::Value = serde_json::from_str(&body).map_err(|_| Error::bad_request("body is not JSON"))?;
    if !event.is_object() {
        return Err(Error::bad_request("body is not a JSON object"));
    }
    let info = db
        .prepare("INSERT INTO inbound_emails (svix_id, received_at, payload) VALUES (?1, ?2, ?3) ON CONFLICT(svix_id) DO NOTHING")
        .bind(&[&hook.id, &hook.timestamp, &body])
        .run()
        .await?;
    Ok(Response::from_json(&serde_json::json!({ "stored": info.changes == 1 }))?)
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

/// Shows an admin the backup role's current temporary credentials — which access key id, until
/// when, and whether they came from the KV cache. The secret key and session token never leave
/// the Worker (and its KV cache): they are for calls the Worker makes itself.
/// (`/ops/…` rather than `/admin/…`: `GET /admin/*` already matches every path there.)
#[route(GET "/ops/backup-credentials", identity = Admin, storage(KV))]
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

/// The weekly digest: records its run (the digest mail itself comes with the mail layer).
#[scheduled("0 2 * * SUN", storage(D1))]
pub async fn weekly_digest(who: Claims<'_, System>, db: D1<'_>) -> Result<()> {
    #[allow(clippy::cast_possible_wrap)] // ms since the epoch
    let scheduled = who.time_ms as i64;
    #[allow(clippy::cast_possible_wrap)]
    let now = layers_core::log::now_ms() as i64;
    db.prepare("INSERT INTO digest_runs (cron, scheduled_at, ran_at) VALUES (?1, ?2, ?3)")
        .bind(&[&who.source, &scheduled, &now])
        .run()
        .await?;
    Ok(())
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
/// decode as a [`ReindexJob`] (how a poison message is retried, then dead-lettered).
#[route(POST "/api/reindex/raw", identity = ApiKey, storage(Queue = "REINDEX"))]
pub async fn request_reindex_raw(
    mut req: Request,
    _key: Claims<'_, ApiKey>,
    queue: Queue<'_, String>,
) -> Result<Response> {
    let text = req.text().await?;
    queue.send(&text).await?;
    Ok(Response::from_json(&serde_json::json!({ "queued": 1 }))?.with_status(202))
}

/// Reindexes posts. A job whose slug starts with `fail-` is retried (and, after
/// `max_retries`, dead-lettered): the explicit-retry path.
#[queue("reindex", storage(D1))]
pub async fn reindex(batch: Batch<'_, ReindexJob>, _who: Claims<'_, System>, db: D1<'_>) -> Result<()> {
    #[allow(clippy::cast_possible_wrap)]
    let now = layers_core::log::now_ms() as i64;
    for msg in &batch {
        let job = msg.body();
        if job.slug.starts_with("fail-") {
            msg.retry();
            continue;
        }
        db.prepare("INSERT OR REPLACE INTO reindexed (slug, reason, indexed_at) VALUES (?1, ?2, ?3)")
            .bind(&[&job.slug, &job.reason, &now])
            .run()
            .await?;
        msg.ack();
    }
    Ok(())
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

/// Largest upload `PUT /api/files/:name` accepts.
pub const MAX_FILE: usize = 10 * 1024 * 1024;

/// Stores the body in R2 under `:name`, with its `content-type` and an optional `x-file-note`
/// header kept as custom metadata `note`.
#[route(PUT "/api/files/:name", identity = ApiKey, storage(R2))]
pub async fn put_file(mut req: Request, _key: Claims<'_, ApiKey>, bucket: R2<'_>) -> Result<Response> {
    let name = req.param("name").unwrap_or_default().to_owned();
    let content_type = req.header("content-type");
    let mut meta = std::collections::HashMap::new();
    if let Some(note) = req.header("x-file-note") {
        meta.insert("note".to_owned(), note);
    }
    let body = req.bytes_limited(MAX_FILE).await?;
    let size = body.len();
    bucket.put(&format!("files/{name}"), body, content_type.as_deref(), meta).await?;
    let resp = Response::from_json(&serde_json::json!({ "stored": name, "size": size }))?;
    Ok(resp.with_status(201))
}

/// Serves the R2 object `:name` with its content type, etag and `x-file-note`.
#[route(GET "/api/files/:name", identity = ApiKey, storage(R2))]
pub async fn get_file(req: Request, _key: Claims<'_, ApiKey>, bucket: R2<'_>) -> Result<Response> {
    let name = req.param("name").unwrap_or_default();
    let Some(obj) = bucket.get(&format!("files/{name}")).await? else {
        return Err(Error::not_found());
    };
    let resp = Response::from_bytes(obj.body)?;
    let h = resp.headers();
    h.set("content-type", obj.content_type.as_deref().unwrap_or("application/octet-stream"))?;
    h.set("etag", &obj.http_etag)?;
    if let Some(note) = obj.custom_metadata.get("note") {
        h.set("x-file-note", note)?;
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

/// The rate-limiter Durable Object class (`#[durable_object]` generates undocumented glue).
#[allow(missing_docs)]
mod rate_limiter {
    use worker::Response;

    /// A counter per bucket name: answers 200 with the count up to `?limit=`, then 429.
    #[worker::durable_object]
    pub struct RateLimiter {
        state: worker::State,
    }

    impl worker::DurableObject for RateLimiter {
        fn new(state: worker::State, _env: worker::Env) -> Self {
            RateLimiter { state }
        }

        async fn fetch(&self, req: worker::Request) -> worker::Result<Response> {
            let url = req.url()?;
            let limit =
                url.query_pairs().find(|(k, _)| k == "limit").and_then(|(_, v)| v.parse::<u32>().ok()).unwrap_or(1);
            let storage = self.state.storage();
            let hits = storage.get::<u32>("hits").await?.unwrap_or(0).saturating_add(1);
            storage.put("hits", hits).await?;
            if hits > limit {
                Response::error("rate limited", 429)
            } else {
                Response::ok(hits.to_string())
            }
        }
    }
}
pub use rate_limiter::RateLimiter;

/// Counts a call against `:bucket` in the [`RateLimiter`] named after it; 429 past [`RATE_LIMIT`].
#[route(POST "/api/limited/:bucket", identity = ApiKey, storage(DurableObject = "RATE_LIMITER"))]
pub async fn limited(req: Request, _key: Claims<'_, ApiKey>, limiter: DurableObject<'_>) -> Result<Response> {
    let bucket = req.param("bucket").unwrap_or_default();
    let stub = limiter.stub_by_name(bucket)?;
    let answer = stub.fetch("POST", &format!("/hit?limit={RATE_LIMIT}"), None).await?;
    if answer.status == 429 {
        let resp = Response::error("too many requests\n", 429)?;
        resp.headers().set("retry-after", "60")?;
        return Ok(resp);
    }
    let count = String::from_utf8_lossy(&answer.body).into_owned();
    Ok(Response::from_json(&serde_json::json!({ "bucket": bucket, "count": count.parse::<u32>().unwrap_or(0) }))?)
}

app! {
    routes: [
        home,
        post,
        list_subscribers,
        add_subscriber,
        add_subscriber_typed,
        add_subscriber_form,
        extract_echo,
        import_subscribers,
        delete_subscriber,
        list_unsubscribed,
        unsubscribe,
        unsubscribe_page,
        admin_dashboard,
        admin_flag,
        whoami,
        contact,
        email_inbound,
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
    ],
    crons: [weekly_digest],
    queues: [reindex, dead_letters],
}
