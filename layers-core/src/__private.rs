//! What `#[route]` and `app!` expand to. Not a public API.
//!
//! Everything here is safe to call from user code: the expansion only *describes* routes
//! (a [`Route`] impl) and hands the `Env` to [`serve`]. Verifying, making `Claims` and
//! opening storage happen inside this crate, behind `pub(crate)` constructors.

pub use crate::check::{
    check_app, check_body, check_durable, check_events, check_grant, WranglerConfig, WranglerScope,
};
pub use crate::dispatch::app::App;
pub(crate) use crate::dispatch::fetch::{error_response, quiet_logs};
pub use crate::dispatch::fetch::{fetch_export, serve};
pub use crate::dispatch::handler_cx::HandlerCx;
pub use crate::dispatch::route::{
    entry, route_meta, undescribed, unnamed, IntoResponse, LocalBoxFuture, Route, RouteCx, RouteEntry, RouteMeta,
    Shadowed,
};
pub use crate::durable_object::{DurableClass, DurableHost, DurableMeta, ObjectCx};
pub use crate::events::{
    cron_entry, queue_entry, Consumer, CronEntry, CronMeta, EventCx, IntoOutcome, QueueEntry, QueueMeta, Scheduled,
};
pub use crate::identity::capability::GrantParam;
pub use crate::identity::ClaimsFor;
pub use crate::openapi::{Body, ParamKind, ParamSchema, Responds};
pub use crate::outbound::OutboundDecl;
pub use crate::storage::durable::typecheck as durable_check;
pub use crate::storage::open::Handles;
pub use crate::storage::queue::typecheck as queue_check;
pub use worker;
pub use worker::{js_sys, wasm_bindgen, wasm_bindgen_futures};
