//! Dispatch: everything between the Worker's entry points and the user's first line.
//!
//! A request goes [`fetch::fetch_export`] → [`fetch::serve`] → routing (`fetch`) → the route's
//! scope (`scope`: body, verifier, `Claims`, storage opened by [`crate::storage::open`],
//! handler, `After`). The route table and its checks are [`app::App`]; what `#[route]`
//! describes is in [`route`]. Crons and queues are dispatched by [`crate::events`], Durable
//! Object calls by [`crate::durable_object`]. What the macros expand to reaches these items
//! through [`crate::__private`].

pub(crate) mod answer;
pub(crate) mod app;
pub(crate) mod fetch;
pub(crate) mod handler_cx;
pub(crate) mod route;
pub(crate) mod scope;
