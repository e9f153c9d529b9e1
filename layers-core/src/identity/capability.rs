//! What a proof grants beyond storage: minting signed tokens ([`Mint`]) and obtaining cloud
//! credentials ([`Federation`]).
//!
//! Both hand out credentials, so neither follows from an identity alone. Each is an explicit
//! opt-in per pair of *(a configuration your app defines, an identity)*:
//!
//! * `impl MayMint<Turnstile> for Confirm {}` — the subscribe form (Turnstile) may mint
//!   `Confirm` tokens. Never from [`Public`](super::Public) or a composition containing it
//!   ([`Minter`]).
//! * `impl MayFederate<Admin> for BackupRole {}` — admins may obtain the backup role's
//!   credentials. Never from `Public`, [`Turnstile`](super::Turnstile) (it proves "a human",
//!   not who), or a composition containing either ([`Identifies`]).
//!
//! The configuration must be one the app defines: layers' defaults ([`DefaultToken`],
//! [`DefaultFederation`](super::DefaultFederation)) can be verified but never minted from or
//! federated with, since any app could opt in to them. A handler receives the grant as a
//! parameter — `confirm: Mint<'_, Confirm>`, `sts: Federation<'_, BackupRole>` — checked when
//! it compiles, and the app's manifest lists, per route, what it may mint and which
//! credentials it may obtain.

use std::fmt;
use std::marker::PhantomData;

use super::policy::{AnyOf, Authenticates, Guarded, Policy};
use super::{
    AccessConfig, AccessJwt, ApiKey, ApiKeyConfig, FederationConfig, Mtls, MtlsConfig, SignedToken, System,
    TokenConfig, Verifier, Webhook, WebhookConfig, WorkerAccess, WorkerAccessConfig,
};
#[cfg(doc)]
use super::{DefaultToken, Federation};

/// Identities whose handlers can mint tokens at all: every verifier that establishes who or
/// what is calling ([`Authenticates`]) and the platform's [`System`] — never
/// [`Public`](super::Public), nor a composition containing it.
#[diagnostic::on_unimplemented(
    message = "`{Self}` proves nothing about the caller, so its handlers may not mint tokens",
    label = "minting from a route anyone can call would hand out credentials to anyone",
    note = "mint from a route with an identity (`Turnstile`, `ApiKey`, `AccessJwt`, …) or from a cron/queue handler (`System`)"
)]
pub trait Minter: Verifier {}

impl<V: Authenticates> Minter for V {}
impl Minter for System {}

/// Opt-in: handlers whose identity is `V` may mint tokens of configuration `Self`, through a
/// [`Mint<'_, Self>`](Mint) parameter — e.g. the subscribe form (Turnstile) minting
/// confirmation links, or the digest cron (`System`) minting unsubscribe links. A token is a
/// credential, so no route may mint one unless its configuration says so, and the signing key
/// itself never reaches the handler. `Self` must be a configuration of your app, not
/// [`DefaultToken`].
///
/// ```
/// # use layers_core::identity::{MayMint, TokenConfig, TokenSource};
/// # use layers_core::{System, identity::Turnstile};
/// # struct Confirm;
/// # impl TokenConfig for Confirm {
/// #     const SECRET: &'static str = "SIGNING_KEY";
/// #     const PURPOSE: &'static str = "confirm";
/// #     const SOURCE: TokenSource = TokenSource::Param("token");
/// # }
/// # struct Unsubscribe;
/// # impl TokenConfig for Unsubscribe {
/// #     const SECRET: &'static str = "SIGNING_KEY";
/// #     const PURPOSE: &'static str = "unsubscribe";
/// #     const SOURCE: TokenSource = TokenSource::Param("token");
/// # }
/// impl MayMint<Turnstile> for Confirm {}      // POST /api/subscribe mails a confirm link
/// impl MayMint<System> for Unsubscribe {}     // the weekly digest carries unsubscribe links
/// ```
#[diagnostic::on_unimplemented(
    message = "handlers with identity `{V}` may not mint `{Self}` tokens",
    label = "`{Self}` does not allow minting from `{V}` routes",
    note = "a token is a credential: allow it explicitly with `impl MayMint<{V}> for {Self} {{}}` if routes with this identity should hand them out"
)]
pub trait MayMint<V: Minter>: TokenConfig {}

/// Identities that establish *who* is calling — a person (Access), a key holder (API key,
/// signed token, client certificate), a sender holding a webhook secret, or the platform
/// ([`System`]) — so that acting for them with the Worker's cloud credentials
/// ([`Federation`]) means something. Not [`Public`](super::Public), not
/// [`Turnstile`](super::Turnstile) (which proves a human is there, not who), and no
/// composition containing either. For a verifier of your own that identifies its caller,
/// `impl Identifies for MyVerifier {}`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not establish who is calling, so its routes may not obtain cloud credentials",
    label = "`Federation` acts for the caller with the Worker's cloud role: `{Self}` proves no one in particular",
    note = "obtain credentials from a route whose identity says who calls (`AccessJwt`, `ApiKey`, `Mtls`, …, or `System` for crons and queues); `Public` and `Turnstile` never may"
)]
pub trait Identifies: Verifier {}

impl<C: AccessConfig> Identifies for AccessJwt<C> {}
impl<C: ApiKeyConfig> Identifies for ApiKey<C> {}
impl<C: TokenConfig> Identifies for SignedToken<C> {}
impl<C: MtlsConfig> Identifies for Mtls<C> {}
impl<C: WebhookConfig> Identifies for Webhook<C> {}
impl<C: WorkerAccessConfig> Identifies for WorkerAccess<C> {}
impl Identifies for System {}
impl<V: Authenticates + Identifies, P: Policy<V>> Identifies for Guarded<V, P> {}
impl<A: Identifies, B: Identifies> Identifies for AnyOf<A, B> {}

/// Opt-in: handlers whose identity is `V` may obtain the credentials of configuration `Self`
/// through a [`Federation<'_, Self>`](Federation) parameter. `Self` must be a configuration of
/// your app, not [`DefaultFederation`](super::DefaultFederation).
///
/// ```
/// # use layers_core::identity::{AccessJwt, EmailAllowlist, FederationConfig, Guarded, MayFederate};
/// # type Admin = Guarded<AccessJwt, EmailAllowlist>;
/// # struct BackupRole;
/// # impl FederationConfig for BackupRole {
/// #     const ROLE_VAR: &'static str = "BACKUP_ROLE_ARN";
/// #     const SESSION_NAME: &'static str = "backup";
/// #     const NAME: &'static str = "BackupRole";
/// # }
/// impl MayFederate<Admin> for BackupRole {}   // GET /admin/backup-credentials
/// ```
#[diagnostic::on_unimplemented(
    message = "handlers with identity `{V}` may not obtain `{Self}` credentials",
    label = "`{Self}` does not allow `{V}` routes to obtain its credentials",
    note = "cloud credentials act with the Worker's role: allow it explicitly with `impl MayFederate<{V}> for {Self} {{}}` if routes with this identity should have them"
)]
pub trait MayFederate<V: Identifies>: FederationConfig {}

/// Mints [`SignedToken<C>`](super::SignedToken)s — e.g. the confirmation link of a mail the
/// Worker sends. The HMAC key (secret `C::SECRET`) stays inside the framework: the handler gets
/// tokens, never the key.
///
/// A handler takes it as a parameter, `confirm: Mint<'_, Confirm>`; that compiles only where
/// the route's identity `V` has `C: MayMint<V>`. Like claims and storage handles it lives only
/// as long as the request, and only the framework makes one.
///
/// ```no_run
/// # use layers_core::identity::{MayMint, TokenConfig, TokenSource};
/// # use layers_core::prelude::*;
/// # struct Confirm;
/// # impl TokenConfig for Confirm {
/// #     const SECRET: &'static str = "SIGNING_KEY";
/// #     const PURPOSE: &'static str = "confirm";
/// #     const SOURCE: TokenSource = TokenSource::Param("token");
/// # }
/// impl MayMint<Turnstile> for Confirm {}
///
/// #[route(POST "/api/subscribe", identity = Turnstile, storage(D1))]
/// async fn subscribe(mut req: Request, _: Claims<'_, Turnstile>, confirm: Mint<'_, Confirm>, db: D1<'_>) -> Result<Response> {
///     let email = req.text().await?;
///     let now = layers_core::log::now_ms() / 1000;
///     let token = confirm.mint(&email, now + 3 * 86_400)?;
///     db.prepare("INSERT INTO pending (email, token) VALUES (?1, ?2)").bind(&[&email, &token]).run().await?;
///     Ok(Response::empty()?.with_status(202))
/// }
/// # fn main() {}
/// ```
pub struct Mint<'r, C: TokenConfig> {
    env: worker::Env,
    config: PhantomData<fn() -> C>,
    scope: PhantomData<fn(&'r ()) -> &'r ()>,
}

impl<C: TokenConfig> fmt::Debug for Mint<'_, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mint").field("purpose", &C::PURPOSE).field("secret", &C::SECRET).finish_non_exhaustive()
    }
}

impl<'r, C: TokenConfig> Mint<'r, C> {
    /// Made by dispatch only, for a handler whose identity may mint `C`.
    pub(crate) fn new(env: worker::Env) -> Self {
        Mint { env, config: PhantomData, scope: PhantomData }
    }

    /// A token over `payload` for `C::PURPOSE`, valid until `expires_at` (Unix seconds).
    ///
    /// # Errors
    /// 503 (detail for the log only) when the secret is unset or shorter than
    /// [`MIN_KEY_LEN`](super::MIN_KEY_LEN) bytes — the same rule the verifier applies.
    pub fn mint(&self, payload: &str, expires_at: u64) -> Result<String, crate::Error> {
        let key = self.env.secret(C::SECRET).ok().map(|k| k.to_string());
        match key {
            Some(key) if key.len() >= super::MIN_KEY_LEN => {
                Ok(super::mint(key.as_bytes(), C::PURPOSE, payload, expires_at))
            }
            _ => Err(crate::Error::new(503, "service unavailable")
                .with_detail(format!("signing secret {} is unset or too short", C::SECRET))),
        }
    }
}

/// What a grant parameter is, for the manifest and the compile-time checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantKind {
    /// A [`Mint<'_, C>`](Mint) parameter.
    Mint,
    /// A [`Federation<'_, C>`](Federation) parameter.
    Federation,
    /// A [`FederationIssuer<'_, C>`](super::FederationIssuer) parameter: the public half only,
    /// granted to every identity.
    Issuer,
}

/// A grant a handler takes: its kind, its configuration's type and the secret it uses.
#[derive(Debug, Clone, Copy)]
pub struct Grant {
    /// Mint or Federation.
    pub kind: GrantKind,
    /// The configuration type's name (`std::any::type_name`).
    pub config: fn() -> &'static str,
    /// The secret the grant signs with (`TokenConfig::SECRET`, `FederationConfig::KEY_SECRET`).
    pub secret: &'static str,
    /// Whether the configuration is one of layers' own defaults (never grantable).
    pub layers_default: bool,
    /// A `Mint`'s token configuration key (see [`TokenConfig`]); empty for `Federation`.
    #[doc(hidden)]
    pub token: &'static str,
    /// The `[vars]` the grant reads (a `Federation`'s issuer, audience, STS URL and role).
    pub vars: &'static [&'static str],
}

impl Grant {
    /// The configuration's type name, shortened as the manifest shows types.
    #[must_use]
    pub fn config_name(&self) -> String {
        crate::manifest::short_type_name((self.config)())
    }
}

/// Implemented by the grant parameter types: `Mint<'_, C>`, `Federation<'_, C>`.
pub trait GrantParam {
    /// What the parameter grants.
    const GRANT: Grant;
}

impl<C: TokenConfig> GrantParam for Mint<'_, C> {
    const GRANT: Grant = Grant {
        kind: GrantKind::Mint,
        config: std::any::type_name::<C>,
        secret: C::SECRET,
        layers_default: C::LAYERS_DEFAULT,
        token: super::signed_token::token_key::<C>(),
        vars: &[],
    };
}

impl<C: FederationConfig> GrantParam for super::FederationIssuer<'_, C> {
    const GRANT: Grant = Grant {
        kind: GrantKind::Issuer,
        config: std::any::type_name::<C>,
        secret: C::KEY_SECRET,
        layers_default: C::LAYERS_DEFAULT,
        token: "",
        vars: &[C::ISSUER_VAR],
    };
}

impl<C: FederationConfig> GrantParam for super::Federation<'_, C> {
    const GRANT: Grant = Grant {
        kind: GrantKind::Federation,
        config: std::any::type_name::<C>,
        secret: C::KEY_SECRET,
        layers_default: C::LAYERS_DEFAULT,
        token: "",
        vars: &[C::ISSUER_VAR, C::AUDIENCE_VAR, C::STS_URL_VAR, C::ROLE_VAR],
    };
}
