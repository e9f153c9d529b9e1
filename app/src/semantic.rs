//! Semantic search over the posts: `GET /search/semantic?q=` embeds the query with the posts'
//! model ([`embeddings::MODEL`]) and asks `POSTS_INDEX` for the nearest posts — a paraphrase
//! finds a post that shares few of its words. `GET /search?q=` ([`crate::search`], FTS5) stays
//! for keywords.
//!
//! Each call costs a Workers AI inference, so it is counted first against the client address's
//! window of the blog's abuse guard ([`crate::blog`]: `RATE_LIMITER`, bucket `semantic-search`,
//! vars `ABUSE_LIMIT` / `ABUSE_WINDOW_SECS`; 429 problem+json with `retry-after` past it). A
//! query that is refused as malformed (400) is not counted: it costs nothing.

use layers_core::escape_html;
use layers_core::prelude::*;
use layers_core::storage::{QueryOptions, ReturnMetadata};
use serde::{Deserialize, Serialize};

use crate::embeddings::{self, DIMENSIONS};
use crate::rate_limiter::RateLimiter;
use crate::search::{wants_html, MAX_QUERY_CHARS};

/// Most results returned.
pub const MAX_RESULTS: u32 = 10;

/// The query text to embed: `q` trimmed, or the 400 problem's message when it is over
/// [`MAX_QUERY_CHARS`] characters or holds no word (no letter or digit).
pub fn check_query(q: &str) -> std::result::Result<&str, &'static str> {
    let q = q.trim();
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err("query `q` is longer than 200 characters");
    }
    if !q.chars().any(char::is_alphanumeric) {
        return Err("query `q` needs at least one word");
    }
    Ok(q)
}

/// The query string of `GET /search/semantic`.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct SemanticQuery {
    /// What to look for, in your own words (1 to 200 characters, at least one letter or digit).
    q: Option<String>,
}

/// One post found.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct SemanticHit {
    /// The post's slug (its page is `/blog/<slug>`).
    slug: String,
    /// Its title.
    title: String,
    /// The cosine similarity of its embedding to the query's (higher is nearer).
    score: f64,
}

/// The JSON answer of `GET /search/semantic`.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct SemanticResults {
    /// The query, trimmed.
    query: String,
    /// The posts found, nearest first.
    results: Vec<SemanticHit>,
}

/// Semantic search: `GET /search/semantic?q=words` → `{"query", "results": [{slug, title,
/// score}]}` (nearest first, at most [`MAX_RESULTS`], published posts only); an HTML list when
/// the client asks for `text/html`. A missing, empty or over-long query is a 400 problem; past
/// the abuse guard's limit, a 429.
#[route(GET "/search/semantic", identity = Public, storage(D1 because(FixedSchema, "which matches are published posts"), Ai because(CatalogModel, "query embeddings"), Vectorize = "POSTS_INDEX" because(SemanticSearch, "post embeddings"), DurableObject = "RATE_LIMITER" because(SingleWriter, "the per-address abuse guard")), vars(ABUSE_LIMIT, ABUSE_WINDOW_SECS), responds(200 Json<SemanticResults>))]
#[allow(clippy::too_many_arguments)] // each parameter is a capability the route declares
pub async fn semantic_search(
    req: Request,
    Query(params): Query<SemanticQuery>,
    _who: Claims<'_, Public>,
    db: D1<'_>,
    ai: Ai<'_>,
    index: Vectorize<'_>,
    limiter: DurableObject<'_, RateLimiter>,
    vars: Vars<'_>,
) -> Result<Response> {
    let query = check_query(params.q.as_deref().unwrap_or_default()).map_err(|p| Error::problem(400, p))?;
    if let Some(limited) = crate::blog::abuse_guard(&req, &vars, &limiter, "semantic-search").await? {
        return Ok(limited);
    }
    let vector = embeddings::embed(&ai, &[query.to_owned()]).await?.pop().unwrap_or_default();
    let opts = QueryOptions { top_k: MAX_RESULTS, return_metadata: ReturnMetadata::All, ..QueryOptions::default() };
    let found = index.with_dimensions(DIMENSIONS).query(&vector, &opts).await?;
    let scored = embeddings::candidates(&found.matches, None);
    let slugs: Vec<String> = scored.iter().map(|(s, _)| s.clone()).collect();
    let hits: Vec<SemanticHit> = embeddings::published(&db, &slugs)
        .await?
        .into_iter()
        .map(|p| {
            let score = scored.iter().find(|(s, _)| *s == p.slug).map_or(0.0, |(_, sc)| *sc);
            SemanticHit { slug: p.slug, title: p.title, score }
        })
        .collect();
    if wants_html(&req) {
        let mut html = String::from("<!doctype html><title>Semantic search</title><h1>Semantic search</h1><ul>");
        for h in &hits {
            html.push_str(&format!(
                "<li><a href=\"/blog/{}\">{}</a></li>",
                escape_html(&h.slug),
                escape_html(&h.title)
            ));
        }
        html.push_str("</ul>");
        return Ok(Response::from_html(html)?);
    }
    Ok(Response::from_json(&SemanticResults { query: query.to_owned(), results: hits })?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_trimmed_and_bounded() {
        assert_eq!(check_query("  caching pages \n"), Ok("caching pages"));
        assert_eq!(check_query("café"), Ok("café"));
        assert!(check_query("").is_err());
        assert!(check_query("   ").is_err());
        assert!(check_query(" *** \"\" ").unwrap_err().contains("at least one word"));
        assert_eq!(check_query(&"x".repeat(MAX_QUERY_CHARS)).map(str::len), Ok(MAX_QUERY_CHARS));
        assert!(check_query(&"é".repeat(MAX_QUERY_CHARS + 1)).unwrap_err().contains("longer than 200"));
    }
}
