//! The guide's pages (`docs/*.md`), as this crate's docs: `cargo test -p layers-docs-tests --doc`
//! compiles every Rust block of the guide, and runs those that need no Workers runtime.
//!
//! `app!` in the samples checks them against `wrangler.toml` next to this crate's `Cargo.toml`
//! (or, for crons, queue consumers and Durable Objects, a file under `wrangler/`).

#![forbid(unsafe_code)]

#[doc = include_str!("../../docs/README.md")]
pub mod index {}

#[doc = include_str!("../../docs/getting-started.md")]
pub mod getting_started {}

#[doc = include_str!("../../docs/three-layers.md")]
pub mod three_layers {}

#[doc = include_str!("../../docs/verifiers.md")]
pub mod verifiers {}

#[doc = include_str!("../../docs/storage.md")]
pub mod storage {}

#[doc = include_str!("../../docs/queues-crons-durable-objects.md")]
pub mod queues_crons_durable_objects {}

#[doc = include_str!("../../docs/testing.md")]
pub mod testing {}

#[doc = include_str!("../../docs/blog.md")]
pub mod blog {}

#[doc = include_str!("../../docs/deploying.md")]
pub mod deploying {}

#[doc = include_str!("../../docs/guarantee.md")]
pub mod guarantee {}

#[doc = include_str!("../../docs/openapi.md")]
pub mod openapi {}
