//! The vocabulary layers' macros (`layers-macros`) and runtime (`layers-core`) share, as data
//! and `const fn`s, so that the rules the macros check at expansion and the ones the runtime
//! checks again (for tables built by hand) are one text:
//!
//! - [`storage`]: the storage kinds — attribute name, handle type, default binding, how
//!   wrangler's config declares them — in one table, [`storage::KINDS`];
//! - [`reasons`]: why a handler uses a storage primitive, in the decision tree's words, and
//!   which reasons the tree gives to which primitive;
//! - [`method`]: the HTTP methods a route declares;
//! - [`pattern`]: route patterns — the parser, the literal and parameter rules, overlap and
//!   specificity (which route answers a path);
//! - [`text`]: `const` string helpers and the name hash that keys bindings in types;
//! - `cron` (feature `cron`): `#[scheduled]` expressions checked with Cloudflare's parser;
//! - `wrangler` (feature `wrangler`): wrangler's config file as wrangler reads it — which file,
//!   TOML or JSON with comments, and its environments.
//!
//! Not an API of its own: use layers through `layers-core`.

#![forbid(unsafe_code)]

#[cfg(feature = "cron")]
pub mod cron;
pub mod method;
pub mod pattern;
pub mod reasons;
pub mod storage;
pub mod text;
#[cfg(feature = "wrangler")]
pub mod wrangler;
