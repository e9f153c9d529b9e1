//! "Related posts" on a post page: the published posts whose embeddings (`POSTS_INDEX`, written
//! by the reindex consumer: [`crate::embeddings`]) are nearest to the post's own.
//!
//! Best effort: when the post has no vector yet (it was just published, or its embedding
//! failed) or Vectorize or D1 fails, the page renders without the list; the failing handle has
//! logged its storage line.

use layers_core::escape_html;
use layers_core::prelude::*;
use layers_core::storage::{QueryOptions, ReturnMetadata};

use crate::embeddings::{self, candidates, vector_id, Listed, DIMENSIONS};

/// Most related posts shown.
pub(crate) const MAX_RELATED: usize = 3;
/// Nearest vectors asked for: the post itself is the nearest.
const TOP_K: u32 = 4;

/// The related posts of `slug`, best first (at most [`MAX_RELATED`]): its own vector
/// (`get_by_ids`), then a query for the nearest ones, kept if D1 says they are published.
async fn related(db: &D1<'_>, index: &Vectorize<'_>, slug: &str) -> Result<Vec<Listed>> {
    let index = index.clone().with_dimensions(DIMENSIONS);
    let id = vector_id(slug);
    let Some(own) = index.get_by_ids(&[&id]).await?.into_iter().find(|v| v.id == id) else {
        return Ok(Vec::new());
    };
    let opts = QueryOptions { top_k: TOP_K, return_metadata: ReturnMetadata::All, ..QueryOptions::default() };
    let found = index.query(&own.values, &opts).await?;
    let slugs: Vec<String> = candidates(&found.matches, Some(slug)).into_iter().map(|(s, _)| s).collect();
    let mut posts = embeddings::published(db, &slugs).await?;
    posts.truncate(MAX_RELATED);
    Ok(posts)
}

/// The list as HTML (slugs and titles escaped); empty without posts.
fn render(posts: &[Listed]) -> String {
    if posts.is_empty() {
        return String::new();
    }
    let items: String = posts
        .iter()
        .map(|p| format!("<li><a href=\"/blog/{}\">{}</a></li>", escape_html(&p.slug), escape_html(&p.title)))
        .collect();
    format!("<nav class=related><h2>Related posts</h2><ul>{items}</ul></nav>\n")
}

/// The "related posts" fragment of post `slug`'s page: empty when there is nothing to show or
/// something failed (see the module documentation).
pub(crate) async fn related_html(db: &D1<'_>, index: &Vectorize<'_>, slug: &str) -> String {
    related(db, index, slug).await.map(|posts| render(&posts)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_escapes_titles_and_is_absent_when_empty() {
        assert_eq!(render(&[]), "");
        let html = render(&[
            Listed { slug: "a-b".into(), title: "Escaping <script> & \"friends\"".into() },
            Listed { slug: "c".into(), title: "C".into() },
        ]);
        assert_eq!(
            html,
            "<nav class=related><h2>Related posts</h2><ul>\
             <li><a href=\"/blog/a-b\">Escaping &lt;script&gt; &amp; &quot;friends&quot;</a></li>\
             <li><a href=\"/blog/c\">C</a></li></ul></nav>\n"
        );
    }
}
