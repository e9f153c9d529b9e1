//! Publishing: `POST /admin/posts` writes a post and publishes it now (a post already published
//! keeps its date), then queues what follows a publication: a [`ReindexJob`] with reason
//! `publish`, whose consumer ([`crate::reindex::reindex()`]) refreshes the post's search entry
//! and queues a webmention to every outside page its body links to
//! ([`SendJob`](crate::webmention::SendJob)). One queue per route: the reindex consumer fans out.

use layers_core::prelude::*;
use layers_core::Url;
use serde::Deserialize;

use crate::admin::{admin_email, require_json};
use crate::reindex::ReindexJob;
use crate::Admin;

/// The largest request body of `POST /admin/posts`.
pub const MAX_POST_BYTES: usize = 256 * 1024;

/// A post to publish (`POST /admin/posts`, `application/json`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPost {
    /// 1–100 of `a-z 0-9 -`.
    pub slug: String,
    /// The title (1–200 characters).
    pub title: String,
    /// The text: paragraphs separated by a blank line; `http(s)://` URLs become links.
    pub body: String,
    /// The one-line summary shown on the home page (default: empty).
    #[serde(default)]
    pub summary: String,
    /// The author (default: the signed-in admin's address).
    #[serde(default)]
    pub author: Option<String>,
}

fn check(post: &NewPost) -> Result<()> {
    if !crate::blog::valid_slug(&post.slug) {
        return Err(Error::problem(400, "`slug` must be 1-100 of a-z, 0-9 and -"));
    }
    let title = post.title.trim();
    if title.is_empty() || title.chars().count() > 200 || title.chars().any(char::is_control) {
        return Err(Error::problem(400, "`title` must be 1-200 printable characters"));
    }
    if post.body.trim().is_empty() {
        return Err(Error::problem(400, "`body` must not be empty"));
    }
    if post.summary.chars().count() > 500 {
        return Err(Error::problem(400, "`summary` must be at most 500 characters"));
    }
    Ok(())
}

/// Publishes a post (see the module documentation). Answers 201 with the post's URL and how many
/// webmentions were queued; 400/415 problem+json for a bad body.
#[route(POST "/admin/posts", identity = Admin, storage(D1 because(FixedSchema, Transactions, "posts, the admin audit log and webmentions to send"), Queue = "REINDEX" because(BackgroundJobs, Retries, "search, embeddings and webmentions of the new post")), vars(SITE_URL))]
pub async fn publish(
    mut req: Request,
    who: Claims<'_, Admin>,
    db: D1<'_>,
    reindex: Queue<'_, ReindexJob>,
    vars: Vars<'_>,
) -> Result<Response> {
    require_json(req.header("content-type").as_deref())?;
    let raw = req.bytes_limited(MAX_POST_BYTES).await.map_err(Error::into_problem)?;
    let post: NewPost = serde_json::from_slice(&raw)
        .map_err(|e| Error::new(400, "the body is not a post").with_detail(e.to_string()).into_problem())?;
    check(&post)?;
    let site = crate::blog::site_url(&vars)?;
    let links = crate::webmention::outside_links(
        &post.body,
        &Url::parse(&site)
            .map_err(|_| Error::new(503, "service unavailable").with_detail("var SITE_URL is not a URL"))?,
    );
    let now = layers_core::log::now_ms() / 1000;
    let author = post.author.clone().unwrap_or_else(|| admin_email(&who));
    db.prepare(
        "INSERT INTO posts (slug, title, summary, body, author, created_at, published_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) \
         ON CONFLICT (slug) DO UPDATE SET title = excluded.title, summary = excluded.summary, body = excluded.body, \
         author = excluded.author, published_at = COALESCE(posts.published_at, excluded.published_at)",
    )
    .bind(&[&post.slug, &post.title.trim(), &post.summary, &post.body, &author, &now])
    .run()
    .await?;
    db.prepare("INSERT INTO admin_audit (actor, action, created_at) VALUES (?1, ?2, ?3)")
        .bind(&[&admin_email(&who), &format!("publish {}", post.slug), &now])
        .run()
        .await?;
    reindex.send(&ReindexJob { slug: post.slug.clone(), reason: crate::reindex::PUBLISH.to_owned() }).await?;
    let resp = Response::from_json(&serde_json::json!({
        "slug": post.slug,
        "url": format!("{site}/blog/{}", post.slug),
        "links": links.iter().map(ToString::to_string).collect::<Vec<_>>(),
    }))?;
    resp.headers().set("cache-control", "no-store")?;
    Ok(resp.with_status(201))
}
