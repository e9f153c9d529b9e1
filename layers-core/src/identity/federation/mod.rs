//! Outbound identity: OIDC federation. The Worker signs a short-lived JWT about itself and
//! exchanges it at an STS endpoint (AWS `AssumeRoleWithWebIdentity`) for temporary
//! credentials, which are cached in KV until shortly before they expire.
//!
//! Here: the configuration ([`FederationConfig`]), the helper a handler takes ([`Federation`])
//! and what it hands out ([`TempCredentials`]). The steps, one concern per module:
//!
//! * `exchange`: one exchange per role at a time, the credentials cached in KV;
//! * `assertion`: the signing key ([`FederationKey`]) and the web identity token it signs;
//! * `sts_response`: reading the STS's answer (AWS's XML or JSON) or its error code;
//! * `iso8601`: the UTC timestamps of that answer;
//! * `issuer`: what the STS fetches to trust the assertions ([`FederationIssuer`]: the OIDC
//!   discovery document and the JWKS).

use std::fmt;
use std::marker::PhantomData;

use crate::identity::cx::Pause;
use crate::outbound::sigv4::{SignError, SigningParams};
use crate::outbound::{Fetcher, OutboundRequest};

mod assertion;
mod exchange;
mod iso8601;
mod issuer;
mod sts_response;

pub use assertion::FederationKey;
pub use issuer::{FederationIssuer, DISCOVERY_PATH, JWKS_PATH};

/// AWS STS's global endpoint, used when the STS URL var is unset.
pub const DEFAULT_STS_URL: &str = "https://sts.amazonaws.com/";
/// The audience AWS expects in a web identity token, used when the audience var is unset.
pub const DEFAULT_STS_AUDIENCE: &str = "sts.amazonaws.com";
/// STS answers larger than this many bytes are treated as garbage.
pub const MAX_STS_RESPONSE_LEN: usize = 64 * 1024;
/// Longest key secret accepted (bytes; a 4096-bit PKCS#8 PEM is about 3.3 KiB).
pub const MAX_FEDERATION_KEY_LEN: usize = 16 * 1024;

/// Configures a [`Federation`]: where the signing key, issuer, audience, STS URL and role come
/// from, what the assertion says, and how long credentials live. Every item has a default, so
/// a config only overrides what differs.
///
/// ```
/// use layers_core::identity::{Federation, FederationConfig};
///
/// /// Credentials for the nightly backup job's IAM role.
/// pub struct BackupRole;
/// impl FederationConfig for BackupRole {
///     const SUBJECT: &'static str = "blog-worker:backup";
///     const SESSION_NAME: &'static str = "blog-backup";
///     const ROLE_VAR: &'static str = "BACKUP_ROLE_ARN";
///     const NAME: &'static str = "BackupRole";
/// }
/// // A handler takes `creds: Federation<'_, BackupRole>` and calls `creds.credentials(&kv)`.
/// ```
pub trait FederationConfig: 'static {
    /// Worker secret holding the RSA private key that signs the assertion: PKCS#8 PEM
    /// (`-----BEGIN PRIVATE KEY-----`; literal `\n` escapes are read as newlines, since dotenv
    /// files carry one line), PKCS#1 PEM, or base64 of the PKCS#8 DER. 2048, 3072 or 4096 bits.
    const KEY_SECRET: &'static str = "FEDERATION_KEY";
    /// The `kid` put in the assertion's header (the key's id in the JWKS the identity provider
    /// publishes for this issuer).
    const KEY_ID: &'static str = "layers-federation";
    /// Var holding the assertion's `iss`: the OIDC issuer URL registered with the STS, e.g.
    /// `https://blog.example.com` (must be `https://`).
    const ISSUER_VAR: &'static str = "FEDERATION_ISSUER";
    /// The assertion's `sub`: who this Worker is to the STS (matched by the role's trust policy).
    const SUBJECT: &'static str = "layers-worker";
    /// Var holding the assertion's `aud`; [`DEFAULT_STS_AUDIENCE`] when unset.
    const AUDIENCE_VAR: &'static str = "STS_AUDIENCE";
    /// Var holding the STS endpoint; [`DEFAULT_STS_URL`] when unset. Must be `https://…`, or
    /// `http://` on 127.0.0.1, `localhost` or `[::1]` (tests).
    const STS_URL_VAR: &'static str = "STS_URL";
    /// Var holding the ARN of the role to assume.
    const ROLE_VAR: &'static str = "STS_ROLE_ARN";
    /// `RoleSessionName` (2–64 characters of `A-Z a-z 0-9 + = , . @ _ -`), shown in the
    /// STS audit trail.
    const SESSION_NAME: &'static str = "layers";
    /// `DurationSeconds` asked for (900–43200).
    const DURATION_SECS: u64 = 3600;
    /// Cached credentials are renewed when they have this many seconds or fewer left.
    const REFRESH_BEFORE_SECS: u64 = 300;
    /// Lifetime of the signed assertion, in seconds (1–3600).
    const ASSERTION_TTL_SECS: u64 = 300;
    /// Name in logs, errors and the KV cache key.
    const NAME: &'static str = "Federation";
    /// Set only by layers' own [`DefaultFederation`]: a configuration any app could opt in to,
    /// so no route may obtain its credentials ([`MayFederate`](super::MayFederate) needs a
    /// configuration of your app).
    #[doc(hidden)]
    const LAYERS_DEFAULT: bool = false;
}

/// The default [`Federation`] configuration: secret `FEDERATION_KEY`, vars `FEDERATION_ISSUER`,
/// `STS_AUDIENCE`, `STS_URL`, `STS_ROLE_ARN`; one-hour credentials renewed five minutes before
/// they expire. No route may take it: credentials are granted only for configurations of your
/// app ([`MayFederate`](super::MayFederate)); write one that overrides what differs.
#[derive(Debug)]
pub struct DefaultFederation;

impl FederationConfig for DefaultFederation {
    #[doc(hidden)]
    const LAYERS_DEFAULT: bool = true;
}

/// Temporary credentials from an STS exchange (or from the KV cache).
///
/// `Debug` shows the access key id and the expiry only: the secret key and the session token
/// are redacted. There is deliberately no `Serialize`, so they cannot end up in a response
/// body by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct TempCredentials {
    /// The access key id (`ASIA…`).
    pub access_key_id: String,
    /// The secret access key. Never log it or send it to a client.
    pub secret_access_key: String,
    /// The session token. Never log it or send it to a client.
    pub session_token: String,
    /// When the credentials expire, seconds since the Unix epoch.
    pub expiration: u64,
    /// Whether they came from the KV cache rather than a fresh exchange.
    pub from_cache: bool,
}

impl fmt::Debug for TempCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TempCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("session_token", &"<redacted>")
            .field("expiration", &self.expiration)
            .field("from_cache", &self.from_cache)
            .finish()
    }
}

impl TempCredentials {
    /// Signs `req` with these credentials for `service` in `region` at `time` (seconds since
    /// the Unix epoch), with AWS Signature Version 4: [`sigv4::sign`](crate::outbound::sigv4::sign)
    /// with the session token (an empty one is left out).
    ///
    /// ```no_run
    /// # use layers_core::identity::TempCredentials;
    /// # use layers_core::outbound::OutboundRequest;
    /// # fn f(creds: TempCredentials) -> Result<(), layers_core::outbound::sigv4::SignError> {
    /// let mut req = OutboundRequest::post(
    ///     "https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-v2%3A1/invoke",
    ///     "application/json",
    ///     br#"{"prompt":"\n\nHuman: Hello\n\nAssistant:","max_tokens_to_sample":300}"#.to_vec(),
    /// );
    /// creds.sign(&mut req, "us-east-1", "bedrock", layers_core::log::now_ms() / 1000)?;
    /// // then `out.send(req)` through the handler's `Outbound`
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`SignError`] when the request, region, service or time cannot be signed as they are;
    /// `req` is then unchanged.
    pub fn sign(&self, req: &mut OutboundRequest, region: &str, service: &str, time: u64) -> Result<(), SignError> {
        let params = SigningParams {
            access_key_id: &self.access_key_id,
            secret_access_key: &self.secret_access_key,
            session_token: Some(self.session_token.as_str()).filter(|t| !t.is_empty()),
            region,
            service,
            time,
        };
        crate::outbound::sigv4::sign(req, &params)
    }
}

type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The Worker's outbound identity: signs an assertion with its own key and exchanges it at an
/// STS for temporary credentials (AWS `AssumeRoleWithWebIdentity`), cached in KV.
///
/// A handler takes it as a parameter — `creds: Federation<'_, MyRole>` — and passes the
/// route's KV handle to [`credentials`](Self::credentials). Like claims and storage handles it
/// lives only as long as the request, and only the framework makes one. The key, issuer and
/// role are read from the secret and vars [`FederationConfig`] names.
///
/// ```no_run
/// # use layers_core::identity::{AccessJwt, EmailAllowlist, FederationConfig, Guarded};
/// # use layers_core::prelude::*;
/// # type Admin = Guarded<AccessJwt, EmailAllowlist>;
/// # struct BackupRole;
/// # impl FederationConfig for BackupRole {
/// #     const ROLE_VAR: &'static str = "BACKUP_ROLE_ARN";
/// #     const SESSION_NAME: &'static str = "backup";
/// #     const NAME: &'static str = "BackupRole";
/// # }
/// # impl MayFederate<Admin> for BackupRole {}
/// #[route(GET "/admin/backup-credentials", identity = Admin, storage(KV))]
/// async fn backup(_: Claims<'_, Admin>, kv: Kv<'_>, sts: Federation<'_, BackupRole>) -> Result<Response> {
///     let creds = sts.credentials(&kv).await?;
///     Ok(Response::from_json(&serde_json::json!({ "access_key_id": creds.access_key_id }))?)
/// }
/// # fn main() {}
/// ```
pub struct Federation<'r, C: FederationConfig = DefaultFederation> {
    key: Option<String>,
    issuer: Option<String>,
    audience: Option<String>,
    sts_url: Option<String>,
    role: Option<String>,
    fetcher: Fetcher,
    clock: fn() -> u64,
    /// How a request waits for another's STS exchange (its own timer).
    pause: Pause,
    config: PhantomData<fn() -> C>,
    scope: PhantomData<fn(&'r ()) -> &'r ()>,
}

impl<C: FederationConfig> fmt::Debug for Federation<'_, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Federation")
            .field("config", &C::NAME)
            .field("role", &self.role)
            .field("sts_url", &self.sts_url)
            .finish_non_exhaustive()
    }
}

impl<'r, C: FederationConfig> Federation<'r, C> {
    /// Made by the framework's dispatch only, from the Worker's secrets and vars.
    pub(crate) fn new(secret: Lookup<'_>, var: Lookup<'_>, fetcher: Fetcher, clock: fn() -> u64, pause: Pause) -> Self {
        let set = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        Federation {
            key: set(secret(C::KEY_SECRET)),
            issuer: set(var(C::ISSUER_VAR)),
            audience: set(var(C::AUDIENCE_VAR)),
            sts_url: set(var(C::STS_URL_VAR)),
            role: set(var(C::ROLE_VAR)),
            fetcher,
            clock,
            pause,
            config: PhantomData,
            scope: PhantomData,
        }
    }

    /// The ARN of the role this helper assumes, when its var is set.
    #[must_use]
    pub fn role(&self) -> Option<&str> {
        self.role.as_deref()
    }

    /// The KV key credentials for `role` are cached under: `layers:federation:<NAME>:<role>`.
    #[must_use]
    pub fn cache_key(role: &str) -> String {
        format!("layers:federation:{}:{role}", C::NAME)
    }
}
