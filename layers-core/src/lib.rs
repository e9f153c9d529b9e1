//! # layers
//!
//! A framework for Cloudflare Workers in which the compiler enforces the order
//! **Request → Identity → Storage**.
//!
//! ```no_run
//! use layers_core::prelude::*;
//! # #[derive(serde::Deserialize)]
//! # struct Count { n: u64 }
//! # #[derive(serde::Deserialize)]
//! # struct NewPost { title: String }
//!
//! #[route(GET "/", identity = Public, storage(D1))]
//! async fn home(_req: Request, _who: Claims<'_, Public>, db: D1<'_>) -> Result<Response> {
//!     let n: Option<Count> = db.prepare("SELECT COUNT(*) AS n FROM posts").first().await?;
//!     Ok(Response::ok(format!("{} posts", n.map_or(0, |c| c.n)))?)
//! }
//!
//! #[route(POST "/api/posts", identity = ApiKey, storage(D1))]
//! async fn create(mut req: Request, key: Claims<'_, ApiKey>, db: D1<'_>) -> Result<Response> {
//!     let post: NewPost = req.json().await?;
//!     db.prepare("INSERT INTO posts (title, author) VALUES (?1, ?2)").bind(&[&post.title, &key.label]).run().await?;
//!     Ok(Response::empty()?.with_status(201))
//! }
//!
//! app! {
//! #   wrangler: "../tests/doc-wrangler.toml",
//!     routes: [home, create],
//! }
//! # fn main() {}
//! ```
//!
//! * Every route declares its identity; `identity = Public` must be said out loud.
//! * A handler's [`Claims`] can only be made by the route's verifier, and only live for the
//!   request.
//! * Storage handles ([`D1`], [`Kv`]) are opened by the framework
//!   with the claims in hand, only for the bindings the route declared, and the raw
//!   `worker::Env` never reaches a handler.
//! * Outbound, a handler may take a [`Federation`](identity::Federation) to exchange the
//!   Worker's own signed assertion for temporary cloud credentials (cached in KV).

#![forbid(unsafe_code)]

pub mod after;
mod check;
mod dispatch;
pub mod durable_object;
pub mod error;
mod events;
pub mod identity;
pub mod log;
pub mod manifest;
pub mod openapi;
pub mod outbound;
pub mod request;
pub mod storage;
pub mod time;
#[cfg(target_arch = "wasm32")]
mod timer;
pub mod vars;

#[doc(hidden)]
pub mod __private;

#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod __fuzz;

pub use after::After;
pub use error::{ConfigError, Error, Result};
pub use events::{Batch, Message};
pub use identity::{ApiKey, Claims, Deny, DurableCaller, Mint, Public, SignedToken, System, Verifier};
pub use layers_macros::{app, durable_object, queue, route, scheduled};
pub use outbound::Outbound;
pub use request::extract::{Cf, Form, Json, Path, Query};
pub use request::headers::{Cookies, Headers};
pub use request::response::{escape_html, Html, Redirect};
pub use request::Request;
pub use storage::{Ai, AnalyticsEngine, Cache, DurableObject, Kv, ObjectStorage, Queue, Unchecked, Vectorize, D1, R2};
pub use vars::Vars;
pub use worker::{Response, Url};

/// Everything a handler file needs: `use layers_core::prelude::*;`.
pub mod prelude {
    pub use crate::after::After;
    pub use crate::error::{Error, Result};
    pub use crate::events::{Batch, Message};
    pub use crate::identity::{
        AccessJwt, AnyOf, ApiKey, Claims, Deny, DurableCaller, EmailAllowlist, Federation, FederationIssuer, Guarded,
        MayFederate, MayMint, Mint, Mtls, Public, SignedToken, System, Turnstile, Verifier, Webhook,
    };
    pub use crate::outbound::Outbound;
    pub use crate::request::extract::{Cf, Form, Json, Path, Query};
    pub use crate::request::headers::{Cookies, Headers};
    pub use crate::request::response::{escape_html, Html, Redirect};
    pub use crate::request::Request;
    pub use crate::storage::{
        Ai, AnalyticsEngine, Assets, Cache, DurableObject, Kv, ObjectStorage, Queue, Unchecked, Vectorize, D1, R2,
    };
    pub use crate::vars::Vars;
    pub use layers_macros::{app, durable_object, queue, route, scheduled};
    pub use worker::{Response, Url};
}
