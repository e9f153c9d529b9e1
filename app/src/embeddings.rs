//! Post embeddings in Vectorize: the `reindex` consumer ([`crate::reindex::reindex()`]) embeds
//! each published post with Workers AI ([`MODEL`]) and upserts the vector into the
//! `POSTS_INDEX` index; "related posts" on each post page ([`crate::blog`]) and
//! `GET /search/semantic` ([`crate::semantic`]) query it. The FTS5 search ([`crate::search`])
//! stays for keywords.
//!
//! * A vector's id is the post's slug ([`vector_id`]: slugs longer than Vectorize's 64-byte
//!   ids are cut and suffixed with a hash); its metadata is `{slug, title}`.
//! * What is embedded is the title, a blank line and the body, cut to [`MAX_TEXT_CHARS`]
//!   characters ([`post_text`]): bge-small reads at most 512 tokens, so the start of a long post
//!   stands for all of it.
//! * A job for one slug embeds the post when it is published (`published_at` set, as the FTS
//!   index has it; a post dated in the future is filtered out when read) and deletes its vector
//!   otherwise. A job for [`ALL_POSTS`] re-embeds every published post, [`MAX_TEXTS_PER_CALL`]
//!   texts per Workers AI call (and per upsert, well under Vectorize's 1000; a page whose call
//!   fails is embedded one post at a time, so one text the model refuses does not keep the
//!   others out), and deletes the vectors of drafts.
//! * **Failures.** The consumer has already committed the post's search entry when it embeds.
//!   When embedding fails (Workers AI or Vectorize down, an unexpected answer), the message is
//!   retried after [`RETRY_DELAY_SECS`] — the search entry is rewritten, harmlessly, and the
//!   post's webmentions wait for that retry — as long as [`retry_embedding`] says so (the first
//!   delivery); on the last one the embedding is given up (logged as
//!   `{"layer":"app","event":"embedding","outcome":"gave_up"}`) and the rest of the job goes
//!   on: a missing vector only hides the post from "related posts" and semantic search until
//!   its next reindex or an [`ALL_POSTS`] rebuild. Each call's failure is also in the storage
//!   log line of its handle.
//! * Vectorize applies writes asynchronously (a few seconds on Cloudflare; at once in the local
//!   stand-in), so readers check every match against D1 (published, not in the future) and
//!   never show a vector D1 does not vouch for.

use layers_core::prelude::*;
use layers_core::storage::{VectorMatch, VectorRecord};
use serde::Deserialize;

pub use crate::search::ALL_POSTS;

/// The embedding model: 384 dimensions, English.
pub const MODEL: &str = "@cf/baai/bge-small-en-v1.5";
/// The dimensions of [`MODEL`]'s vectors, and of the `POSTS_INDEX` index
/// (`wrangler vectorize create layers-posts --dimensions=384 --metric=cosine`).
pub const DIMENSIONS: usize = 384;
/// Most texts one Workers AI embedding call takes.
pub const MAX_TEXTS_PER_CALL: usize = 100;
/// Most characters of a post that are embedded (about bge-small's 512 tokens).
pub const MAX_TEXT_CHARS: usize = 2000;
/// Deliveries of a reindex message that try its embedding: the queue's `max_retries` (1, in
/// app/wrangler.toml) plus one. The last one gives the embedding up instead of retrying.
pub const EMBED_ATTEMPTS: u32 = 2;
/// The delay before a message whose embedding failed is delivered again.
pub const RETRY_DELAY_SECS: u32 = 30;
/// When embedding a page of posts in one call fails, they are embedded one at a time; after
/// this many of those fail too, the rest of the page is left (Workers AI is down, not a text).
pub const MAX_SINGLE_FAILURES: usize = 3;
/// Vectorize's longest id, in bytes.
const MAX_ID_BYTES: usize = layers_core::storage::vectorize::MAX_ID_BYTES;

/// The text embedded for a post: its title, a blank line and its body, trimmed, at most
/// [`MAX_TEXT_CHARS`] characters.
#[must_use]
pub fn post_text(title: &str, body: &str) -> String {
    let text = format!("{}\n\n{}", title.trim(), body.trim());
    match text.char_indices().nth(MAX_TEXT_CHARS) {
        Some((cut, _)) => text[..cut].trim_end().to_owned(),
        None => text,
    }
}

/// 64-bit FNV-1a, for ids that must be short and stable.
fn fnv1a64(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// The Vectorize id of post `slug`: the slug itself when it fits in 64 bytes, else its first
/// 47 bytes, `~` and 16 hex digits of its FNV-1a hash (64 bytes; unique in practice, stable).
#[must_use]
pub fn vector_id(slug: &str) -> String {
    if slug.len() <= MAX_ID_BYTES {
        return slug.to_owned();
    }
    let cut = (0..=MAX_ID_BYTES - 17).rev().find(|&i| slug.is_char_boundary(i)).unwrap_or(0);
    format!("{}~{:016x}", &slug[..cut], fnv1a64(slug))
}

/// Whether a reindex message whose embedding failed on delivery `attempts` (1 = the first;
/// 0 = the runtime did not say) is retried: only before the last of [`EMBED_ATTEMPTS`], and
/// never when the count is unknown (a message must not end in the dead-letter queue for its
/// embedding).
#[must_use]
pub fn retry_embedding(attempts: u32) -> bool {
    (1..EMBED_ATTEMPTS).contains(&attempts)
}

#[derive(Deserialize)]
struct Embeddings {
    data: Vec<Vec<f32>>,
}

/// Checks a model answer: one vector per text, each of [`DIMENSIONS`] finite values.
fn check_embeddings(data: &[Vec<f32>], texts: usize) -> std::result::Result<(), String> {
    if data.len() != texts {
        return Err(format!("{} embeddings for {texts} texts", data.len()));
    }
    match data.iter().find(|v| v.len() != DIMENSIONS || !v.iter().all(|x| x.is_finite())) {
        Some(v) => Err(format!("an embedding of {} values (expected {DIMENSIONS} finite ones)", v.len())),
        None => Ok(()),
    }
}

/// Embeds `texts` (1 to [`MAX_TEXTS_PER_CALL`]) with [`MODEL`], one vector per text, in order.
///
/// # Errors
/// The model failed, or answered something else than one [`DIMENSIONS`]-vector per text (500).
pub(crate) async fn embed(ai: &Ai<'_>, texts: &[String]) -> Result<Vec<Vec<f32>>> {
    if texts.is_empty() || texts.len() > MAX_TEXTS_PER_CALL {
        return Err(Error::internal(format!("{} texts for one embedding call", texts.len())));
    }
    let out: Embeddings = ai.run(MODEL, &serde_json::json!({ "text": texts })).await?;
    check_embeddings(&out.data, texts.len()).map_err(|e| Error::internal(format!("{MODEL}: {e}")))?;
    Ok(out.data)
}

#[derive(Deserialize)]
struct PostText {
    slug: String,
    title: String,
    body: String,
}

/// The `{slug, title}` metadata stored with a post's vector.
fn metadata(p: &PostText) -> serde_json::Map<String, serde_json::Value> {
    let mut m = serde_json::Map::new();
    m.insert("slug".into(), p.slug.clone().into());
    m.insert("title".into(), p.title.trim().into());
    m
}

/// Embeds `posts` (at most [`MAX_TEXTS_PER_CALL`]) in one call and upserts their vectors.
async fn upsert(ai: &Ai<'_>, index: &Vectorize<'_>, posts: &[PostText]) -> Result<()> {
    if posts.is_empty() {
        return Ok(());
    }
    let texts: Vec<String> = posts.iter().map(|p| post_text(&p.title, &p.body)).collect();
    let vectors = embed(ai, &texts).await?;
    let records: Vec<VectorRecord> = posts
        .iter()
        .zip(vectors)
        .map(|(p, values)| VectorRecord {
            id: vector_id(&p.slug),
            values,
            metadata: Some(metadata(p)),
            namespace: None,
        })
        .collect();
    index.upsert(&records).await?;
    Ok(())
}

/// The columns read for embedding: the body cut in SQL already (a long post is not read whole
/// into the Worker).
fn post_columns() -> String {
    format!("slug, title, substr(body, 1, {MAX_TEXT_CHARS}) AS body")
}

/// Brings post `slug`'s vector up to date: upserted when the post is published, deleted
/// otherwise; [`ALL_POSTS`] does every post ([`index_all`]). A slug no post could have (not
/// 1–100 of `a-z 0-9 -`) has no vector: nothing to do.
///
/// # Errors
/// D1, Workers AI or Vectorize failed (the caller decides on a retry: [`retry_embedding`]).
pub(crate) async fn index_post(db: &D1<'_>, ai: &Ai<'_>, index: &Vectorize<'_>, slug: &str) -> Result<()> {
    if slug == ALL_POSTS {
        return index_all(db, ai, index).await;
    }
    if !crate::blog::valid_slug(slug) {
        return Ok(());
    }
    let index = &index.clone().with_dimensions(DIMENSIONS);
    let post: Option<PostText> = db
        .prepare(&format!("SELECT {} FROM posts WHERE slug = ?1 AND published_at IS NOT NULL", post_columns()))
        .bind(&[&slug])
        .first()
        .await?;
    match post {
        Some(p) => upsert(ai, index, &[p]).await,
        None => index.delete_by_ids(&[vector_id(slug)]).await.map(drop),
    }
}

#[derive(Deserialize)]
struct Slug {
    slug: String,
}

/// [`upsert`] for a page of posts; when that fails, one post at a time, so that one text the
/// model refuses does not keep the others out — until [`MAX_SINGLE_FAILURES`] of those fail
/// too (then the service is down, not a text). The first error, if any post was left out.
async fn upsert_page(ai: &Ai<'_>, index: &Vectorize<'_>, posts: &[PostText]) -> Result<()> {
    let Err(e) = upsert(ai, index, posts).await else {
        return Ok(());
    };
    if posts.len() == 1 {
        return Err(e);
    }
    let mut failures = 0;
    for p in posts {
        if upsert(ai, index, std::slice::from_ref(p)).await.is_err() {
            failures += 1;
            if failures == MAX_SINGLE_FAILURES {
                break;
            }
        }
    }
    if failures == 0 {
        Ok(())
    } else {
        Err(e)
    }
}

/// Re-embeds every published post, [`MAX_TEXTS_PER_CALL`] at a time (keyset pages by slug, so
/// memory stays bounded; a page that fails does not stop the next ones: [`upsert_page`]), then
/// deletes the vectors of drafts. The first embedding error, once every page was tried.
async fn index_all(db: &D1<'_>, ai: &Ai<'_>, index: &Vectorize<'_>) -> Result<()> {
    let index = &index.clone().with_dimensions(DIMENSIONS);
    let page = u32::try_from(MAX_TEXTS_PER_CALL).unwrap_or(100);
    let mut after = String::new();
    let mut failed = None;
    loop {
        let posts: Vec<PostText> = db
            .prepare(&format!(
                "SELECT {} FROM posts WHERE published_at IS NOT NULL AND slug > ?1 ORDER BY slug LIMIT ?2",
                post_columns()
            ))
            .bind(&[&after, &page])
            .all()
            .await?;
        if let Err(e) = upsert_page(ai, index, &posts).await {
            failed.get_or_insert(e);
        }
        match posts.last() {
            Some(last) if posts.len() == MAX_TEXTS_PER_CALL => after.clone_from(&last.slug),
            _ => break,
        }
    }
    let drafts: Vec<Slug> = db.prepare("SELECT slug FROM posts WHERE published_at IS NULL").all().await?;
    let ids: Vec<String> =
        drafts.iter().filter(|d| crate::blog::valid_slug(&d.slug)).map(|d| vector_id(&d.slug)).collect();
    for chunk in ids.chunks(layers_core::storage::vectorize::MAX_BATCH) {
        index.delete_by_ids(chunk).await?;
    }
    failed.map_or(Ok(()), Err)
}

/// A post a reader may be shown: its slug and (D1's, current) title.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct Listed {
    pub(crate) slug: String,
    pub(crate) title: String,
}

/// Those of `slugs` that D1 says are published now, in the order of `slugs`, with their titles:
/// what readers of the index keep of its matches (the index may hold drafts' or deleted posts'
/// vectors for a while, or, in the shared local stand-in, another run's).
///
/// # Errors
/// D1 failed.
pub(crate) async fn published(db: &D1<'_>, slugs: &[String]) -> Result<Vec<Listed>> {
    if slugs.is_empty() {
        return Ok(Vec::new());
    }
    let now = i64::try_from(layers_core::log::now_ms() / 1000).unwrap_or(i64::MAX);
    let list = serde_json::to_string(slugs).map_err(|e| Error::internal(e.to_string()))?;
    let rows: Vec<Listed> = db
        .prepare(
            "SELECT slug, title FROM posts WHERE slug IN (SELECT value FROM json_each(?1)) \
             AND published_at IS NOT NULL AND published_at <= ?2",
        )
        .bind(&[&list, &now])
        .all()
        .await?;
    Ok(slugs.iter().filter_map(|s| rows.iter().find(|r| &r.slug == s).cloned()).collect())
}

/// The post a match stands for: its metadata's `slug`, else its id.
#[must_use]
pub(crate) fn match_slug(m: &VectorMatch) -> &str {
    m.metadata.as_ref().and_then(|md| md.get("slug")).and_then(serde_json::Value::as_str).unwrap_or(&m.id)
}

/// The posts of `matches` (best first) with their scores, once each, leaving out `except` and
/// matches that are not similar at all (a cosine score of 0 or less).
#[must_use]
pub(crate) fn candidates(matches: &[VectorMatch], except: Option<&str>) -> Vec<(String, f64)> {
    let mut out: Vec<(String, f64)> = Vec::with_capacity(matches.len());
    for m in matches {
        let slug = match_slug(m);
        if m.score > 0.0 && Some(slug) != except && !out.iter().any(|(s, _)| s == slug) {
            out.push((slug.to_owned(), m.score));
        }
    }
    out
}

/// Logs what became of a failed embedding (`retry` or `gave_up`), with the slug (public), the
/// delivery and the error (the failing handle's storage line has it too).
pub(crate) fn log_failure(slug: &str, attempts: u32, retried: bool, error: &Error) {
    layers_core::log::app_line(&serde_json::json!({
        "layer": "app",
        "event": "embedding",
        "outcome": if retried { "retry" } else { "gave_up" },
        "slug": slug,
        "attempts": attempts,
        "error": error.detail().unwrap_or(error.public_message()),
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_text_is_title_then_body_cut_to_the_budget() {
        assert_eq!(post_text(" Title ", "Body.\n"), "Title\n\nBody.");
        let long = "é".repeat(MAX_TEXT_CHARS * 2);
        let t = post_text("T", &long);
        assert_eq!(t.chars().count(), MAX_TEXT_CHARS);
        assert!(t.starts_with("T\n\né"));
        let exact = "x".repeat(MAX_TEXT_CHARS - 3);
        assert_eq!(post_text("T", &exact).chars().count(), MAX_TEXT_CHARS);
    }

    #[test]
    fn vector_ids_fit_vectorize() {
        assert_eq!(vector_id("hello-layers"), "hello-layers");
        let s64 = "a".repeat(64);
        assert_eq!(vector_id(&s64), s64);
        let long = format!("{}-b", "a".repeat(98));
        let id = vector_id(&long);
        assert_eq!(id.len(), 64);
        assert!(id.starts_with(&"a".repeat(47)) && id.as_bytes()[47] == b'~', "{id}");
        // Stable, and two slugs with the same start get different ids.
        assert_eq!(vector_id(&long), id);
        assert_ne!(vector_id(&format!("{}-c", "a".repeat(98))), id);
        // Never cut inside a character.
        let wide = "é".repeat(40);
        assert!(vector_id(&wide).len() <= 64);
    }

    #[test]
    fn fnv1a64_matches_the_reference_values() {
        assert_eq!(fnv1a64(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64("foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn only_the_first_delivery_retries_an_embedding() {
        assert!(retry_embedding(1));
        assert!(!retry_embedding(EMBED_ATTEMPTS));
        assert!(!retry_embedding(EMBED_ATTEMPTS + 1));
        assert!(!retry_embedding(0), "an unknown count gives up rather than dead-letter the job");
    }

    fn hit(id: &str, score: f64, slug: Option<&str>) -> VectorMatch {
        VectorMatch {
            id: id.to_owned(),
            score,
            values: None,
            metadata: slug
                .map(|s| serde_json::json!({ "slug": s, "title": "T" }).as_object().cloned().unwrap_or_default()),
            namespace: None,
        }
    }

    #[test]
    fn candidates_are_other_similar_posts_once_each() {
        let matches = [
            hit("a", 1.0, Some("a")),
            hit("b", 0.8, None),
            hit("long~0123", 0.7, Some("long-slug")),
            hit("b", 0.6, Some("b")),
            hit("z", 0.0, Some("z")),
            hit("n", -0.2, Some("n")),
        ];
        assert_eq!(
            candidates(&matches, Some("a")),
            [("b".to_owned(), 0.8), ("long-slug".to_owned(), 0.7)],
            "without itself, repeats and unrelated posts; the metadata's slug over the id"
        );
        assert_eq!(candidates(&matches, None).len(), 3);
        assert!(candidates(&[], None).is_empty());
    }

    #[test]
    fn model_answers_are_checked() {
        let v = vec![0.1_f32; DIMENSIONS];
        assert_eq!(check_embeddings(&[v.clone(), v.clone()], 2), Ok(()));
        assert!(check_embeddings(std::slice::from_ref(&v), 2).unwrap_err().contains("1 embeddings for 2"));
        assert!(check_embeddings(&[vec![0.1; 4]], 1).is_err());
        let mut nan = v;
        nan[3] = f32::NAN;
        assert!(check_embeddings(&[nan], 1).is_err());
    }
}
