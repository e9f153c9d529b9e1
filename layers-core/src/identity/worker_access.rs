//! Cloudflare's Worker-scoped Access: the identity the runtime hands the Worker in `ctx.access`
//! ([`WorkerAccess`]), and what dispatch reads of it ([`AccessIdentity`]).
//!
//! When Access protects a Worker (the Worker's **Access** tab, or "Protect all Workers"), the
//! runtime authenticates the request before the Worker runs and exposes the result on the
//! `ExecutionContext` (workerd's types, `CloudflareAccessContext`):
//!
//! * `ctx.access` is `undefined` when Access did not authenticate the request;
//! * otherwise `ctx.access.aud` is the Access application's AUD tag (a string), and
//!   `ctx.access.getIdentity()` is a promise of the identity object (what
//!   `/cdn-cgi/access/get-identity` returns: `email`, `name`, `groups`, `idp`, `geo`, …) or of
//!   `undefined`. Neither the JWT nor its claims are exposed.
//!
//! Dispatch reads `ctx.access` (and awaits `getIdentity()`) only for a verifier with
//! [`Verifier::ACCESS`], once per request, and hands it to the verifier as plain data in the
//! [`VerifyCx`]. Nothing else can put an identity into the context dispatch builds: a context
//! made with [`VerifyCx::builder`] may carry any [`AccessIdentity`] (that is how the verifier is
//! tested), but no route's `Claims` come out of a built context, and [`WorkerAccess`] keeps
//! nothing between requests that such a context could feed.

use std::fmt;
use std::marker::PhantomData;

use serde_json::{Map, Value};

use super::access_jwt::audience_tags;
use super::{
    AccessClaims, AccessConfig, AccessJwt, Deny, DenyKind, Verifier, VerifyCx, ACCESS_JWT_COOKIE, ACCESS_JWT_HEADER,
};

/// The largest identity (`ctx.access.getIdentity()` as JSON) dispatch reads; a larger one is
/// refused (503), never cut.
pub const MAX_ACCESS_IDENTITY_LEN: usize = 64 * 1024;

/// What the runtime said about Cloudflare Access for one request (`ctx.access`), as plain data:
/// the application's AUD tag and the identity `getIdentity()` resolved to.
///
/// Dispatch makes one per request for verifiers with [`Verifier::ACCESS`]; tests make one with
/// [`AccessIdentity::new`] or [`AccessIdentity::from_json`] and hand it to
/// [`VerifyCxBuilder::access`](super::VerifyCxBuilder::access). Its `Debug` shows the AUD and the
/// identity's field names, never their values.
#[derive(Clone, PartialEq)]
pub struct AccessIdentity {
    aud: String,
    identity: Option<Map<String, Value>>,
}

impl AccessIdentity {
    /// `ctx.access` with AUD tag `aud` whose `getIdentity()` resolves to `undefined` (a local
    /// simulation without an identity does that).
    #[must_use]
    pub fn new(aud: impl Into<String>) -> AccessIdentity {
        AccessIdentity { aud: aud.into(), identity: None }
    }

    /// The same, with `getIdentity()` resolving to `identity`.
    #[must_use]
    pub fn with_identity(mut self, identity: Map<String, Value>) -> AccessIdentity {
        self.identity = Some(identity);
        self
    }

    /// `ctx.access` with AUD tag `aud` whose `getIdentity()` resolved to the JSON text
    /// `identity` (`JSON.stringify` of it): how dispatch reads the runtime's object. `null`
    /// means no identity.
    ///
    /// # Errors
    /// When `identity` is longer than [`MAX_ACCESS_IDENTITY_LEN`] bytes, or is not a JSON object
    /// or `null`.
    pub fn from_json(aud: &str, identity: &str) -> Result<AccessIdentity, crate::ConfigError> {
        if identity.len() > MAX_ACCESS_IDENTITY_LEN {
            return Err(format!("the identity is larger than {MAX_ACCESS_IDENTITY_LEN} bytes").into());
        }
        match serde_json::from_str::<Value>(identity) {
            Ok(Value::Object(map)) => Ok(AccessIdentity::new(aud).with_identity(map)),
            Ok(Value::Null) => Ok(AccessIdentity::new(aud)),
            Ok(_) => Err("the identity is not an object".into()),
            Err(e) => Err(format!("the identity is not JSON: {e}").into()),
        }
    }

    /// `ctx.access.aud`: the AUD tag of the Access application that authenticated the request.
    #[must_use]
    pub fn aud(&self) -> &str {
        &self.aud
    }

    /// What `ctx.access.getIdentity()` resolved to; `None` for `undefined`.
    #[must_use]
    pub fn identity(&self) -> Option<&Map<String, Value>> {
        self.identity.as_ref()
    }

    /// Field `name` of the identity.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.identity.as_ref().and_then(|i| i.get(name))
    }

    /// The identity's `email`, when it is a non-empty string.
    #[must_use]
    pub fn email(&self) -> Option<&str> {
        self.get("email").and_then(Value::as_str).filter(|e| !e.is_empty())
    }
}

impl fmt::Debug for AccessIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Identity values (email, name, groups) are personal data: names only.
        let fields: Option<Vec<&str>> = self.identity.as_ref().map(|i| i.keys().map(String::as_str).collect());
        f.debug_struct("AccessIdentity").field("aud", &self.aud).field("identity_fields", &fields).finish()
    }
}

/// `ctx.access` as dispatch read it, in a [`VerifyCx`].
#[derive(Debug, Clone, Default)]
pub(crate) enum RuntimeAccess {
    /// `undefined` — or not read, for a verifier without [`Verifier::ACCESS`].
    #[default]
    Absent,
    /// Present, with what `getIdentity()` resolved to.
    Present(AccessIdentity),
    /// Present but unusable (`aud` not a string, `getIdentity()` threw or rejected, an identity
    /// too large or not an object): why, for the log.
    Unreadable(String),
}

/// What [`WorkerAccess`] does when the runtime gives no `ctx.access`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fallback {
    /// No `ctx.access` → 401, whatever the request carries: a `Cf-Access-Jwt-Assertion` header
    /// or `CF_Authorization` cookie is not looked at (the log says it was sent and refused).
    None,
    /// No `ctx.access` → the Access JWT, verified exactly as
    /// [`AccessJwt<C::Jwt>`](AccessJwt) verifies it (the same code: header, else cookie; keys,
    /// signature, `aud`, `iss`, times). For an Access application in front of a hostname or
    /// path, or while moving from one to Worker-scoped Access.
    Jwt,
}

impl Fallback {
    const fn takes_jwt(self) -> bool {
        matches!(self, Fallback::Jwt)
    }
}

/// Configures a [`WorkerAccess`] verifier: the Access application it belongs to and whether it
/// falls back to the JWT.
///
/// ```
/// use layers_core::identity::{DefaultAccess, Fallback, WorkerAccess, WorkerAccessConfig};
///
/// /// Worker-scoped Access, or the Access JWT while a hostname application still sends one.
/// pub struct Staff;
/// impl WorkerAccessConfig for Staff {
///     type Jwt = DefaultAccess;
///     const FALLBACK: Fallback = Fallback::Jwt;
///     const NAME: &'static str = "StaffAccess";
/// }
/// pub type StaffAccess = WorkerAccess<Staff>; // use as `identity = StaffAccess`
/// ```
pub trait WorkerAccessConfig: 'static {
    /// The [`AccessJwt`] configuration of the same Access application. Its
    /// [`AUD_VAR`](AccessConfig::AUD_VAR) (default `ACCESS_AUD`) lists the AUD tags
    /// `ctx.access.aud` must be one of; with [`Fallback::Jwt`], the JWT is verified exactly as
    /// `AccessJwt<Self::Jwt>` verifies it (its team domain var, keys and caches included).
    type Jwt: AccessConfig;
    /// What happens without `ctx.access`. No default: the choice is the configuration's.
    const FALLBACK: Fallback;
    /// Name in logs and the manifest.
    const NAME: &'static str = "WorkerAccess";
}

/// The default [`WorkerAccess`] configuration: AUD from var `ACCESS_AUD` ([`DefaultAccess`]),
/// no JWT fallback.
///
/// [`DefaultAccess`]: super::DefaultAccess
#[derive(Debug)]
pub struct DefaultWorkerAccess;

impl WorkerAccessConfig for DefaultWorkerAccess {
    type Jwt = super::DefaultAccess;
    const FALLBACK: Fallback = Fallback::None;
}

/// Cloudflare's Worker-scoped Access: the identity the runtime provides in `ctx.access`.
///
/// When Access protects the Worker itself, the runtime authenticates each request before the
/// Worker runs: `ctx.access` is `undefined` when Access did not authenticate it, else an object
/// with `aud` (the Access application's AUD tag) and `getIdentity()` (a promise of what
/// `/cdn-cgi/access/get-identity` returns — `email`, `name`, `groups`, … — or of `undefined`).
/// Dispatch reads it only for this verifier's routes and hands it over as an
/// [`AccessIdentity`] ([`VerifyCx::access`]).
///
/// * The AUD var ([`AccessConfig::AUD_VAR`] of `C::Jwt`, default `ACCESS_AUD`, several tags
///   separated by commas or whitespace) is read first: unset or empty → 503, whatever the request.
/// * `ctx.access` present: its `aud` must be one of the var's tags, else 403 (another Access
///   application let the request through, e.g. an account-wide one). The identity's `email`, if
///   the identity has one, must be a non-empty string (else 503: the runtime's data is
///   unusable). An identity without email (`getIdentity()` resolved to `undefined`, or a service
///   token's identity) is let through with no email: [`EmailAllowlist`](super::EmailAllowlist)
///   then refuses it (403).
/// * `ctx.access` absent: [`Fallback::None`] → 401 (a JWT the request carries is refused, and
///   the log says so); [`Fallback::Jwt`] → exactly what [`AccessJwt<C::Jwt>`](AccessJwt) answers.
/// * `ctx.access` present but unreadable (the runtime's `aud` not a string, `getIdentity()`
///   failing, an identity larger than [`MAX_ACCESS_IDENTITY_LEN`]) → 503, never the fallback.
///
/// Nothing is remembered between requests. Logs carry the refusal's reason, never the email,
/// the identity or a token.
///
/// ```
/// use layers_core::identity::{EmailAllowlist, Guarded, WorkerAccess};
/// /// Worker-scoped Access, and only the people listed in `ADMIN_EMAILS`.
/// pub type Admin = Guarded<WorkerAccess, EmailAllowlist>;
/// ```
#[derive(Debug)]
pub struct WorkerAccess<C: WorkerAccessConfig = DefaultWorkerAccess>(PhantomData<C>);

/// What a [`WorkerAccess`] proves: who Access let through, and which way it said so.
#[derive(Debug, Clone, PartialEq)]
pub enum WorkerAccessClaims {
    /// The runtime's `ctx.access`, its AUD checked.
    Runtime(AccessIdentity),
    /// No `ctx.access`; the Access JWT verified ([`Fallback::Jwt`]).
    Jwt(AccessClaims),
}

impl WorkerAccessClaims {
    /// The verified email; `None` for an identity without one (a service token).
    #[must_use]
    pub fn email(&self) -> Option<&str> {
        match self {
            WorkerAccessClaims::Runtime(a) => a.email(),
            WorkerAccessClaims::Jwt(c) => c.email(),
        }
    }
}

impl<C: WorkerAccessConfig> WorkerAccess<C> {
    /// The vars without the JWT fallback: the AUD var only.
    const AUD_ONLY: &'static [&'static str] = &[<C::Jwt as AccessConfig>::AUD_VAR];

    /// The AUD var's tags, checked to list one at least.
    fn audiences(cx: &VerifyCx<'_>) -> Result<String, Deny> {
        let var = <C::Jwt as AccessConfig>::AUD_VAR;
        let Some(aud) = cx.var(var) else {
            return Err(Deny::unavailable(format!("var {var} is not set")));
        };
        if audience_tags(&aud).next().is_none() {
            return Err(Deny::unavailable(format!("var {var} lists no AUD tag")));
        }
        Ok(aud)
    }

    /// The runtime's identity, checked against the AUD tags `want`.
    fn runtime(access: &AccessIdentity, want: &str) -> Result<WorkerAccessClaims, Deny> {
        if !audience_tags(want).any(|a| a == access.aud()) {
            return Err(Deny::invalid(format!(
                "ctx.access.aud is not an AUD tag listed in var {}",
                <C::Jwt as AccessConfig>::AUD_VAR
            )));
        }
        if access.get("email").is_some() && access.email().is_none() {
            return Err(Deny::unavailable("ctx.access identity: email is not a non-empty string"));
        }
        Ok(WorkerAccessClaims::Runtime(access.clone()))
    }

    /// No `ctx.access`, and no JWT taken: 401, saying whether one was sent.
    fn absent(cx: &VerifyCx<'_>) -> Deny {
        if cx.header_count(ACCESS_JWT_HEADER) > 0 || cx.cookie(ACCESS_JWT_COOKIE).is_some() {
            Deny::missing(format!(
                "no ctx.access; a {ACCESS_JWT_HEADER} header or {ACCESS_JWT_COOKIE} cookie was sent, which this \
                 configuration does not accept (Fallback::None)"
            ))
        } else {
            Deny::missing("no ctx.access: Access did not authenticate this request")
        }
    }
}

/// `d` with its detail prefixed by `prefix`, of the same kind.
fn prefixed(prefix: &str, d: &Deny) -> Deny {
    let detail = format!("{prefix}{}", d.detail());
    match d.kind() {
        DenyKind::Missing => Deny::missing(detail),
        DenyKind::Invalid => Deny::invalid(detail),
        DenyKind::Unavailable => Deny::unavailable(detail),
    }
}

impl<C: WorkerAccessConfig> Verifier for WorkerAccess<C> {
    type Claims = WorkerAccessClaims;
    const NAME: &'static str = C::NAME;
    const VARS: &'static [&'static str] =
        if C::FALLBACK.takes_jwt() { <AccessJwt<C::Jwt> as Verifier>::VARS } else { Self::AUD_ONLY };
    const OUTBOUND: &'static [&'static str] =
        if C::FALLBACK.takes_jwt() { <AccessJwt<C::Jwt> as Verifier>::OUTBOUND } else { &[] };
    const ACCESS: bool = true;

    fn openapi_security() -> super::Security {
        use super::{Location, Scheme, SchemeKind, Security};
        let runtime = Security::one(
            Scheme::new(
                C::NAME,
                SchemeKind::ApiKey { name: ACCESS_JWT_COOKIE, location: Location::Cookie },
                format!(
                    "Cloudflare Access in front of the Worker (Worker-scoped Access): Access authenticates the \
                     caller (its session cookie `{ACCESS_JWT_COOKIE}`, or a service token's `CF-Access-Client-Id` \
                     and `CF-Access-Client-Secret` headers) and the runtime hands the Worker the identity in \
                     `ctx.access`, whose AUD must be listed in var `{}`.",
                    <C::Jwt as AccessConfig>::AUD_VAR
                ),
            )
            .with_extension("x-layers-access", "ctx.access"),
        );
        if C::FALLBACK.takes_jwt() {
            runtime.or(AccessJwt::<C::Jwt>::openapi_security())
        } else {
            runtime
        }
    }

    async fn verify(cx: &VerifyCx<'_>) -> Result<WorkerAccessClaims, Deny> {
        let want = Self::audiences(cx)?;
        if let Some(access) = cx.access()? {
            return Self::runtime(access, &want);
        }
        if C::FALLBACK.takes_jwt() {
            return AccessJwt::<C::Jwt>::verify(cx)
                .await
                .map(WorkerAccessClaims::Jwt)
                .map_err(|d| prefixed("no ctx.access; Access JWT: ", &d));
        }
        Err(Self::absent(cx))
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::rc::Rc;

    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use futures::executor::block_on;
    use jwt_compact::alg::{Rsa, RsaPrivateKey};
    use jwt_compact::{Algorithm as _, AlgorithmSignature as _};
    use rsa::pkcs8::DecodePrivateKey as _;
    use serde_json::json;

    use super::*;
    use crate::identity::{AnyOf, ApiKey, EmailAllowlist, Guarded, Jwks, VerifyCxBuilder};
    use crate::outbound::{FetchFuture, OutboundRequest, OutboundResponse};

    const PEM_A: &str = include_str!("../../../tests/fixtures/access/key-a.pem");
    const PEM_B: &str = include_str!("../../../tests/fixtures/access/key-b.pem");
    const JWKS_A: &str = include_str!("../../../tests/fixtures/access/jwks-a.json");
    const NOW: u64 = 1_800_000_000;
    const TEAM: &str = "layers-test.cloudflareaccess.com";
    const AUD: &str = "4714c1358e65fe4b408ad6d432a5f878f08194bdb4752441fd56faefa9b2b6f2";
    const OTHER_AUD: &str = "0d1e2f";

    /// Worker-scoped Access with the JWT as fallback.
    struct WithJwt;
    impl WorkerAccessConfig for WithJwt {
        type Jwt = crate::identity::DefaultAccess;
        const FALLBACK: Fallback = Fallback::Jwt;
        const NAME: &'static str = "WorkerAccess<WithJwt>";
    }

    type Strict = WorkerAccess;
    type Lenient = WorkerAccess<WithJwt>;

    fn identity(v: Value) -> Map<String, Value> {
        v.as_object().expect("an object").clone()
    }

    fn ada(aud: &str) -> AccessIdentity {
        AccessIdentity::new(aud).with_identity(identity(json!({
            "email": "ada@example.com",
            "name": "Ada",
            "groups": [{"id": "g1", "name": "eng"}],
            "idp": {"id": "i1", "type": "google"},
        })))
    }

    fn vars(name: &str) -> Option<String> {
        match name {
            "ACCESS_AUD" => Some(format!("unrelated-tag, {AUD}")),
            "ACCESS_TEAM_DOMAIN" => Some(TEAM.to_owned()),
            "ADMIN_EMAILS" => Some("ada@example.com".to_owned()),
            _ => None,
        }
    }

    /// A context with the vars above and a JWKS server (key A) that counts its fetches.
    fn cx(fetches: &Rc<Cell<u32>>) -> VerifyCxBuilder<'static> {
        let fetches = Rc::clone(fetches);
        VerifyCx::builder().now(NOW).vars(vars).fetcher(Rc::new(move |r: OutboundRequest| -> FetchFuture {
            fetches.set(fetches.get() + 1);
            assert_eq!(r.url, format!("https://{TEAM}/cdn-cgi/access/certs"));
            Box::pin(async {
                Ok(OutboundResponse { status: 200, headers: Vec::new(), body: JWKS_A.as_bytes().to_vec() })
            })
        }))
    }

    fn counter() -> Rc<Cell<u32>> {
        Rc::new(Cell::new(0))
    }

    /// An Access JWT for Ada, signed with fixture key `pem` under key A's kid.
    fn jwt(pem: &str) -> String {
        let b64 = |b: &[u8]| URL_SAFE_NO_PAD.encode(b);
        let kid = Jwks::parse(JWKS_A.as_bytes()).unwrap().kids().next().unwrap().to_owned();
        let header = json!({"alg": "RS256", "kid": kid, "typ": "JWT"}).to_string();
        let payload = json!({
            "aud": [AUD], "email": "ada@example.com", "exp": NOW + 300, "iat": NOW - 10, "nbf": NOW - 10,
            "iss": format!("https://{TEAM}"), "type": "app", "sub": "7335d417-61da-459d-899c-0a01c76a2f94",
        })
        .to_string();
        let msg = format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()));
        let key = RsaPrivateKey::from_pkcs8_pem(pem).unwrap();
        let sig = Rsa::rs256().sign(&key, msg.as_bytes());
        format!("{msg}.{}", b64(&sig.as_bytes()))
    }

    fn run<V: Verifier>(cx: &VerifyCx<'_>) -> Result<V::Claims, Deny> {
        block_on(V::verify(cx))
    }

    fn denied<T: fmt::Debug>(r: Result<T, Deny>, kind: DenyKind, what: &str) -> Deny {
        let d = r.expect_err(what);
        assert_eq!(d.kind(), kind, "{what}: {d:?}");
        d
    }

    #[test]
    fn the_runtime_identity_passes_when_its_aud_is_listed() {
        let n = counter();
        for claims in
            [run::<Strict>(&cx(&n).access(ada(AUD)).build()), run::<Lenient>(&cx(&n).access(ada(AUD)).build())]
        {
            let claims = claims.expect("ctx.access with a listed AUD");
            assert_eq!(claims.email(), Some("ada@example.com"));
            let WorkerAccessClaims::Runtime(a) = &claims else { panic!("the runtime's identity: {claims:?}") };
            assert_eq!(a.aud(), AUD);
            assert_eq!(a.get("name"), Some(&json!("Ada")));
        }
        assert_eq!(n.get(), 0, "ctx.access needs no key set, with or without the fallback");
    }

    #[test]
    fn another_applications_aud_is_403_and_never_falls_back() {
        let n = counter();
        let d = denied(run::<Strict>(&cx(&n).access(ada(OTHER_AUD)).build()), DenyKind::Invalid, "other AUD");
        assert!(d.detail().contains("ACCESS_AUD") && !d.detail().contains(OTHER_AUD), "{d:?}");
        // A valid JWT next to it changes nothing: the runtime has spoken.
        let with_jwt = cx(&n).access(ada(OTHER_AUD)).header(ACCESS_JWT_HEADER, &jwt(PEM_A)).build();
        denied(run::<Lenient>(&with_jwt), DenyKind::Invalid, "other AUD, JWT fallback configured");
        assert_eq!(n.get(), 0);
    }

    #[test]
    fn an_unset_or_empty_aud_var_is_503_whatever_the_request() {
        let n = counter();
        let no_aud = |name: &str| if name == "ACCESS_AUD" { None } else { vars(name) };
        let empty = |name: &str| if name == "ACCESS_AUD" { Some(" , ".to_owned()) } else { vars(name) };
        for cx in [
            cx(&n).vars(no_aud).access(ada(AUD)).build(),
            cx(&n).vars(no_aud).build(),
            cx(&n).vars(empty).access(ada(AUD)).build(),
        ] {
            let d = denied(run::<Strict>(&cx), DenyKind::Unavailable, "AUD var unset or empty");
            assert!(d.detail().contains("ACCESS_AUD"), "{d:?}");
            denied(run::<Lenient>(&cx), DenyKind::Unavailable, "AUD var unset or empty, JWT fallback");
        }
        assert_eq!(n.get(), 0);
    }

    #[test]
    fn without_ctx_access_and_without_fallback_it_is_401_even_with_a_valid_jwt() {
        let n = counter();
        let d = denied(run::<Strict>(&cx(&n).build()), DenyKind::Missing, "nothing at all");
        assert!(d.detail().contains("no ctx.access"), "{d:?}");
        let token = jwt(PEM_A);
        for cx in [
            cx(&n).header(ACCESS_JWT_HEADER, &token).build(),
            cx(&n).header("cookie", &format!("{ACCESS_JWT_COOKIE}={token}")).build(),
        ] {
            let d = denied(run::<Strict>(&cx), DenyKind::Missing, "a valid JWT, Fallback::None");
            assert!(d.detail().contains("Fallback::None"), "the log says a JWT was refused: {d:?}");
            assert!(!d.detail().contains(&token));
        }
        // The same token does verify through the fallback, so it was refused, not broken.
        assert!(run::<Lenient>(&cx(&n).header(ACCESS_JWT_HEADER, &token).build()).is_ok());
        assert_eq!(n.get(), 1, "only the fallback fetched keys");
    }

    #[test]
    fn the_jwt_fallback_is_access_jwt_itself() {
        let n = counter();
        let token = jwt(PEM_A);
        let claims = run::<Lenient>(&cx(&n).header(ACCESS_JWT_HEADER, &token).build()).expect("a valid JWT");
        assert_eq!(claims.email(), Some("ada@example.com"));
        let WorkerAccessClaims::Jwt(jwt_claims) = &claims else { panic!("the JWT's claims: {claims:?}") };
        // What AccessJwt proves from the same request, exactly.
        let direct = run::<AccessJwt>(&cx(&n).header(ACCESS_JWT_HEADER, &token).build()).unwrap();
        assert_eq!(*jwt_claims, direct);
        // AccessJwt's refusals, kind for kind, with the path in the log.
        let d = denied(run::<Lenient>(&cx(&n).build()), DenyKind::Missing, "no ctx.access, no JWT");
        assert!(d.detail().starts_with("no ctx.access; Access JWT: "), "{d:?}");
        let forged = cx(&n).header(ACCESS_JWT_HEADER, &jwt(PEM_B)).build();
        denied(run::<Lenient>(&forged), DenyKind::Invalid, "signed by another key");
        let no_team = |name: &str| if name == "ACCESS_TEAM_DOMAIN" { None } else { vars(name) };
        let cx_no_team = cx(&n).vars(no_team).header(ACCESS_JWT_HEADER, &token).build();
        denied(run::<Lenient>(&cx_no_team), DenyKind::Unavailable, "team domain unset");
        // With ctx.access present, the team domain is not needed.
        assert!(run::<Lenient>(&cx(&n).vars(no_team).access(ada(AUD)).build()).is_ok());
    }

    #[test]
    fn an_identity_without_email_passes_without_one_and_a_bad_email_is_503() {
        let n = counter();
        let bare = run::<Strict>(&cx(&n).access(AccessIdentity::new(AUD)).build()).expect("getIdentity() undefined");
        assert_eq!(bare.email(), None);
        let service = AccessIdentity::new(AUD).with_identity(identity(json!({"service_token_id": "abc"})));
        assert_eq!(run::<Strict>(&cx(&n).access(service).build()).unwrap().email(), None);
        for email in [json!(""), json!(42), json!(["ada@example.com"]), Value::Null] {
            let odd = AccessIdentity::new(AUD).with_identity(identity(json!({ "email": email })));
            denied(run::<Strict>(&cx(&n).access(odd).build()), DenyKind::Unavailable, "email not a string");
        }
    }

    #[test]
    fn an_unreadable_ctx_access_is_503_never_the_fallback() {
        let n = counter();
        let mut cx = cx(&n).header(ACCESS_JWT_HEADER, &jwt(PEM_A)).build();
        cx.access = RuntimeAccess::Unreadable("getIdentity() threw or rejected".into());
        let d = denied(run::<Lenient>(&cx), DenyKind::Unavailable, "unreadable ctx.access");
        assert!(d.detail().contains("getIdentity()"), "{d:?}");
        denied(run::<Strict>(&cx), DenyKind::Unavailable, "unreadable ctx.access");
        assert_eq!(n.get(), 0);
    }

    #[test]
    fn the_email_allowlist_guards_it_like_access_jwt() {
        type Admin = Guarded<Strict, EmailAllowlist>;
        type LenientAdmin = Guarded<Lenient, EmailAllowlist>;
        let n = counter();
        assert!(run::<Admin>(&cx(&n).access(ada(AUD)).build()).is_ok());
        let bob = AccessIdentity::new(AUD).with_identity(identity(json!({"email": "bob@example.com"})));
        denied(run::<Admin>(&cx(&n).access(bob).build()), DenyKind::Invalid, "not listed");
        denied(run::<Admin>(&cx(&n).access(AccessIdentity::new(AUD)).build()), DenyKind::Invalid, "no email");
        denied(run::<Admin>(&cx(&n).build()), DenyKind::Missing, "no ctx.access");
        let no_list = |name: &str| if name == "ADMIN_EMAILS" { None } else { vars(name) };
        denied(run::<Admin>(&cx(&n).vars(no_list).access(ada(AUD)).build()), DenyKind::Unavailable, "no list");
        // Through the fallback, the JWT's email is what the list checks.
        assert!(run::<LenientAdmin>(&cx(&n).header(ACCESS_JWT_HEADER, &jwt(PEM_A)).build()).is_ok());
        assert_eq!(<Admin as Verifier>::NAME, "WorkerAccess+EmailAllowlist");
        assert_eq!(<Admin as Verifier>::VARS, ["ACCESS_AUD", "ADMIN_EMAILS"]);
    }

    #[test]
    fn it_declares_what_it_reads_and_fetches() {
        const { assert!(<Strict as Verifier>::ACCESS && <Lenient as Verifier>::ACCESS) };
        const { assert!(<Guarded<Strict, EmailAllowlist> as Verifier>::ACCESS) };
        const { assert!(<AnyOf<ApiKey, Strict> as Verifier>::ACCESS && <AnyOf<Strict, ApiKey> as Verifier>::ACCESS) };
        const { assert!(!<AccessJwt as Verifier>::ACCESS && !<AnyOf<ApiKey, AccessJwt> as Verifier>::ACCESS) };
        assert_eq!(<Strict as Verifier>::VARS, ["ACCESS_AUD"]);
        assert!(<Strict as Verifier>::OUTBOUND.is_empty(), "no JWT, no key set");
        assert_eq!(<Lenient as Verifier>::VARS, <AccessJwt as Verifier>::VARS);
        assert_eq!(<Lenient as Verifier>::OUTBOUND, <AccessJwt as Verifier>::OUTBOUND);
        assert_eq!(<Strict as Verifier>::NAME, "WorkerAccess");
        // OpenAPI: Access in front of the Worker; with the fallback, AccessJwt's header and cookie.
        let strict = Strict::openapi_security();
        assert_eq!(strict.alternatives().len(), 1);
        assert_eq!(strict.alternatives()[0][0].id, "WorkerAccess");
        let lenient = Lenient::openapi_security();
        let ids: Vec<&str> = lenient.alternatives().iter().map(|a| a[0].id.as_str()).collect();
        assert_eq!(ids, ["WorkerAccess<WithJwt>", "AccessJwtHeader", "AccessJwtCookie"]);
    }

    #[test]
    fn the_runtime_identity_is_read_as_json_within_bounds() {
        let a = AccessIdentity::from_json(AUD, r#"{"email":"ada@example.com","groups":[]}"#).unwrap();
        assert_eq!((a.aud(), a.email()), (AUD, Some("ada@example.com")));
        assert_eq!(AccessIdentity::from_json(AUD, "null").unwrap(), AccessIdentity::new(AUD));
        for bad in ["[]", "\"ada@example.com\"", "42", "{", ""] {
            assert!(AccessIdentity::from_json(AUD, bad).is_err(), "{bad}");
        }
        let pad = "x".repeat(MAX_ACCESS_IDENTITY_LEN);
        assert!(AccessIdentity::from_json(AUD, &format!(r#"{{"p":"{pad}"}}"#)).is_err(), "too large");
        let fits = "x".repeat(MAX_ACCESS_IDENTITY_LEN - 8);
        assert!(AccessIdentity::from_json(AUD, &format!(r#"{{"p":"{fits}"}}"#)).is_ok());
    }

    #[test]
    fn debug_shows_no_identity_values() {
        let shown = format!("{:?}", ada(AUD));
        assert!(shown.contains("email") && shown.contains(AUD), "{shown}");
        assert!(!shown.contains("ada@example.com") && !shown.contains("Ada\""), "{shown}");
    }

    #[test]
    fn a_built_context_is_absent_unless_given_one() {
        let cx = VerifyCx::builder().build();
        assert!(matches!(cx.access(), Ok(None)));
        let cx = VerifyCx::builder().access(ada(AUD)).build();
        assert_eq!(cx.access().unwrap().unwrap().email(), Some("ada@example.com"));
    }
}
