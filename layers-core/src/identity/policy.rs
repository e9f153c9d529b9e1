//! Composition of verifiers: a policy on top of a verifier ([`Guarded`]), and either of two
//! verifiers ([`AnyOf`]).
//!
//! A verifier of your own is then one line:
//!
//! ```
//! use layers_core::identity::{AccessJwt, EmailAllowlist, Guarded};
//!
//! /// Cloudflare Access, and only the people listed in the `ADMIN_EMAILS` var.
//! pub type Admin = Guarded<AccessJwt, EmailAllowlist>;
//! // #[route(GET "/admin/*", identity = Admin, storage(D1, KV))]
//! ```

use std::fmt;
use std::marker::PhantomData;

use super::const_text::{ConstName, ConstNames};
use super::{
    AccessClaims, AccessConfig, AccessJwt, ApiKey, ApiKeyConfig, Deny, DenyKind, Mtls, MtlsConfig, SignedToken,
    TokenConfig, Turnstile, TurnstileConfig, Verifier, VerifyCx, Webhook, WebhookConfig, WorkerAccess,
    WorkerAccessClaims, WorkerAccessConfig,
};

/// Marks verifiers that establish *who* (or *what*) is calling, so that a policy on their
/// claims means something. Every built-in verifier but [`Public`](super::Public) has it;
/// implement it for a verifier of your own that authenticates.
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not authenticate anyone: a policy on it would make no sense",
    label = "`{Self}` lets every request through, so there are no claims to check",
    note = "use a verifier that authenticates (`AccessJwt`, `ApiKey`, `SignedToken<C>`, …); for your own verifier, `impl Authenticates for MyVerifier {{}}`"
)]
pub trait Authenticates: Verifier {}

impl<C: AccessConfig> Authenticates for AccessJwt<C> {}
impl<C: ApiKeyConfig> Authenticates for ApiKey<C> {}
impl<C: TokenConfig> Authenticates for SignedToken<C> {}
impl<C: MtlsConfig> Authenticates for Mtls<C> {}
impl<C: TurnstileConfig> Authenticates for Turnstile<C> {}
impl<C: WebhookConfig> Authenticates for Webhook<C> {}
impl<C: WorkerAccessConfig> Authenticates for WorkerAccess<C> {}
impl<V: Authenticates, P: Policy<V>> Authenticates for Guarded<V, P> {}
impl<A: Authenticates, B: Authenticates> Authenticates for AnyOf<A, B> {}

/// A check on claims that a verifier already proved, e.g. "this email is an admin".
///
/// A policy decides, it does not authenticate: [`Guarded`] turns every refusal into 403
/// ([`Deny::invalid`]), except [`Deny::unavailable`] (503), meant for a missing config var.
pub trait Policy<V: Verifier>: 'static {
    /// Name in logs (shown as `Verifier+Policy`).
    const NAME: &'static str;
    /// The Worker secrets the policy reads (see [`Verifier::SECRETS`]).
    const SECRETS: &'static [&'static str] = &[];
    /// The `[vars]` the policy reads (see [`Verifier::VARS`]).
    const VARS: &'static [&'static str] = &[];
    /// Allows or refuses the request whose claims `V` proved.
    ///
    /// # Errors
    /// [`Deny::invalid`] when not allowed; [`Deny::unavailable`] when the policy cannot decide.
    fn check(claims: &V::Claims, cx: &VerifyCx<'_>) -> Result<(), Deny>;
}

/// Verifier `V`, then policy `P` on its claims. The claims are `V`'s.
///
/// `V` must [`Authenticates`]: `Guarded<Public, _>` does not compile.
///
/// ```compile_fail
/// use layers_core::identity::{EmailAllowlist, Guarded, Public, Verifier};
/// fn name<V: Verifier>() -> &'static str { V::NAME }
/// // error: a policy on `Public` makes no sense
/// let _ = name::<Guarded<Public, EmailAllowlist>>();
/// ```
pub struct Guarded<V: Authenticates, P: Policy<V>>(PhantomData<fn() -> (V, P)>);

impl<V: Authenticates, P: Policy<V>> fmt::Debug for Guarded<V, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(<Self as Verifier>::NAME)
    }
}

impl<V: Authenticates, P: Policy<V>> Guarded<V, P> {
    const JOINED: &'static ConstName = &ConstName::join(&[V::NAME, "+", P::NAME]);
    const SECRET_LIST: &'static ConstNames = &ConstNames::join(V::SECRETS, P::SECRETS);
    const VAR_LIST: &'static ConstNames = &ConstNames::join(V::VARS, P::VARS);
    const TOKEN_LIST: &'static ConstNames = &ConstNames::join(V::TOKENS, &[]);
}

impl<V: Authenticates, P: Policy<V>> Verifier for Guarded<V, P> {
    type Claims = V::Claims;
    const NAME: &'static str = Self::JOINED.as_str();
    const SECRETS: &'static [&'static str] = Self::SECRET_LIST.as_slice();
    const VARS: &'static [&'static str] = Self::VAR_LIST.as_slice();
    const OUTBOUND: &'static [&'static str] = V::OUTBOUND;
    #[doc(hidden)]
    const TOKENS: &'static [&'static str] = Self::TOKEN_LIST.as_slice();
    const BODY: bool = V::BODY;
    const TLS: bool = V::TLS;
    const ACCESS: bool = V::ACCESS;

    /// `V`'s credentials: the policy looks at the claims, not at the request.
    fn openapi_security() -> super::Security {
        V::openapi_security()
    }

    async fn verify(cx: &VerifyCx<'_>) -> Result<V::Claims, Deny> {
        let claims = V::verify(cx).await?;
        match P::check(&claims, cx) {
            Ok(()) => Ok(claims),
            Err(d) if d.kind() == DenyKind::Unavailable => Err(d),
            Err(d) if d.kind() == DenyKind::Invalid => Err(d),
            // The caller did authenticate: a policy's "no" is 403, whatever it called it.
            Err(d) => Err(Deny::invalid(d.detail().to_owned())),
        }
    }
}

/// Claims that carry an email address a policy can check.
#[diagnostic::on_unimplemented(
    message = "`{Self}` carries no email address, so an email allowlist cannot check it",
    label = "the guarded verifier's claims have no email",
    note = "`EmailAllowlist` guards verifiers that prove an email, such as `AccessJwt` or `WorkerAccess`; implement `HasEmail` for your own claims type if it has one"
)]
pub trait HasEmail {
    /// The verified email, if these claims have one.
    fn email(&self) -> Option<&str>;
}

impl HasEmail for AccessClaims {
    fn email(&self) -> Option<&str> {
        AccessClaims::email(self)
    }
}

impl HasEmail for WorkerAccessClaims {
    fn email(&self) -> Option<&str> {
        WorkerAccessClaims::email(self)
    }
}

impl<A: HasEmail, B: HasEmail> HasEmail for OneOf<A, B> {
    fn email(&self) -> Option<&str> {
        match self {
            OneOf::First(a) => a.email(),
            OneOf::Second(b) => b.email(),
        }
    }
}

/// Configures an [`EmailAllowlist`]: which var lists the allowed addresses.
///
/// ```
/// use layers_core::identity::{AccessJwt, AllowlistConfig, EmailAllowlist, Guarded};
///
/// pub struct Editors;
/// impl AllowlistConfig for Editors {
///     const VAR: &'static str = "EDITOR_EMAILS";
///     const NAME: &'static str = "Editors";
/// }
/// pub type Editor = Guarded<AccessJwt, EmailAllowlist<Editors>>;
/// ```
pub trait AllowlistConfig: 'static {
    /// The var listing allowed addresses, separated by commas or whitespace. An entry
    /// `*@example.com` allows every address at exactly that domain.
    const VAR: &'static str;
    /// Name in logs and the manifest.
    const NAME: &'static str = "EmailAllowlist";
}

/// The default allowlist: var `ADMIN_EMAILS`.
#[derive(Debug)]
pub struct AdminEmails;

impl AllowlistConfig for AdminEmails {
    const VAR: &'static str = "ADMIN_EMAILS";
}

/// Allows only verified emails listed in a var ([`AllowlistConfig::VAR`], default
/// `ADMIN_EMAILS`).
///
/// * Comparison is exact except for ASCII case (`Ada@Example.com` matches `ada@example.com`);
///   non-ASCII characters must match exactly, so no Unicode case folding can make two
///   different addresses equal.
/// * `*@example.com` allows every address whose domain (after the last `@`) is exactly
///   `example.com` — not `sub.example.com`, not `example.com.evil`. No other wildcard exists.
/// * Var unset, empty, or holding an entry that is not an address or `*@domain` → 503.
/// * Claims without an email (an Access service token) → 403.
#[derive(Debug)]
pub struct EmailAllowlist<C: AllowlistConfig = AdminEmails>(PhantomData<C>);

enum Entry<'a> {
    Exact(&'a str),
    Domain(&'a str),
}

impl<C: AllowlistConfig> EmailAllowlist<C> {
    fn parse(var: &str) -> Result<Vec<Entry<'_>>, String> {
        let mut out = Vec::new();
        for e in var.split([',', ' ', '\t', '\n', '\r', ';']).filter(|e| !e.is_empty()) {
            let Some((local, domain)) = e.rsplit_once('@') else {
                return Err(format!("{}: an entry is not an email address", C::VAR));
            };
            if domain.is_empty() || local.is_empty() || domain.contains('*') {
                return Err(format!("{}: an entry is not an email address or *@domain", C::VAR));
            }
            if local == "*" {
                out.push(Entry::Domain(domain));
            } else if local.contains('*') {
                return Err(format!("{}: only *@domain wildcards are supported", C::VAR));
            } else {
                out.push(Entry::Exact(e));
            }
        }
        if out.is_empty() {
            return Err(format!("{} lists no address", C::VAR));
        }
        Ok(out)
    }

    /// Whether `email` is allowed by allowlist `var` (the var's value).
    ///
    /// # Errors
    /// A description when `var` is empty or malformed (the policy then answers 503).
    pub fn allows(var: &str, email: &str) -> Result<bool, crate::ConfigError> {
        let entries = Self::parse(var)?;
        let domain = email.rsplit_once('@').filter(|(l, d)| !l.is_empty() && !d.is_empty());
        Ok(entries.iter().any(|entry| match entry {
            Entry::Exact(want) => want.eq_ignore_ascii_case(email),
            Entry::Domain(want) => domain.is_some_and(|(_, d)| want.eq_ignore_ascii_case(d)),
        }))
    }
}

impl<V: Verifier, C: AllowlistConfig> Policy<V> for EmailAllowlist<C>
where
    V::Claims: HasEmail,
{
    const NAME: &'static str = C::NAME;
    const VARS: &'static [&'static str] = &[C::VAR];

    fn check(claims: &V::Claims, cx: &VerifyCx<'_>) -> Result<(), Deny> {
        let Some(var) = cx.var(C::VAR) else {
            return Err(Deny::unavailable(format!("var {} is not set", C::VAR)));
        };
        let Some(email) = claims.email() else {
            return Err(Deny::invalid(format!("claims carry no email (service token?), {} needs one", C::VAR)));
        };
        match Self::allows(&var, email) {
            Ok(true) => Ok(()),
            Ok(false) => Err(Deny::invalid(format!("email not listed in {}", C::VAR))),
            Err(e) => Err(Deny::unavailable(e.to_string())),
        }
    }
}

/// The claims of an [`AnyOf`]: which verifier allowed the request, and what it proved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OneOf<A, B> {
    /// The first verifier allowed it.
    First(A),
    /// The first refused, the second allowed it.
    Second(B),
}

/// Allows a request that `A` or `B` allows; tries `A` first, and `B` only when `A` refused.
///
/// When both refuse: 503 if either could not decide, else 403 if either saw bad credentials,
/// else 401. The log detail names both refusals.
///
/// ```
/// use layers_core::identity::{AccessJwt, AnyOf, ApiKey};
/// /// People through Access, or CI with an API key.
/// pub type StaffOrCi = AnyOf<AccessJwt, ApiKey>;
/// ```
pub struct AnyOf<A: Verifier, B: Verifier>(PhantomData<fn() -> (A, B)>);

impl<A: Verifier, B: Verifier> fmt::Debug for AnyOf<A, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(<Self as Verifier>::NAME)
    }
}

impl<A: Verifier, B: Verifier> AnyOf<A, B> {
    const JOINED: &'static ConstName = &ConstName::join(&["AnyOf(", A::NAME, "|", B::NAME, ")"]);
    const SECRET_LIST: &'static ConstNames = &ConstNames::join(A::SECRETS, B::SECRETS);
    const VAR_LIST: &'static ConstNames = &ConstNames::join(A::VARS, B::VARS);
    const OUTBOUND_LIST: &'static ConstNames = &ConstNames::join(A::OUTBOUND, B::OUTBOUND);
    const TOKEN_LIST: &'static ConstNames = &ConstNames::join(A::TOKENS, B::TOKENS);

    /// The refusal of an `AnyOf` whose two verifiers refused with `a` and `b`.
    #[must_use]
    pub fn combine(a: &Deny, b: &Deny) -> Deny {
        let detail = format!("{}: {}; {}: {}", A::NAME, a.detail(), B::NAME, b.detail());
        let kinds = [a.kind(), b.kind()];
        if kinds.contains(&DenyKind::Unavailable) {
            Deny::unavailable(detail)
        } else if kinds.contains(&DenyKind::Invalid) {
            Deny::invalid(detail)
        } else {
            Deny::missing(detail)
        }
    }
}

impl<A: Verifier, B: Verifier> Verifier for AnyOf<A, B> {
    type Claims = OneOf<A::Claims, B::Claims>;
    const NAME: &'static str = Self::JOINED.as_str();
    const SECRETS: &'static [&'static str] = Self::SECRET_LIST.as_slice();
    const VARS: &'static [&'static str] = Self::VAR_LIST.as_slice();
    const OUTBOUND: &'static [&'static str] = Self::OUTBOUND_LIST.as_slice();
    #[doc(hidden)]
    const TOKENS: &'static [&'static str] = Self::TOKEN_LIST.as_slice();
    const BODY: bool = A::BODY || B::BODY;
    const TLS: bool = A::TLS || B::TLS;
    const ACCESS: bool = A::ACCESS || B::ACCESS;

    /// `A`'s alternatives, then `B`'s.
    fn openapi_security() -> super::Security {
        A::openapi_security().or(B::openapi_security())
    }

    async fn verify(cx: &VerifyCx<'_>) -> Result<Self::Claims, Deny> {
        let da = match A::verify(cx).await {
            Ok(c) => return Ok(OneOf::First(c)),
            Err(d) => d,
        };
        match B::verify(cx).await {
            Ok(c) => Ok(OneOf::Second(c)),
            Err(db) => Err(Self::combine(&da, &db)),
        }
    }
}
