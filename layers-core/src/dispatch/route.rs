//! What a route is to dispatch: the description `#[route]` writes ([`RouteMeta`], the
//! [`Route`] trait), the table entry `app!` lists ([`RouteEntry`], [`entry`]) and what a
//! handler's parameters are taken from ([`RouteCx`]).

use std::future::Future;
use std::pin::Pin;

use super::handler_cx::{taken, HandlerCx};
use super::scope::Dispatch;
use super::scope::{dispatch_pause, run_route};
use crate::after::After;
use crate::error::Error;
use crate::identity::capability::{Grant, Identifies, MayFederate, MayMint, Mint, Minter};
use crate::identity::{Federation, FederationConfig, FederationIssuer, Security, Verifier};
use crate::log::now_ms;
use crate::openapi::{ParamSchema, Responds};
use crate::request::pattern::{Method, Seg};
use crate::request::Request;
use crate::storage::StorageDecl;
use crate::vars::Vars;

/// A boxed, non-`Send` future (Workers are single-threaded).
pub type LocalBoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// Everything `#[route]` knows about a handler.
#[derive(Debug, Clone, Copy)]
pub struct RouteMeta {
    /// The declared method.
    pub method: Method,
    /// The pattern as written.
    pub pattern: &'static str,
    /// The parsed pattern.
    pub segments: &'static [Seg<'static>],
    /// The identity type as written; [`entry`] replaces it with the verifier's `NAME` (for logs
    /// and the manifest).
    pub identity: &'static str,
    /// The identity type as written in the attribute (kept: `identity` becomes the `NAME`).
    pub identity_as_written: &'static str,
    /// The less specific routes this route takes requests from although their identity differs,
    /// as declared with `shadows("…")` (`app!` checks the declaration against the routes).
    pub shadows: &'static [Shadowed],
    /// The declared storage.
    pub storage: &'static [StorageDecl],
    /// The handler function's name.
    pub handler: &'static str,
    /// What the handler's parameters grant beyond storage: the `Mint<'_, C>` and
    /// `Federation<'_, C>` it takes.
    pub grants: &'static [Grant],
    /// The identity's type name, set by [`entry`] from the verifier that really runs (the
    /// manifest names identities by type, never by a `NAME` a config chose).
    pub identity_type: fn() -> &'static str,
    /// The secrets the identity's verifier reads (`Verifier::SECRETS`), set by [`entry`].
    pub secrets: &'static [&'static str],
    /// The signed-token configurations the identity accepts (`Verifier::TOKENS`), set by
    /// [`entry`].
    pub tokens: &'static [&'static str],
    /// The `[vars]` the identity's verifier reads (`Verifier::VARS`), set by [`entry`].
    pub verifier_vars: &'static [&'static str],
    /// The `[vars]` the handler reads through its `Vars` (`vars(…)` in the attribute): all that
    /// `Vars` hands it.
    pub vars: &'static [&'static str],
    /// The outbound calls of the identity's verifier (`Verifier::OUTBOUND`), set by [`entry`].
    pub verifier_outbound: &'static [&'static str],
    /// The outbound HTTP the handler declares (`outbound(…)` in the attribute): all its
    /// [`Outbound`](crate::outbound::Outbound) sends.
    pub outbound: &'static [crate::outbound::OutboundDecl],
    /// Where the identity's credentials travel (`Verifier::openapi_security`), for the OpenAPI
    /// document; set by [`entry`] with the `openapi` feature ([`undescribed`] without it).
    pub security: fn() -> Security,
    /// The handler's extractors (`Path<T>`, `Query<T>`, `Json<T>`, `Form<T>`) with their types'
    /// schemas (which only the `openapi` feature makes).
    pub params: &'static [ParamSchema],
    /// Whether the identity's verifier reads the body (`Verifier::BODY`), set by [`entry`].
    pub verifier_reads_body: bool,
    /// The success responses the handler declares with `responds(…)`.
    pub responses: &'static [Responds],
}

/// A pattern named by a route's `shadows("…")`.
#[derive(Debug, Clone, Copy)]
pub struct Shadowed {
    /// The pattern as written.
    pub pattern: &'static str,
    /// The parsed pattern.
    pub segments: &'static [Seg<'static>],
}

/// The placeholder [`RouteMeta::identity_type`] of a description (`entry` sets the real one).
#[must_use]
pub fn unnamed() -> &'static str {
    "?"
}

/// The placeholder [`RouteMeta::security`] of a description (with the `openapi` feature,
/// `entry` sets the identity's).
#[must_use]
pub fn undescribed() -> Security {
    Security::undeclared("?")
}

/// A handler, described by `#[route]`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a route",
    label = "not a `#[route]` handler",
    note = "`app!{{ routes: [..] }}` lists handler functions that carry `#[route(METHOD \"/path\", identity = …)]`"
)]
pub trait Route: 'static {
    /// The route's verifier.
    type Identity: Verifier;
    /// The route's description.
    const META: RouteMeta;
    /// Calls the handler with what the framework prepared.
    fn call<'r>(cx: RouteCx<'r, Self::Identity>) -> LocalBoxFuture<'r, Result<worker::Response, Error>>;
}

/// Converts what a handler returns into a response.
#[diagnostic::on_unimplemented(
    message = "a route handler must return `Response` or `Result<Response, E>` where `E: Into<layers_core::Error>`",
    label = "`{Self}` is not a response"
)]
pub trait IntoResponse {
    /// The conversion.
    ///
    /// # Errors
    /// The handler's own error.
    fn into_response(self) -> Result<worker::Response, Error>;
}

impl IntoResponse for worker::Response {
    fn into_response(self) -> Result<worker::Response, Error> {
        Ok(self)
    }
}

impl<E: Into<Error>> IntoResponse for Result<worker::Response, E> {
    fn into_response(self) -> Result<worker::Response, Error> {
        self.map_err(Into::into)
    }
}

/// What a handler's arguments are taken from. Only the framework makes one, after the
/// route's verifier accepted the request; it holds exactly the storage the route declared.
pub struct RouteCx<'r, V: Verifier> {
    pub(super) request: Option<Request>,
    /// The claims and the handles the route declared, opened with them.
    pub(super) held: HandlerCx<'r, V>,
    pub(super) vars: Vars<'r>,
    /// The names under wrangler's `[vars]`: a grant reads its own vars among these only.
    pub(super) config_vars: &'static [&'static str],
    /// The handler's `outbound(…)`.
    pub(super) outbound: &'static [crate::outbound::OutboundDecl],
    pub(super) after: After<'r>,
    /// Read only by [`RouteCx::federation`] (secrets and vars by name); never handed out.
    pub(super) env: worker::Env,
}

impl<V: Verifier> std::fmt::Debug for RouteCx<'_, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouteCx").field("verifier", &V::NAME).finish_non_exhaustive()
    }
}

impl<'r, V: Verifier> std::ops::Deref for RouteCx<'r, V> {
    type Target = HandlerCx<'r, V>;
    fn deref(&self) -> &HandlerCx<'r, V> {
        &self.held
    }
}

impl<'r, V: Verifier> std::ops::DerefMut for RouteCx<'r, V> {
    fn deref_mut(&mut self) -> &mut HandlerCx<'r, V> {
        &mut self.held
    }
}

impl<'r, V: Verifier> RouteCx<'r, V> {
    /// The request (once).
    ///
    /// # Errors
    /// When taken twice.
    pub fn request(&mut self) -> Result<Request, Error> {
        self.request.take().ok_or_else(|| taken("the request"))
    }
    /// A head extractor (`Path<T>`, `Query<T>`, `Cf`), read before the request is taken.
    ///
    /// # Errors
    /// The extractor's 4xx problem, or when the request was taken already.
    pub fn parts<T: crate::request::extract::FromRequestParts>(&self) -> Result<T, Error> {
        T::from_parts(self.request.as_ref().ok_or_else(|| taken("the request"))?)
    }
    /// The body extractor (`Json<T>`, `Form<T>`), read before the request is taken.
    ///
    /// # Errors
    /// The extractor's 4xx problem, or when the request was taken already.
    pub async fn body<T: crate::request::extract::FromBody>(&mut self) -> Result<T, Error> {
        T::from_body(self.request.as_mut().ok_or_else(|| taken("the request"))?).await
    }
    /// The vars.
    #[must_use]
    pub fn vars(&self) -> Vars<'r> {
        self.vars.clone()
    }
    /// The outbound HTTP the attribute's `outbound(…)` declares.
    #[must_use]
    pub fn outbound(&self) -> crate::outbound::Outbound<'r> {
        crate::outbound::Outbound::new(self.env.clone(), self.outbound)
    }
    /// The after-the-response scheduler.
    #[must_use]
    pub fn after(&self) -> After<'r> {
        self.after.clone()
    }
    /// The token minter for config `C`: only where `C` opted in to minting from this
    /// route's identity (`C: MayMint<V>`), never from `Public`.
    #[must_use]
    pub fn mint<C: MayMint<V>>(&self) -> Mint<'r, C>
    where
        V: Minter,
    {
        Mint::new(self.env.clone())
    }
    /// The outbound federation helper for config `C`, with its secret and its `[vars]` read
    /// now: only where `C` opted in for this route's identity (`C: MayFederate<V>`), never
    /// from `Public` or `Turnstile`.
    #[must_use]
    pub fn federation<C: MayFederate<V>>(&self) -> Federation<'r, C>
    where
        V: Identifies,
    {
        let own = <Federation<'r, C> as crate::identity::capability::GrantParam>::GRANT.vars;
        let (secret, var) = (self.secret_lookup(), self.grant_vars(own));
        Federation::new(&secret, &var, crate::outbound::worker_fetch(), || now_ms() / 1000, dispatch_pause())
    }

    /// The public side of federation config `C` (its discovery document and JWKS): granted to
    /// every identity, since it hands out nothing secret. Reads the key secret and only the
    /// grant's own `[vars]` (the issuer).
    #[must_use]
    pub fn federation_issuer<C: FederationConfig>(&self) -> FederationIssuer<'r, C> {
        let own = <FederationIssuer<'r, C> as crate::identity::capability::GrantParam>::GRANT.vars;
        FederationIssuer::new(&self.secret_lookup(), &self.grant_vars(own))
    }

    /// Reads a secret of the Worker (a grant's key).
    fn secret_lookup(&self) -> impl Fn(&str) -> Option<String> + use<'_, 'r, V> {
        |name: &str| self.env.secret(name).ok().map(|s| s.to_string())
    }

    /// Reads a grant's own vars (not the handler's `vars(…)`), and only names under `[vars]`: a
    /// config naming a secret in a `*_VAR` const must not read it (Workers expose secrets and
    /// vars through the same string bindings, and `app!` refuses a secret the app uses under
    /// `[vars]`).
    fn grant_vars(&self, own: &'static [&'static str]) -> impl Fn(&str) -> Option<String> + use<'_, 'r, V> {
        move |name: &str| {
            if own.contains(&name) && self.config_vars.contains(&name) {
                self.env.var(name).ok().map(|v| v.to_string())
            } else {
                None
            }
        }
    }
}

type RunFn = fn(Dispatch, &worker::Context, super::answer::AnswerTx) -> LocalBoxFuture<'static, ()>;

/// One entry of the app's route table.
#[derive(Clone, Copy)]
pub struct RouteEntry {
    pub(crate) meta: RouteMeta,
    pub(super) run: RunFn,
}

impl std::fmt::Debug for RouteEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.meta.fmt(f)
    }
}

impl RouteEntry {
    /// An entry that describes `meta` and runs nothing (the checks' unit tests).
    #[cfg(test)]
    pub(crate) fn described(meta: RouteMeta) -> RouteEntry {
        RouteEntry { meta, run: |_, _, _| Box::pin(async {}) }
    }

    /// The route's description.
    #[must_use]
    pub fn meta(&self) -> &RouteMeta {
        &self.meta
    }
}

/// The table entry for route `H`.
#[must_use]
pub const fn entry<H: Route>() -> RouteEntry {
    RouteEntry { meta: route_meta::<H>(), run: run_route::<H> }
}

/// Route `H`'s description with what its identity type says filled in: logs and the manifest
/// name the verifier that really runs and the secrets it reads, not what `META` claims.
#[must_use]
pub const fn route_meta<H: Route>() -> RouteMeta {
    let mut meta = H::META;
    meta.identity = <H::Identity as Verifier>::NAME;
    meta.identity_type = std::any::type_name::<H::Identity>;
    meta.secrets = <H::Identity as Verifier>::SECRETS;
    meta.tokens = <H::Identity as Verifier>::TOKENS;
    meta.verifier_vars = <H::Identity as Verifier>::VARS;
    meta.verifier_outbound = <H::Identity as Verifier>::OUTBOUND;
    meta.verifier_reads_body = <H::Identity as Verifier>::BODY;
    // Only with the feature: the description code stays out of Worker builds.
    #[cfg(feature = "openapi")]
    {
        meta.security = <H::Identity as Verifier>::openapi_security;
    }
    meta
}
