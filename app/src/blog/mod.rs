//! The blog's public side: the pages (`/`, `/blog/:slug`, `/og/:slug.png`), the newsletter
//! (`/api/subscribe` → mail with a confirm link → `/api/confirm/:token`, and
//! `/api/unsubscribe/:token`) and the contact form (`/api/contact`).
//!
//! Forms are protected twice: a solved Turnstile challenge (the route's identity), then — first
//! thing in the handler — an abuse guard: a fixed-window counter per client address (IPv4, or
//! the IPv6 /64) in the `RATE_LIMITER` Durable Object, `ABUSE_LIMIT` calls per
//! `ABUSE_WINDOW_SECS` per form, 429 with `retry-after` past it.

pub mod og;
mod related;

use layers_core::identity::{SignedToken, TokenConfig, TokenSource, Turnstile};

use crate::rate_limiter::{Counted, Hit, RateLimiter};
use layers_core::prelude::*;
use layers_core::{escape_html, Html};
use serde::Deserialize;

use crate::digest::ymd as date;
use crate::mail::{self, Mail};
use crate::UnsubscribeToken;

/// How long a confirmation link is valid.
pub const CONFIRM_TTL_SECS: u64 = 3 * 24 * 3600;
/// How long the unsubscribe link in the confirmation mail is valid.
pub const UNSUBSCRIBE_TTL_SECS: u64 = 365 * 24 * 3600;
/// A pending address gets at most one confirmation mail per this many seconds.
pub const RESEND_AFTER_SECS: i64 = 600;
/// Abuse guard defaults (vars `ABUSE_LIMIT`, `ABUSE_WINDOW_SECS`).
pub const DEFAULT_ABUSE_LIMIT: u32 = 5;
/// See [`DEFAULT_ABUSE_LIMIT`].
pub const DEFAULT_ABUSE_WINDOW_SECS: u64 = 600;

// ---------------------------------------------------------------------------------------------
// Pages
// ---------------------------------------------------------------------------------------------

fn site_name(vars: &Vars<'_>) -> String {
    vars.get("SITE_NAME").filter(|s| !s.is_empty()).unwrap_or_else(|| "layers".into())
}

/// The shared page layout. `title` and `site` are escaped here; `body` is HTML built by the
/// caller (which escapes what it interpolates), `head` extra `<head>` markup (likewise).
fn layout(site: &str, title: &str, head: &str, body: &str) -> String {
    let (site, title) = (escape_html(site), escape_html(title));
    format!(
        "<!doctype html>\n<html lang=en><head><meta charset=utf-8>\
         <meta name=viewport content=\"width=device-width,initial-scale=1\">\
         <title>{title}</title>{head}\
         <link rel=stylesheet href=\"/static/site.css\"><link rel=icon href=\"/favicon.svg\" type=\"image/svg+xml\"></head>\n\
         <body><header><a href=\"/\">{site}</a></header><main>{body}</main>\
         <footer>Built with layers: request, then identity, then storage.</footer></body></html>\n"
    )
}

fn now_secs() -> i64 {
    i64::try_from(layers_core::log::now_ms() / 1000).unwrap_or(i64::MAX)
}

#[derive(Debug, Deserialize)]
struct ListedPost {
    slug: String,
    title: String,
    summary: String,
    published_at: i64,
}

/// The home page: published posts, newest first.
#[route(GET "/", identity = Public, storage(D1 because(FixedSchema, ComplexSql, "posts")), vars(SITE_NAME), responds(200 Html))]
pub async fn home(_who: Claims<'_, Public>, db: D1<'_>, vars: Vars<'_>) -> Result<Response> {
    let posts: Vec<ListedPost> = db
        .prepare(
            "SELECT slug, title, summary, published_at FROM posts \
             WHERE published_at IS NOT NULL AND published_at <= ?1 ORDER BY published_at DESC, slug LIMIT 50",
        )
        .bind(&[&now_secs()])
        .all()
        .await?;
    let site = site_name(&vars);
    let mut body = format!("<h1>{}</h1>\n<ul class=posts>\n", escape_html(&site));
    for p in &posts {
        body.push_str(&format!(
            "<li><a href=\"/blog/{slug}\">{title}</a> <time>{date}</time><p>{summary}</p></li>\n",
            slug = escape_html(&p.slug),
            title = escape_html(&p.title),
            date = date(p.published_at),
            summary = escape_html(&p.summary),
        ));
    }
    if posts.is_empty() {
        body.push_str("<li>No posts yet.</li>\n");
    }
    body.push_str("</ul>\n");
    Ok(Html(layout(&site, &site, "", &body)).into())
}

#[derive(Debug, Deserialize)]
struct FullPost {
    title: String,
    summary: String,
    body: String,
    author: String,
    published_at: i64,
    views: i64,
    /// The cached AI summary (`ai_summaries`), if one was written.
    ai_summary: Option<String>,
}

async fn published(db: &D1<'_>, slug: &str) -> Result<Option<FullPost>> {
    if !valid_slug(slug) {
        return Ok(None);
    }
    db.prepare(
        "SELECT title, posts.summary AS summary, body, author, published_at, views, ai_summaries.summary AS ai_summary \
         FROM posts LEFT JOIN ai_summaries ON ai_summaries.slug = posts.slug \
         WHERE posts.slug = ?1 AND published_at IS NOT NULL AND published_at <= ?2",
    )
    .bind(&[&slug, &now_secs()])
    .first()
    .await
}

/// The AI summary block of a post page (`summaries`: written by Bedrock, cached in D1).
fn ai_summary_html(summary: &str) -> String {
    format!("<section class=ai-summary><h2>AI summary</h2><p>{}</p></section>\n", escape_html(summary))
}

/// `text` as HTML: escaped, with each `http(s)://` URL ([`crate::text_urls`]) made a link —
/// what a webmention receiver looks for in our page.
fn linkify(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut done = 0;
    for (range, _) in crate::text_urls::urls(text) {
        out.push_str(&escape_html(&text[done..range.start]));
        out.push_str(&format!("<a href=\"{0}\">{0}</a>", escape_html(&text[range.clone()])));
        done = range.end;
    }
    out.push_str(&escape_html(&text[done..]));
    out
}

/// Slugs are 1–100 of `a-z 0-9 -`.
pub(crate) fn valid_slug(slug: &str) -> bool {
    !slug.is_empty()
        && slug.len() <= 100
        && slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn not_found_page(site: &str) -> Response {
    let body = "<h1>Not found</h1><p>There is no post here. <a href=\"/\">All posts</a>.</p>";
    let resp: Response = Html(layout(site, "Not found", "", body)).into();
    resp.with_status(404)
}

/// One post (a missing or unpublished one is a 404 page). The view counter is bumped *after*
/// the response is sent, by a task that keeps using this request's D1 handle.
#[route(GET "/blog/:slug", identity = Public, storage(D1 because(FixedSchema, "posts"), Vectorize = "POSTS_INDEX" because(SimilaritySearch, "related posts")), vars(SITE_NAME))]
pub async fn post(
    req: Request,
    _who: Claims<'_, Public>,
    db: D1<'_>,
    posts_index: Vectorize<'_>,
    vars: Vars<'_>,
    after: After<'_>,
) -> Result<Response> {
    let slug = req.param("slug").unwrap_or_default().to_owned();
    let site = site_name(&vars);
    let Some(p) = published(&db, &slug).await? else {
        return Ok(not_found_page(&site));
    };
    let slug_html = escape_html(&slug).into_owned();
    let head = format!(
        "<meta name=description content=\"{summary}\"><meta property=og:title content=\"{title}\">\
         <meta property=og:image content=\"/og/{slug_html}.png\">",
        summary = escape_html(&p.summary),
        title = escape_html(&p.title),
    );
    let paragraphs: String = p.body.split("\n\n").map(|para| format!("<p>{}</p>\n", linkify(para.trim()))).collect();
    let body = format!(
        "<article><h1>{title}</h1><p class=meta>{author} · <time>{date}</time></p>\n{ai}{paragraphs}\
         {related}<p class=views>{views} views</p></article>",
        title = escape_html(&p.title),
        author = escape_html(&p.author),
        date = date(p.published_at),
        views = p.views,
        ai = p.ai_summary.as_deref().map(ai_summary_html).unwrap_or_default(),
        related = related::related_html(&db, &posts_index, &slug).await,
    );
    after.spawn(async move {
        // Best effort: a failed counter update is logged by the storage layer, never shown.
        let _ = db.prepare("UPDATE posts SET views = views + 1 WHERE slug = ?1").bind(&[&slug]).run().await;
    });
    Ok(Html(layout(&site, &p.title, &head, &body)).into())
}

#[derive(Debug, Deserialize)]
struct OgPost {
    title: String,
}

/// The Open Graph image of a post, `/og/<slug>.png`: generated on a cache miss, then served from
/// the Cache API for a day (`x-cache: miss` / `hit`). 404 unless the name ends in `.png` and the
/// post is published.
#[route(GET "/og/:file", identity = Public, storage(D1 because(FixedSchema, "the post an image is drawn for"), Cache because(HttpCaching, "generated Open Graph images")), vars(SITE_NAME))]
pub async fn og_image(
    req: Request,
    _who: Claims<'_, Public>,
    db: D1<'_>,
    cache: Cache<'_>,
    vars: Vars<'_>,
) -> Result<Response> {
    let file = req.param("file").unwrap_or_default();
    let Some(slug) = file.strip_suffix(".png").filter(|s| valid_slug(s)) else {
        return Err(Error::not_found());
    };
    let key = cache.key(&format!("/og/{slug}.png"))?;
    if let Some(mut hit) = cache.match_(&key).await? {
        let resp = Response::from_bytes(hit.bytes().await?)?;
        png_headers(&resp)?;
        resp.headers().set("x-cache", "hit")?;
        return Ok(resp);
    }
    let post: Option<OgPost> = db
        .prepare("SELECT title FROM posts WHERE slug = ?1 AND published_at IS NOT NULL AND published_at <= ?2")
        .bind(&[&slug, &now_secs()])
        .first()
        .await?;
    let Some(post) = post else {
        return Err(Error::not_found());
    };
    let mut resp = Response::from_bytes(og::og_png(slug, &post.title, &site_name(&vars)))?;
    png_headers(&resp)?;
    cache.put(&key, &mut resp).await?;
    resp.headers().set("x-cache", "miss")?;
    Ok(resp)
}

fn png_headers(resp: &Response) -> Result<()> {
    let h = resp.headers();
    h.set("content-type", "image/png")?;
    h.set("cache-control", "public, max-age=86400")?;
    h.set("x-content-type-options", "nosniff")?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Input checks and the abuse guard
// ---------------------------------------------------------------------------------------------

/// Longest address accepted (RFC 5321's path limit minus the brackets).
pub const MAX_EMAIL_LEN: usize = 254;

/// Checks an email address and returns it normalized: [`crate::email::normalize`] (trimmed,
/// the whole address lower-cased, strict dot-atom syntax), the one normalization every
/// subscriber path uses.
#[must_use]
pub fn normalize_email(input: &str) -> Option<String> {
    crate::email::normalize(input)
}

/// The abuse guard's key for a client address: the IPv4 address, or the /64 of an IPv6 one
/// (one host usually holds a whole /64). No or unparsable `CF-Connecting-IP`: one shared
/// bucket, so such requests are limited together rather than not at all.
#[must_use]
pub fn client_key(header: Option<&str>) -> String {
    match header.map(str::trim).and_then(|h| h.parse::<std::net::IpAddr>().ok()) {
        Some(std::net::IpAddr::V4(v4)) => v4.to_string(),
        Some(std::net::IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        None => "unknown".into(),
    }
}

fn var_in<T: std::str::FromStr + PartialOrd>(vars: &Vars<'_>, name: &str, min: T, max: T, default: T) -> T {
    vars.get(name).and_then(|v| v.trim().parse::<T>().ok()).filter(|v| *v >= min && *v <= max).unwrap_or(default)
}

/// Counts this call of `form` against the client's window; `Some(429 response)` past the limit.
pub(crate) async fn abuse_guard(
    req: &Request,
    vars: &Vars<'_>,
    limiter: &DurableObject<'_, RateLimiter>,
    form: &str,
) -> Result<Option<Response>> {
    let limit = var_in(vars, "ABUSE_LIMIT", 1, 100_000, DEFAULT_ABUSE_LIMIT);
    let window = var_in(vars, "ABUSE_WINDOW_SECS", 1, 86_400, DEFAULT_ABUSE_WINDOW_SECS);
    let now = layers_core::log::now_ms() / 1000;
    let slot = now / window;
    let client = client_key(req.header("cf-connecting-ip").as_deref());
    // One object per form, client and window (fixed window): a new window starts at zero.
    let stub = limiter.stub_by_name(&format!("abuse:{form}:{client}:{window}:{slot}"))?;
    match stub.call(&Hit { limit }).await? {
        Counted::Limited => {
            let retry = (slot + 1) * window - now;
            let body = Error::problem(429, "too many requests from your address; try again later")
                .problem_json()
                .unwrap_or_default();
            let resp = Response::ok(body)?.with_status(429);
            resp.headers().set("content-type", "application/problem+json")?;
            resp.headers().set("retry-after", &retry.max(1).to_string())?;
            Ok(Some(resp))
        }
        Counted::Allowed(_) => Ok(None),
    }
}

fn form_field(form: &[(String, String)], name: &str) -> String {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_owned()).unwrap_or_default()
}

/// Reads the form fields of an urlencoded body, or of a JSON object body (string values).
async fn read_fields(req: &mut Request) -> Result<Vec<(String, String)>> {
    let ct = req.header("content-type").unwrap_or_default().to_ascii_lowercase();
    if ct.starts_with("application/json") {
        let v: serde_json::Map<String, serde_json::Value> = req.json().await.map_err(Error::into_problem)?;
        Ok(v.into_iter().filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_owned()))).collect())
    } else if ct.starts_with("application/x-www-form-urlencoded") {
        req.form().await
    } else {
        Err(Error::problem(415, "send the form as application/x-www-form-urlencoded or application/json"))
    }
}

// ---------------------------------------------------------------------------------------------
// Newsletter
// ---------------------------------------------------------------------------------------------

/// Confirmation links: HMAC-signed email + expiry, purpose `confirm`, from the `:token` segment.
pub struct Confirm;

impl TokenConfig for Confirm {
    const SECRET: &'static str = "SIGNING_KEY";
    const PURPOSE: &'static str = "confirm";
    const SOURCE: TokenSource = TokenSource::Param("token");
    const NAME: &'static str = "SignedToken<Confirm>";
}

/// The verifier of confirmation links.
pub type ConfirmToken = SignedToken<Confirm>;

// The subscribe form (Turnstile) mails confirm and unsubscribe links: it may mint both.
impl MayMint<Turnstile> for Confirm {}
impl MayMint<Turnstile> for crate::Unsubscribe {}

#[derive(Debug, Deserialize)]
struct SubscriberState {
    status: String,
    confirm_sent_at: Option<i64>,
}

/// The link base for mails: var `SITE_URL` (never the request's `Host`, which the client
/// chooses). Unset or not an http(s) origin → 503, nothing is mailed.
/// `SITE_URL` without a trailing `/`: the public origin links and mentions point at.
///
/// # Errors
/// 503 when the var is unset or not an http(s) URL.
pub(crate) fn site_url(vars: &Vars<'_>) -> Result<String> {
    vars.get("SITE_URL")
        .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
        .map(|u| u.trim_end_matches('/').to_owned())
        .ok_or_else(|| {
            Error::new(503, "service unavailable").with_detail("var SITE_URL is unset or not an http(s) URL")
        })
}

/// Subscribes an address to the newsletter (double opt-in). Every outcome that is not an
/// error answers the same `202` (no address enumeration): a new or previously unsubscribed
/// address becomes `pending` and is sent a confirmation link (`/api/confirm/:token`) and an
/// unsubscribe link; a pending one gets a new mail at most every [`RESEND_AFTER_SECS`]; an
/// active one is left alone. The links travel only by mail, never in the response or the log.
#[route(POST "/api/subscribe", identity = Turnstile, storage(D1 because(FixedSchema, "subscribers"), DurableObject = "RATE_LIMITER" because(SingleWriter, "the per-address abuse guard")), vars(ABUSE_LIMIT, ABUSE_WINDOW_SECS, SITE_URL, SITE_NAME, MAIL_FROM), outbound(MAIL_URL))]
#[allow(clippy::too_many_arguments)] // each parameter is a capability the route declares
pub async fn subscribe(
    mut req: Request,
    _who: Claims<'_, Turnstile>,
    db: D1<'_>,
    limiter: DurableObject<'_, RateLimiter>,
    vars: Vars<'_>,
    out: Outbound<'_>,
    confirm_links: Mint<'_, Confirm>,
    unsubscribe_links: Mint<'_, crate::Unsubscribe>,
) -> Result<Response> {
    if let Some(limited) = abuse_guard(&req, &vars, &limiter, "subscribe").await? {
        return Ok(limited);
    }
    let fields = read_fields(&mut req).await?;
    let Some(email) = normalize_email(&form_field(&fields, "email")) else {
        return Err(Error::problem(400, "field `email` is not a valid address"));
    };
    let now = now_secs();
    db.prepare(
        "INSERT INTO subscribers (email, status, created_at) VALUES (?1, 'pending', ?2) \
         ON CONFLICT(email) DO UPDATE SET status = 'pending', unsubscribed_at = NULL, confirm_sent_at = NULL \
         WHERE subscribers.status = 'unsubscribed'",
    )
    .bind(&[&email, &now])
    .run()
    .await?;
    let state: Option<SubscriberState> =
        db.prepare("SELECT status, confirm_sent_at FROM subscribers WHERE email = ?1").bind(&[&email]).first().await?;
    let due =
        state.is_some_and(|s| s.status == "pending" && s.confirm_sent_at.is_none_or(|t| now - t >= RESEND_AFTER_SECS));
    if due {
        // Claim the send first (only one of two concurrent requests wins), then mail.
        let claimed = db
            .prepare(
                "UPDATE subscribers SET confirm_sent_at = ?2 WHERE email = ?1 AND status = 'pending' \
                 AND (confirm_sent_at IS NULL OR confirm_sent_at <= ?3)",
            )
            .bind(&[&email, &now, &(now - RESEND_AFTER_SECS)])
            .run()
            .await?;
        if claimed.changes == 1 {
            let base = site_url(&vars)?;
            let issued = now.unsigned_abs();
            let confirm = confirm_links.mint(&email, issued + CONFIRM_TTL_SECS)?;
            let unsub = unsubscribe_links.mint(&email, issued + UNSUBSCRIBE_TTL_SECS)?;
            let site = site_name(&vars);
            let text = format!(
                "Hello,\n\nsomeone (hopefully you) asked to receive {site} by email.\n\n\
                 Confirm your subscription:\n{base}/api/confirm/{confirm}\n\n\
                 If it was not you, ignore this mail: nothing will be sent without a confirmation.\n\
                 Unsubscribe at any time:\n{base}/api/unsubscribe/{unsub}\n"
            );
            let subject = format!("Confirm your subscription to {site}");
            if let Err(e) = mail::send(&out, &vars, &Mail { to: &email, subject: &subject, text: &text }).await {
                // Let a retry send again right away.
                let _ = db
                    .prepare("UPDATE subscribers SET confirm_sent_at = NULL WHERE email = ?1")
                    .bind(&[&email])
                    .run()
                    .await;
                return Err(e);
            }
        }
    }
    let resp = Response::from_json(&serde_json::json!({
        "ok": true,
        "message": "check your inbox for a confirmation link",
    }))?;
    Ok(resp.with_status(202))
}

/// Shows the confirmation button for a valid confirm link. Opening the link changes nothing:
/// mail scanners prefetch links, and a prefetch must not subscribe anyone (double opt-in means
/// a person pressed the button). The form posts to the same URL ([`confirm()`]).
#[route(GET "/api/confirm/:token", identity = ConfirmToken, vars(SITE_NAME))]
pub async fn confirm_page(req: Request, _who: Claims<'_, ConfirmToken>, vars: Vars<'_>) -> Result<Response> {
    let token = req.param("token").unwrap_or_default();
    let body = format!(
        "<h1>Subscription</h1><p>One more step: confirm that you want the newsletter.</p>\
         <form method=post action=\"/api/confirm/{}\"><button>Confirm my subscription</button></form>",
        escape_html(token)
    );
    Ok(Html(layout(&site_name(&vars), "Subscription", "", &body)).into())
}

/// Confirms a subscription: `pending` becomes `active`. Idempotent (an active address stays
/// active); a link for an address that unsubscribed since, or that was never stored, changes
/// nothing (409 / 404).
#[route(POST "/api/confirm/:token", identity = ConfirmToken, storage(D1 because(FixedSchema, Transactions, "subscribers: pending to active")), vars(SITE_NAME))]
pub async fn confirm(who: Claims<'_, ConfirmToken>, db: D1<'_>, vars: Vars<'_>) -> Result<Response> {
    let now = now_secs();
    db.prepare("UPDATE subscribers SET status = 'active', confirmed_at = ?2 WHERE email = ?1 AND status = 'pending'")
        .bind(&[&who.payload, &now])
        .run()
        .await?;
    let state: Option<SubscriberState> = db
        .prepare("SELECT status, confirm_sent_at FROM subscribers WHERE email = ?1")
        .bind(&[&who.payload])
        .first()
        .await?;
    let site = site_name(&vars);
    let (status, text) = match state.as_ref().map(|s| s.status.as_str()) {
        Some("active") => (200, "Your subscription is confirmed. Thank you!"),
        Some(_) => (409, "This address unsubscribed after the link was sent; subscribe again to get a new one."),
        None => (404, "This subscription does not exist (any more)."),
    };
    let resp: Response = Html(layout(&site, "Subscription", "", &format!("<h1>Subscription</h1><p>{text}</p>"))).into();
    Ok(resp.with_status(status))
}

/// Unsubscribes the email the token was signed for, whatever its state (`pending` or
/// `active`). Idempotent: a second call answers 200 with the same state. GET shows a
/// confirmation form and POST acts (mail clients prefetch GET links).
#[route(POST "/api/unsubscribe/:token", identity = UnsubscribeToken, storage(D1 because(FixedSchema, "subscribers"), KV because(Sessions, EventualConsistencyOk, "a 30-day record of recent unsubscribes")))]
pub async fn unsubscribe(who: Claims<'_, UnsubscribeToken>, db: D1<'_>, kv: Kv<'_>) -> Result<Response> {
    let now = now_secs();
    let info = db
        .prepare(
            "UPDATE subscribers SET status = 'unsubscribed', unsubscribed_at = ?2 \
             WHERE email = ?1 AND status != 'unsubscribed'",
        )
        .bind(&[&who.payload, &now])
        .run()
        .await?;
    kv.put_with_ttl(&format!("unsubscribed:{}", who.payload), &now.to_string(), 30 * 24 * 3600).await?;
    Ok(Response::from_json(&serde_json::json!({ "unsubscribed": true, "changed": info.changes }))?)
}

/// Shows the unsubscribe confirmation for a valid link.
#[route(GET "/api/unsubscribe/:token", identity = UnsubscribeToken, storage(D1 because(FixedSchema, "subscribers")), vars(SITE_NAME))]
pub async fn unsubscribe_page(
    req: Request,
    who: Claims<'_, UnsubscribeToken>,
    db: D1<'_>,
    vars: Vars<'_>,
) -> Result<Response> {
    let state: Option<SubscriberState> = db
        .prepare("SELECT status, confirm_sent_at FROM subscribers WHERE email = ?1")
        .bind(&[&who.payload])
        .first()
        .await?;
    let site = site_name(&vars);
    let body = if state.is_none_or(|s| s.status == "unsubscribed") {
        "<h1>Unsubscribe</h1><p>You are unsubscribed.</p>".to_owned()
    } else {
        let token = req.param("token").unwrap_or_default();
        format!(
            "<h1>Unsubscribe</h1><form method=post action=\"/api/unsubscribe/{}\"><button>Unsubscribe</button></form>",
            escape_html(token)
        )
    };
    Ok(Html(layout(&site, "Unsubscribe", "", &body)).into())
}

// ---------------------------------------------------------------------------------------------
// Contact
// ---------------------------------------------------------------------------------------------

/// Field limits of the contact form (characters).
pub const MAX_NAME: usize = 200;
/// See [`MAX_NAME`].
pub const MAX_MESSAGE: usize = 10_000;

/// The contact form: a solved Turnstile challenge, the abuse guard, then the message
/// (`name` 1–200, a valid `email`, `message` 1–10 000 characters) is stored.
#[route(POST "/api/contact", identity = Turnstile, storage(D1 because(FixedSchema, "contact messages"), DurableObject = "RATE_LIMITER" because(SingleWriter, "the per-address abuse guard")), vars(ABUSE_LIMIT, ABUSE_WINDOW_SECS))]
pub async fn contact(
    mut req: Request,
    _human: Claims<'_, Turnstile>,
    db: D1<'_>,
    limiter: DurableObject<'_, RateLimiter>,
    vars: Vars<'_>,
) -> Result<Response> {
    if let Some(limited) = abuse_guard(&req, &vars, &limiter, "contact").await? {
        return Ok(limited);
    }
    let fields = read_fields(&mut req).await?;
    let (name, message) = (form_field(&fields, "name"), form_field(&fields, "message"));
    if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(Error::problem(400, "field `name` is required (at most 200 characters, one line)"));
    }
    let Some(email) = normalize_email(&form_field(&fields, "email")) else {
        return Err(Error::problem(400, "field `email` is not a valid address"));
    };
    if message.is_empty() || message.chars().count() > MAX_MESSAGE {
        return Err(Error::problem(400, "field `message` is required (at most 10000 characters)"));
    }
    db.prepare("INSERT INTO contacts (name, email, message, created_at) VALUES (?1, ?2, ?3, ?4)")
        .bind(&[&name, &email, &message, &now_secs()])
        .run()
        .await?;
    Ok(Response::from_json(&serde_json::json!({ "received": true }))?.with_status(201))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_keys() {
        assert_eq!(client_key(Some("203.0.113.7")), "203.0.113.7");
        assert_eq!(client_key(Some("2001:db8:1:2:3:4:5:6")), "2001:db8:1:2::/64");
        assert_eq!(client_key(Some("2001:db8:1:2::9")), client_key(Some("2001:db8:1:2:ffff::1")));
        assert_eq!(client_key(Some("::ffff:198.51.100.1")), "198.51.100.1");
        assert_eq!(client_key(Some("not an ip")), "unknown");
        assert_eq!(client_key(None), "unknown");
    }

    #[test]
    fn dates_and_slugs() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(1_764_288_000), "2025-11-28");
        assert_eq!(date(951_782_400), "2000-02-29");
        assert!(valid_slug("hello-layers") && valid_slug("a1"));
        assert!(!valid_slug("") && !valid_slug("Hello") && !valid_slug("a/b") && !valid_slug("a.png"));
    }

    #[test]
    fn linkify_links_urls_and_escapes_the_rest() {
        assert_eq!(linkify("plain <b>"), "plain &lt;b&gt;");
        assert_eq!(
            linkify("See https://a.example/x?y=1&z=2. Or (http://b.example/)"),
            "See <a href=\"https://a.example/x?y=1&amp;z=2\">https://a.example/x?y=1&amp;z=2</a>. Or (<a href=\"http://b.example/\">http://b.example/</a>)"
        );
        assert_eq!(linkify("https://\"onmouseover=x"), "https://&quot;onmouseover=x");
        assert_eq!(linkify("javascript:alert(1) https://"), "javascript:alert(1) https://");
    }

    #[test]
    fn layout_escapes_title_and_site() {
        let page = layout("<b>site</b>", "a \"t\" & <i>", "", "<p>ok</p>");
        assert!(page.contains("<title>a &quot;t&quot; &amp; &lt;i&gt;</title>"));
        assert!(page.contains("&lt;b&gt;site&lt;/b&gt;") && page.contains("<p>ok</p>"));
        assert!(!page.contains("<i>") && !page.contains("<b>"));
    }
}
