//! End-to-end: post embeddings in Vectorize (`app/src/embeddings.rs`). `POST /admin/posts`
//! publishes posts; the reindex consumer embeds each with Workers AI and upserts it into
//! `POSTS_INDEX`; each post page lists its related posts and `GET /search/semantic` finds posts
//! by meaning, next to the FTS5 search. `AI` and `POSTS_INDEX` are the loopback stand-in
//! (tests/standin/): its embeddings are a hashed bag of words, so posts that share words are
//! near and a paraphrase that shares a few finds its post.
//!
//! The posts get slugs unique to the run (the stand-in's index is shared by the targets of one
//! `cargo xtask e2e`); each call of the semantic search sends its own `cf-connecting-ip` unless a
//! test means to hit the abuse guard (`ABUSE_LIMIT` is 4 in the e2e run).

mod common;
use common::*;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const ADMIN: &str = "admin@example.com";
const ACCEPT_HTML: (&str, &str) = ("accept", "text/html");

/// The posts of this run: two about the edge cache, two about bread.
struct Posts {
    cache: String,
    purge: String,
    sourdough: String,
    crust: String,
}

fn publish(token: &str, slug: &str, title: &str, body: &str) {
    let post = serde_json::json!({ "slug": slug, "title": title, "body": body });
    let r = as_admin("POST", "/admin/posts", token, Some(&post.to_string()));
    assert_eq!(r.status, 201, "{}", r.body);
}

/// A client address no other call uses (the abuse guard counts per address).
fn fresh_ip() -> String {
    static N: AtomicU32 = AtomicU32::new(1);
    let n = N.fetch_add(1, Ordering::Relaxed);
    format!("2001:db8:e{:x}:{n:x}::1", std::process::id() & 0xfff)
}

/// `GET /search/semantic?q=…` from `ip`.
fn semantic_from(ip: &str, q: &str, headers: &[(&str, &str)]) -> Resp {
    let mut h = vec![("cf-connecting-ip", ip)];
    h.extend_from_slice(headers);
    send("GET", &format!("/search/semantic?q={}", enc(q)), &h, None)
}

/// The slugs semantic search finds for `q` (from an address of its own), nearest first.
fn semantic(q: &str) -> Vec<String> {
    let r = semantic_from(&fresh_ip(), q, &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    let v = json(&r);
    assert_eq!(v["query"], q.trim());
    v["results"].as_array().unwrap().iter().map(|h| h["slug"].as_str().unwrap().to_owned()).collect()
}

/// The slugs of the "related posts" list on `slug`'s page, in order (none without the list).
fn related(slug: &str) -> Vec<String> {
    let r = get(&format!("/blog/{slug}"));
    assert_eq!(r.status, 200, "{}", r.body);
    related_in(&r.body)
}

fn related_in(page: &str) -> Vec<String> {
    let Some(start) = page.find("<nav class=related>") else {
        return Vec::new();
    };
    let nav = &page[start..start + page[start..].find("</nav>").expect("the list ends")];
    nav.split("<a href=\"/blog/").skip(1).map(|s| s[..s.find('"').unwrap()].to_owned()).collect()
}

/// Polls `done` every 300 ms, up to `secs`.
fn wait_until(what: &str, secs: u64, done: impl Fn() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(secs), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// Publishes the run's posts once and waits until the reindex consumer has embedded all four.
fn posts() -> &'static Posts {
    static POSTS: OnceLock<Posts> = OnceLock::new();
    POSTS.get_or_init(|| {
        let token = admin_token_of(ADMIN);
        let n = now();
        let p = Posts {
            cache: format!("edge-cache-{n}"),
            purge: format!("cache-purge-{n}"),
            sourdough: format!("sourdough-{n}"),
            crust: format!("bread-crust-{n}"),
        };
        publish(
            &token,
            &p.cache,
            "Caching pages at the edge",
            "The Cache API keeps rendered HTML pages close to readers.\n\n\
             A cached page is served from the edge cache without touching the database.",
        );
        publish(
            &token,
            &p.purge,
            "Purging the edge cache",
            "When a post changes, purge its cached pages, so that the edge cache serves fresh HTML to readers.",
        );
        publish(
            &token,
            &p.sourdough,
            "Baking sourdough bread",
            "Flour, water, salt and a starter: knead the dough, let it rise overnight, and bake the loaf in a hot oven.",
        );
        publish(
            &token,
            &p.crust,
            "A crisp crust on homemade bread",
            "Steam in a hot oven during the first minutes of baking gives the loaf a crisp, shiny crust.",
        );
        // Embedded: each post's page lists related posts (every one has a near neighbour).
        for slug in [&p.cache, &p.purge, &p.sourdough, &p.crust] {
            wait_until(&format!("{slug} to be embedded"), 60, || !related(slug).is_empty());
        }
        p
    })
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn embeddings_a_post_page_lists_its_related_posts_nearest_first_and_never_itself() {
    let p = posts();
    for (slug, nearest, unrelated) in [
        (&p.cache, &p.purge, [&p.sourdough, &p.crust]),
        (&p.purge, &p.cache, [&p.sourdough, &p.crust]),
        (&p.sourdough, &p.crust, [&p.cache, &p.purge]),
        (&p.crust, &p.sourdough, [&p.cache, &p.purge]),
    ] {
        let list = related(slug);
        assert_eq!(list.first(), Some(nearest), "{slug}: {list:?}");
        assert!(!list.contains(slug), "{slug} lists itself: {list:?}");
        assert!(list.len() <= 3, "{list:?}");
        // Posts that share no word are not related at all (a cosine of 0 is left out).
        assert!(unrelated.iter().all(|u| !list.contains(u)), "{slug}: {list:?}");
    }
    // The list sits in the article, before the view counter, titles as links.
    let page = get(&format!("/blog/{}", p.cache)).body;
    let nav = page.find("<nav class=related><h2>Related posts</h2>").expect("the list");
    assert!(nav < page.find("<p class=views>").unwrap(), "{page}");
    assert!(page.contains(&format!("<a href=\"/blog/{}\">Purging the edge cache</a>", p.purge)), "{page}");
    // The storage lines of the page: one get_by_ids and one query on POSTS_INDEX.
    let line = storage_log_line(|l| {
        l["layer"] == "storage" && l["binding"] == "POSTS_INDEX" && l["op"] == "query" && l["route"] == "/blog/:slug"
    });
    assert!(line.is_some_and(|l| l["outcome"] == "ok"), "no query line of the post page");
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn embeddings_b_semantic_search_finds_a_paraphrase_and_fts_still_finds_keywords() {
    let p = posts();
    // Few words in common with the post, none of them its title's: found by meaning, first.
    let found = semantic("serve rendered pages to readers without hitting the database");
    assert_eq!(found.first(), Some(&p.cache), "{found:?}");
    let found = semantic("  what makes a loaf crusty and crisp? ");
    assert_eq!(found.first(), Some(&p.crust), "{found:?}");
    assert!(!found.contains(&p.purge), "a post that shares no word is not a result: {found:?}");
    // Results are published posts with their titles and a score, nearest first.
    let r = semantic_from(&fresh_ip(), "edge cache", &[]);
    let v = json(&r);
    let results = v["results"].as_array().unwrap();
    assert!(results.iter().any(|h| h["slug"] == p.purge.as_str() && h["title"] == "Purging the edge cache"));
    let scores: Vec<f64> = results.iter().map(|h| h["score"].as_f64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]) && scores.iter().all(|s| *s > 0.0), "{scores:?}");
    // HTML for a browser.
    let r = semantic_from(&fresh_ip(), "sourdough starter", &[ACCEPT_HTML]);
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").is_some_and(|c| c.starts_with("text/html")), "{:?}", r.headers);
    assert!(r.body.contains(&format!("<li><a href=\"/blog/{}\">Baking sourdough bread</a></li>", p.sourdough)));
    // The keyword search is unchanged.
    let r = get("/search?q=sourdough");
    assert_eq!(r.status, 200, "{}", r.body);
    let fts = json(&r);
    assert!(fts["results"].as_array().unwrap().iter().any(|h| h["slug"] == p.sourdough.as_str()), "{fts}");
    // The query is embedded with the posts' model; the log names it, never the query.
    let line = storage_log_line(|l| l["layer"] == "storage" && l["kind"] == "Ai" && l["route"] == "/search/semantic");
    let line = line.expect("the Ai storage line of the semantic search");
    assert_eq!(line["model"], "@cf/baai/bge-small-en-v1.5");
    assert!(!line.to_string().contains("crusty"), "{line}");
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn embeddings_c_bad_queries_are_400_and_the_abuse_guard_stops_a_stranger() {
    posts();
    let ip = fresh_ip();
    for q in ["/search/semantic", "/search/semantic?q=", "/search/semantic?q=%20%2A%22"] {
        let r = send("GET", q, &[("cf-connecting-ip", &ip)], None);
        assert_eq!(r.status, 400, "{q}: {}", r.body);
        assert_eq!(r.header("content-type"), Some("application/problem+json"), "{q}");
    }
    let long = "word ".repeat(41);
    let r = semantic_from(&ip, &long, &[]);
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("longer than 200"), "{}", r.body);
    // Refused queries cost nothing and are not counted: ABUSE_LIMIT (4) answers, then 429.
    for i in 0..4 {
        assert_eq!(semantic_from(&ip, "edge cache", &[]).status, 200, "call {i}");
    }
    let r = semantic_from(&ip, "edge cache", &[]);
    assert_eq!(r.status, 429, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    assert!(r.header("retry-after").and_then(|s| s.parse::<u64>().ok()).is_some_and(|s| s >= 1));
    // Another address is not limited.
    assert_eq!(semantic_from(&fresh_ip(), "edge cache", &[]).status, 200);
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn embeddings_d_a_failed_embedding_keeps_the_search_entry_and_is_given_up_after_a_retry() {
    posts();
    let token = admin_token_of(ADMIN);
    let slug = format!("unembeddable-{}", now());
    // The stand-in fails every embedding of a text holding its marker.
    publish(
        &token,
        &slug,
        "Edge cache notes that cannot be embedded",
        "Quokkaberry notes on the edge cache. standin-fail-embedding",
    );
    let log_of = |outcome: &str| {
        let text = std::fs::read_to_string(log_path()).expect("wrangler log");
        log_values(&text).into_iter().find(|l| {
            l["layer"] == "app" && l["event"] == "embedding" && l["slug"] == slug.as_str() && l["outcome"] == outcome
        })
    };
    wait_until("the embedding's retry", 60, || log_of("retry").is_some());
    assert_eq!(log_of("retry").unwrap()["attempts"], 1);
    // The search entry was written before the embedding failed, and stays.
    let r = get("/search?q=quokkaberry");
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(json(&r)["results"].as_array().unwrap().iter().any(|h| h["slug"] == slug.as_str()), "{}", r.body);
    // Without a vector the page renders, without the list; semantic search does not find it.
    let r = get(&format!("/blog/{slug}"));
    assert_eq!(r.status, 200);
    assert!(r.body.contains("Quokkaberry") && !r.body.contains("<nav class=related>"), "{}", r.body);
    assert!(!semantic("quokkaberry notes").contains(&slug));
    // The failed Ai call is in its storage line.
    let line = storage_log_line(|l| l["layer"] == "storage" && l["kind"] == "Ai" && l["outcome"] == "error");
    assert!(line.is_some(), "no failed Ai storage line");
    // The second delivery (after `RETRY_DELAY_SECS`) gives the embedding up: the message is
    // acknowledged, not dead-lettered.
    wait_until("the embedding to be given up", 120, || log_of("gave_up").is_some());
    assert_eq!(log_of("gave_up").unwrap()["attempts"], 2);
    let k = key();
    let events = json(&send("GET", "/api/events", &[("x-api-key", &k)], None));
    assert!(!events["dead_letters"].to_string().contains(&slug), "{events}");
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn embeddings_e_a_rebuild_of_all_posts_embeds_the_seeded_ones() {
    posts();
    // The migrations' posts were never published through /admin/posts. (Whether they have a
    // vector already is not this Worker's to say: the stand-in's index is shared by every e2e
    // target of the run, and another target's rebuild may have embedded them. What this test
    // shows is this rebuild's own upserts, below.)
    let log_before = std::fs::read_to_string(log_path()).expect("wrangler log").len();
    let k = key();
    let job = serde_json::json!({ "slug": "*", "reason": "embeddings-e2e" }).to_string();
    let r = send("POST", "/api/reindex", &[("x-api-key", &k), ("content-type", "application/json")], Some(&job));
    assert_eq!(r.status, 202, "{}", r.body);
    // Then the two posts about claims, identity and storage are each other's nearest — even
    // though the page of posts holds test d's unembeddable one, when it ran: a page whose
    // embedding call fails is embedded one post at a time.
    // Every published post upserted since the job was sent (a page, or one by one after a
    // failed page): the seeded ones alone are four.
    let upserted = || -> u64 {
        let text = std::fs::read_to_string(log_path()).expect("wrangler log");
        log_values(text.get(log_before..).unwrap_or_default())
            .iter()
            .filter(|l| l["layer"] == "storage" && l["binding"] == "POSTS_INDEX" && l["op"] == "upsert")
            .filter(|l| l["outcome"] == "ok")
            .filter_map(|l| l["count"].as_u64())
            .sum()
    };
    wait_until("the rebuild's upserts of every published post", 60, || upserted() >= 4);
    wait_until("why-claims to be embedded", 60, || !related("why-claims").is_empty());
    assert_eq!(related("why-claims").first().map(String::as_str), Some("hello-layers"));
    assert_eq!(related("hello-layers").first().map(String::as_str), Some("why-claims"));
    // The draft is not embedded, so nothing lists it.
    let found = semantic("search that works draft publication date");
    assert!(!found.iter().any(|s| s == "draft-search-that-works"), "{found:?}");
}
