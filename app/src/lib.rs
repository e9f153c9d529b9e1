//! The layers reference Worker: a blog (public pages, newsletter, contact form; see [`blog`])
//! plus the framework's feature demos.
//!
//! The tables below are the app's manifest — what `app!` generates from the route table the
//! Worker dispatches with ([`manifest()`]) — written to `app/ROUTES.md` by
//! `cargo xtask manifest --write`; a test fails when they drift from the code.
//!
//! What the routes do, beyond their identity and storage:
//! - `GET /`, `GET /blog/:slug`: published posts; the view counter runs after the response. A
//!   post's page lists up to 3 related posts, nearest in `POSTS_INDEX` ([`embeddings`]).
//! - `GET /og/:slug.png`: a generated PNG, cached a day (`x-cache`).
//! - `GET /static/*`, `GET /favicon.svg` (Public) and `GET /admin/app.js` (Admin) ([`assets`]):
//!   files of `app/public/` through the Workers Assets binding, each after its route's verifier.
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
//! - `GET /search/semantic?q=` ([`semantic`]): the query embedded by Workers AI, the nearest
//!   posts in `POSTS_INDEX`; counted by the abuse guard (each call is an inference).
//! - `POST /api/email-inbound` ([`inbound`]: the payload it accepts): Svix-signed webhooks.
//! - `POST /api/reindex/raw`: `Unchecked<String>`, the poison-message path, opted out of the
//!   queue type check.
//! - `PUT|GET|DELETE /api/files/:name`: R2, streamed both ways, up to 100 MB, content type and an
//!   `x-file-note` custom metadata; `GET /api/files` lists (`?prefix=`, `?cursor=`).
//! - `GET|DELETE /api/cached/:slug`: the default cache (`x-cache: miss` then `hit`), purge.
//! - `POST /api/limited/:bucket`: [`RateLimiter`], written with `#[durable_object]`: 429 after
//!   3 calls per bucket.
//! - `POST /api/webmention` ([`webmention`]): Public plus an abuse guard and the outbound URL
//!   guard on `source`; the `webmentions` queue fetches the source through its declared `Outbound`.
//! - `POST /admin/posts` ([`posts`]): publishes a post; queues its reindex (search, then its
//!   embedding in `POSTS_INDEX`: [`embeddings`]) and a webmention to every outside page it links
//!   to (sent by the `webmentions` consumer: endpoint discovery and sending through the outbound
//!   URL guard, doubling retries); `GET /admin/webmentions` lists them.
//! - `POST /admin/posts/:slug/summary` ([`summaries`]): an AI summary of the post by Amazon
//!   Bedrock, reached with `Federation<SummaryRole>` credentials (STS) and a SigV4-signed
//!   `InvokeModel`; cached in D1 `ai_summaries` and shown on the post. `GET
//!   /.well-known/openid-configuration` and `GET /.well-known/jwks.json` publish what AWS needs to
//!   trust the Worker's assertions (the public half of `FEDERATION_KEY`).
//! - cron `0 2 * * SUN` ([`digest`]): the weekly digest (`digest_runs`, `digest_sends`) and
//!   webmention retries (received mentions to verify, sends that failed).
//!
#![doc = include_str!("../ROUTES.md")]
#![forbid(unsafe_code)]

pub mod admin;
pub mod ai;
pub mod analytics;
pub mod api_subscribers;
pub mod assets;
#[cfg(feature = "attack-routes")]
pub mod attacks;
pub mod blog;
pub mod cached;
pub mod digest;
pub mod email;
pub mod embeddings;
pub mod events;
pub mod files;
pub mod flags;
pub mod inbound;
pub mod mail;
pub mod posts;
pub mod rate_limiter;
pub mod reindex;
pub mod request_demo;
pub mod search;
pub mod semantic;
pub mod summaries;
pub mod text_urls;
pub mod webmention;
pub mod whoami;

pub use rate_limiter::RateLimiter;

use layers_core::identity::{
    AccessConfig, AccessJwt, EmailAllowlist, FederationConfig, Guarded, TokenConfig, TokenSource,
};
use layers_core::prelude::*;

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

/// The IAM role the off-site backup job uses. The Worker signs an assertion with its key
/// (secret `FEDERATION_KEY`) as issuer `FEDERATION_ISSUER` and exchanges it at the STS
/// (`STS_URL`, default AWS) for the role in `STS_ROLE_ARN`; the credentials are cached in KV.
pub struct BackupRole;

impl FederationConfig for BackupRole {
    const KEY_ID: &'static str = summaries::FEDERATION_KID;
    const SUBJECT: &'static str = "layers-app:backup";
    const SESSION_NAME: &'static str = "layers-backup";
    const NAME: &'static str = "BackupRole";
}

// Admins may see (and so obtain) the backup role's credentials.
impl MayFederate<Admin> for BackupRole {}

/// `app/ROUTES.md` as the manifest makes it: what `cargo xtask manifest --write` writes, and
/// what a test compares the committed file with.
#[must_use]
pub fn routes_doc() -> String {
    format!(
        "<!-- Generated from app::manifest() by `cargo xtask manifest --write`; do not edit. -->\n\n{}",
        manifest().to_markdown()
    )
}

/// The app's OpenAPI 3.1 document (feature `openapi`): what `cargo xtask openapi` writes to
/// `app/openapi.json`.
#[cfg(feature = "openapi")]
#[must_use]
pub fn openapi() -> serde_json::Value {
    let info = layers_core::openapi::Info {
        title: "layers reference app (a blog Worker)".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        description: Some(
            "Generated from the route table the Worker dispatches with (`cargo xtask openapi`). Every \
             route's identity is its security; `x-layers-identity` names the verifier."
                .to_owned(),
        ),
    };
    layers_core::openapi::document(layers_app(), &info)
}

#[cfg(all(test, feature = "openapi"))]
mod openapi_tests {
    #[test]
    fn the_document_describes_every_route_with_its_security() {
        let doc = super::openapi();
        assert_eq!(doc["openapi"], "3.1.1");
        let list = &doc["paths"]["/api/subscribers"]["get"];
        assert_eq!(list["security"], serde_json::json!([{"ApiKey": []}]));
        assert_eq!(doc["components"]["securitySchemes"]["ApiKey"]["name"], "x-api-key");
        assert_eq!(
            list["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/SubscribersPage"
        );
        assert!(list["parameters"].as_array().is_some_and(|p| p.iter().any(|p| p["name"] == "cursor")));
        assert_eq!(doc["paths"]["/"]["get"]["security"], serde_json::json!([]), "Public");
        let admin = &doc["paths"]["/admin/{rest}"]["get"]["security"];
        assert_eq!(admin.as_array().map(Vec::len), Some(2), "Access: header or cookie");
        let operations: usize = doc["paths"].as_object().unwrap().values().map(|i| i.as_object().unwrap().len()).sum();
        assert_eq!(operations, super::layers_app().routes().len(), "one operation per route");
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
        api_subscribers::list_subscribers,
        api_subscribers::add_subscriber,
        api_subscribers::add_subscriber_typed,
        api_subscribers::add_subscriber_form,
        request_demo::extract_echo,
        api_subscribers::import_subscribers,
        api_subscribers::delete_subscriber,
        api_subscribers::list_unsubscribed,
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
        semantic::semantic_search,
        whoami::whoami,
        blog::contact,
        inbound::email_inbound,
        admin::backup_credentials,
        reindex::request_reindex,
        reindex::request_reindex_raw,
        events::events,
        files::put_file,
        files::get_file,
        files::delete_file,
        files::list_files,
        cached::cached,
        cached::purge_cached,
        analytics::track,
        rate_limiter::limited,
        ai::summarize, ai::upsert_vectors, ai::query_vectors, ai::describe_vectors, ai::get_vector, ai::delete_vector,
        webmention::receive_webmention,
        webmention::list_webmentions,
        webmention::sent_webmentions,
        posts::publish,
        summaries::openid_configuration,
        summaries::jwks,
        summaries::summarize_post,
        assets::static_files,
        assets::favicon,
        assets::admin_script,
        request_demo::show_headers, request_demo::hello, request_demo::go,
        flags::public_flag,
        #[cfg(feature = "attack-routes")]
        attacks::feed_verifier,
        #[cfg(feature = "attack-routes")]
        attacks::federation_cache,
        #[cfg(feature = "attack-routes")]
        attacks::slow_keys,
    ],
    crons: [digest::weekly_digest],
    queues: [webmention::webmention_tasks, reindex::reindex, reindex::dead_letters],
    durable_objects: [rate_limiter::RateLimiter],
}
