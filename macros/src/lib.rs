//! Procedural macros of **layers**. Depend on `layers-core`, which re-exports them.
//!
//! * [`macro@route`] describes a handler: method, pattern, identity, storage.
//! * [`app!`] lists the routes, checks the whole app at compile time, and generates the
//!   Worker's `fetch` entry point.

#![forbid(unsafe_code)]

extern crate proc_macro;

mod app;
mod ctxt;
mod expand;
mod handler;
mod paths;
mod wrangler;

use proc_macro::TokenStream;

use handler::HandlerKind;

/// Declares a route: `#[route(METHOD "pattern", identity = Verifier, storage(D1, KV))]`.
///
/// * `METHOD`: `GET`, `HEAD`, `POST`, `PUT`, `PATCH`, `DELETE`, `OPTIONS` or `ANY`.
/// * `"pattern"`: literal segments, `:name` parameters, and an optional trailing `*`.
/// * `identity = V`: required. `Public` for an open route.
/// * `storage(…)`: the bindings the handler may open — `D1` (binding `DB`), `KV` (binding
///   `KV`), or an explicit binding: `storage(D1 = "SUBSCRIBERS")`.
///
/// The handler is an `async fn` taking `Claims<'_, V>` plus any of `Request`, `Vars`, `After`
/// and the declared storage handles, returning `Response` or `Result<Response, E>`.
#[proc_macro_attribute]
pub fn route(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::handler(HandlerKind::Route, attr.into(), item.into()).into()
}

/// Declares a cron handler: `#[scheduled("0 2 * * SUN", storage(D1))]`.
///
/// The cron is checked at compile time by Cloudflare's own parser (`saffron`): five fields,
/// `minute hour day-of-month month day-of-week`, with names (`SUN`, `JAN`), `L`, `W` and `#`.
/// The handler is an `async fn` taking `Claims<'_, System>` (platform events run as
/// `System`), `Vars` and the declared storage handles, returning `()` or `Result<(), E>`. List
/// it in `app! { crons: [..] }`; the cron must also be in wrangler.toml's `[triggers] crons`.
#[proc_macro_attribute]
pub fn scheduled(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::handler(HandlerKind::Cron, attr.into(), item.into()).into()
}

/// Declares a queue consumer: `#[queue("reindex", storage(D1))]`.
///
/// The handler is an `async fn` taking its messages as `Batch<'_, T>` (`T: Deserialize`),
/// `Claims<'_, System>`, `Vars` and the declared storage handles, returning `()` or
/// `Result<(), E>`. Ack or retry each message; messages that do not decode into `T` are
/// logged and retried (then dead-lettered per wrangler.toml). List it in
/// `app! { queues: [..] }`; the queue must be in wrangler.toml's `[[queues.consumers]]`.
#[proc_macro_attribute]
pub fn queue(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::handler(HandlerKind::Queue, attr.into(), item.into()).into()
}

/// Declares a Durable Object class written with layers, on the `impl` block of a `Default`
/// struct holding its one handler. (Not compiled here: this crate cannot use `layers-core`,
/// which depends on it; the same class compiles in `ui-tests/pass/durable_object.rs` and in the
/// guide's `docs/storage.md`.)
///
/// ```ignore
/// #[derive(Default)]
/// pub struct RateLimiter;
///
/// #[durable_object]
/// impl RateLimiter {
///     async fn call(&self, hit: Hit, _who: Claims<'_, DurableCaller>, store: ObjectStorage<'_>) -> Result<Counted> { /* … */ }
/// }
/// ```
///
/// The handler takes `&self`, its message (a `Serialize + Deserialize` type callers send),
/// `Claims<'_, DurableCaller>`, optionally the object's own `ObjectStorage<'_>` and the handles
/// `storage(…)` declares; it returns `Result<Reply>`. The struct's name is the class name
/// (wrangler.toml's `class_name`); list it in `app! { durable_objects: [..] }`. Callers take
/// `DurableObject<'_, RateLimiter>` and `call` it with the message. The handler never sees the
/// `Env`: its storage is opened with the call's claims, as a route's is.
#[proc_macro_attribute]
pub fn durable_object(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::handler(HandlerKind::DurableObject, attr.into(), item.into()).into()
}

/// Lists the app's routes and generates the Worker entry point. (Not compiled here: this crate
/// cannot use `layers-core`, which depends on it; `docs/three-layers.md` has compiled examples.)
///
/// ```ignore
/// app! {
///     routes: [home, blog::post, admin::dashboard],
/// }
/// ```
///
/// At compile time it rejects two routes that can match the same request, and checks every
/// storage binding, `[vars]` name, cron and queue against wrangler's config: the file wrangler
/// itself reads when run next to `Cargo.toml` (`wrangler.json`, else `wrangler.jsonc`, else
/// `wrangler.toml`, each searched upwards), or `wrangler: "path"` relative to the file invoking
/// `app!` (a file in the format its extension says, or a directory to pick the file in). Each
/// environment (`[env.NAME]`) must declare the bindings too, since environments do not inherit
/// them; `envs: ["production", ..]` names the environments the app is deployed to (all, when
/// not given).
#[proc_macro]
pub fn app(input: TokenStream) -> TokenStream {
    let call_site_file = proc_macro::Span::call_site().local_file();
    let out = app::expand(input.into(), call_site_file);
    expand::debug("app!", &out);
    out.into()
}
