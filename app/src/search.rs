//! Post search: the `reindex` queue consumer's work (rebuilding the D1 FTS5 table
//! `post_search`, migration `0006_search.sql`) and `GET /search?q=`.
//!
//! The user's text never reaches FTS5 as query syntax: it is cut into words (letters and
//! digits only), and each word becomes a quoted phrase term, so `AND`, `NEAR`, `*`, `^`,
//! column filters and quotes in the input are plain text, never operators.

use layers_core::prelude::*;
use serde::{Deserialize, Serialize};

use crate::reindex::ReindexJob;

/// Longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 200;
/// Most words of a query used in the search (the rest is ignored).
pub const MAX_TERMS: usize = 8;
/// Most results returned.
pub const MAX_RESULTS: u32 = 20;

/// The slug that asks for a rebuild of the whole index.
pub const ALL_POSTS: &str = "*";

/// Builds the FTS5 `MATCH` expression for the user's text: each word (a run of letters or
/// digits, at most 64 characters) as a quoted phrase term, implicitly AND-ed. `None` when the
/// text holds no word.
#[must_use]
pub fn fts_query(text: &str) -> Option<String> {
    let terms: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(MAX_TERMS)
        .map(|w| format!("\"{}\"", w.chars().take(64).collect::<String>()))
        .collect();
    if terms.is_empty() {
        None
    } else {
        Some(terms.join(" "))
    }
}

/// The body of the `reindex` consumer: a job for slug [`ALL_POSTS`] rebuilds the whole FTS
/// table from the published posts, any other slug refreshes that post's entry (removing it when
/// the post is gone or a draft).
/// Each job is one D1 batch (one transaction) that also records it in `reindexed`. A job
/// whose slug starts with `fail-` is retried (and, after `max_retries`, dead-lettered): the
/// explicit-retry path the e2e suite exercises.
///
/// Returns the messages indexed, left unsettled: the caller acknowledges (or retries) each once
/// the rest of its work for it is done.
///
/// # Errors
/// A D1 failure (the batch is then retried by the platform).
pub async fn reindex_batch<'a, 'r>(
    batch: &'a Batch<'r, ReindexJob>,
    db: &D1<'_>,
) -> Result<Vec<&'a Message<'r, ReindexJob>>> {
    #[allow(clippy::cast_possible_wrap)] // ms since the epoch
    let now = layers_core::log::now_ms() as i64;
    let mut indexed = Vec::with_capacity(batch.len());
    for msg in batch {
        let job = msg.body();
        if job.slug.starts_with("fail-") {
            msg.retry();
            continue;
        }
        let mut statements = if job.slug == ALL_POSTS {
            vec![
                db.prepare("DELETE FROM post_search"),
                db.prepare(
                    "INSERT INTO post_search (slug, title, body) SELECT slug, title, body FROM posts WHERE published_at IS NOT NULL",
                ),
            ]
        } else {
            vec![
                db.prepare("DELETE FROM post_search WHERE slug = ?1").bind(&[&job.slug]),
                db.prepare(
                    "INSERT INTO post_search (slug, title, body) SELECT slug, title, body FROM posts WHERE slug = ?1 AND published_at IS NOT NULL",
                )
                .bind(&[&job.slug]),
            ]
        };
        statements.push(
            db.prepare("INSERT OR REPLACE INTO reindexed (slug, reason, indexed_at) VALUES (?1, ?2, ?3)").bind(&[
                &job.slug,
                &job.reason,
                &now,
            ]),
        );
        db.batch(statements).await?;
        indexed.push(msg);
    }
    Ok(indexed)
}

#[derive(Debug, Serialize, Deserialize)]
struct Hit {
    slug: String,
    title: String,
    snippet: String,
}

/// Full-text search over the posts: `GET /search?q=words` → `{"query", "results": [{slug,
/// title, snippet}]}` (best match first, at most [`MAX_RESULTS`]); an HTML list when the client
/// asks for `text/html`. A missing, empty or over-long (`>` [`MAX_QUERY_CHARS`]) query is a 400
/// problem.
#[route(GET "/search", identity = Public, storage(D1 because(FullTextSearch, "FTS5 over posts")))]
pub async fn search(req: Request, _who: Claims<'_, Public>, db: D1<'_>) -> Result<Response> {
    let text = req.query("q").unwrap_or_default();
    if text.chars().count() > MAX_QUERY_CHARS {
        return Err(Error::problem(400, "query `q` is longer than 200 characters"));
    }
    let Some(expr) = fts_query(&text) else {
        return Err(Error::problem(400, "query `q` needs at least one word"));
    };
    // Published posts only, also between a post's publication time and its next reindex.
    let now = layers_core::log::now_ms() / 1000;
    let hits: Vec<Hit> = db
        .prepare(
            "SELECT post_search.slug AS slug, post_search.title AS title, snippet(post_search, 2, '', '', '…', 16) AS snippet \
             FROM post_search JOIN posts ON posts.slug = post_search.slug \
             WHERE post_search MATCH ?1 AND posts.published_at IS NOT NULL AND posts.published_at <= ?3 \
             ORDER BY rank LIMIT ?2",
        )
        .bind(&[&expr, &MAX_RESULTS, &now])
        .all()
        .await?;
    if wants_html(&req) {
        let mut html = String::from("<!doctype html><title>Search</title><h1>Search</h1><ul>");
        for h in &hits {
            html.push_str(&format!(
                "<li><a href=\"/blog/{}\">{}</a><p>{}</p></li>",
                escape(&h.slug),
                escape(&h.title),
                escape(&h.snippet)
            ));
        }
        html.push_str("</ul>");
        return Ok(Response::from_html(html)?);
    }
    Ok(Response::from_json(&serde_json::json!({ "query": expr, "results": hits }))?)
}

/// HTML-escapes text for element content and quoted attribute values.
pub(crate) fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// Whether the client prefers HTML (a browser) over JSON.
pub(crate) fn wants_html(req: &Request) -> bool {
    let accept = req.header("accept").unwrap_or_default().to_ascii_lowercase();
    accept.contains("text/html") && !accept.contains("application/json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_become_quoted_phrase_terms() {
        assert_eq!(fts_query("identity storage").as_deref(), Some("\"identity\" \"storage\""));
        assert_eq!(fts_query("  Hello,   layers! ").as_deref(), Some("\"Hello\" \"layers\""));
        assert_eq!(fts_query("café").as_deref(), Some("\"café\""));
    }

    #[test]
    fn fts_syntax_in_the_input_is_inert() {
        for hostile in [
            "\"",
            "*",
            "a OR b",
            "title:secret",
            "NEAR(a b)",
            "a\" OR \"b",
            "-x",
            "^start",
            "a*",
            "{title body}: x",
            "'; DROP TABLE posts; --",
        ] {
            let q = fts_query(hostile).unwrap_or_default();
            // Only quoted words separated by spaces: no operator character survives unquoted,
            // and no quote appears inside a term.
            for term in q.split(' ').filter(|t| !t.is_empty()) {
                assert!(term.len() >= 3 && term.starts_with('"') && term.ends_with('"'), "{hostile}: {q}");
                assert!(term[1..term.len() - 1].chars().all(char::is_alphanumeric), "{hostile}: {q}");
            }
        }
        assert_eq!(fts_query("a OR b").as_deref(), Some("\"a\" \"OR\" \"b\""));
        assert_eq!(fts_query("title:secret").as_deref(), Some("\"title\" \"secret\""));
    }

    #[test]
    fn empty_and_long_inputs() {
        assert_eq!(fts_query(""), None);
        assert_eq!(fts_query(" *** \"\" "), None);
        let many = (0..50).map(|i| format!("w{i}")).collect::<Vec<_>>().join(" ");
        assert_eq!(fts_query(&many).unwrap().split(' ').count(), MAX_TERMS);
        let long_word = "x".repeat(500);
        assert_eq!(fts_query(&long_word).unwrap().len(), 64 + 2);
    }
}
