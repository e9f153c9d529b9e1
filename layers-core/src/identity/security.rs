//! How a verifier's credentials travel, described for API documents ([`Verifier::openapi_security`]).
//!
//! Plain data, compiled with or without the `openapi` feature: the verifiers say where their
//! credentials are, and `layers_core::openapi` (feature `openapi`) turns it into OpenAPI 3.1
//! security schemes and requirements.
//!
//! ```
//! use layers_core::identity::{AccessJwt, AnyOf, ApiKey, Public, SchemeKind, Verifier};
//!
//! assert!(Public::openapi_security().is_anonymous());
//! let key = ApiKey::<layers_core::identity::DefaultApiKey>::openapi_security();
//! assert!(matches!(key.alternatives()[0][0].kind, SchemeKind::ApiKey { name: "x-api-key", .. }));
//! // Access: the header or the cookie; with an API key: three ways in.
//! assert_eq!(AccessJwt::<layers_core::identity::DefaultAccess>::openapi_security().alternatives().len(), 2);
//! assert_eq!(<AnyOf<AccessJwt, ApiKey>>::openapi_security().alternatives().len(), 3);
//! ```

#[allow(unused_imports)] // the intra-doc link above
use super::Verifier;

/// Where an API-key-like credential is sent (OpenAPI's `in` of an `apiKey` scheme).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// A request header.
    Header,
    /// A query parameter.
    Query,
    /// A cookie.
    Cookie,
}

impl Location {
    /// OpenAPI's name for it: `header`, `query`, `cookie`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Location::Header => "header",
            Location::Query => "query",
            Location::Cookie => "cookie",
        }
    }
}

/// What kind of credential a [`Scheme`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemeKind {
    /// OpenAPI `apiKey`: a value in a header, a query parameter or a cookie.
    ApiKey {
        /// The header, parameter or cookie name.
        name: &'static str,
        /// Where it is sent.
        location: Location,
    },
    /// OpenAPI `http` with scheme `bearer`: `Authorization: Bearer <credential>`.
    Bearer {
        /// OpenAPI's `bearerFormat` (`"JWT"`), if any.
        format: Option<&'static str>,
    },
    /// OpenAPI `mutualTLS`: a client certificate.
    MutualTls,
    /// No OpenAPI scheme type fits (a token in the path, a verifier of your own that says
    /// nothing): documented only by the operation's `x-layers-identity` extension.
    Undeclared,
}

/// One credential a request carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scheme {
    /// The key under `components.securitySchemes` (schemes that share it must be equal).
    pub id: String,
    /// What it is and where it travels.
    pub kind: SchemeKind,
    /// What a client must send, in a sentence.
    pub description: String,
    /// `x-…` members of the scheme object, for what OpenAPI's types do not say (a signature
    /// over the body, a single-use token); each name starts with `x-`.
    pub extensions: Vec<(&'static str, String)>,
}

impl Scheme {
    /// A scheme without extensions.
    #[must_use]
    pub fn new(id: impl Into<String>, kind: SchemeKind, description: impl Into<String>) -> Scheme {
        Scheme { id: id.into(), kind, description: description.into(), extensions: Vec::new() }
    }

    /// The same scheme with an `x-…` member.
    ///
    /// # Panics
    /// When `name` does not start with `x-` (OpenAPI's rule for extensions).
    #[must_use]
    pub fn with_extension(mut self, name: &'static str, value: impl Into<String>) -> Scheme {
        assert!(name.starts_with("x-"), "an OpenAPI extension's name starts with `x-`: {name}");
        self.extensions.push((name, value.into()));
        self
    }
}

/// What a verifier accepts: any one of its alternatives, each a set of credentials sent together.
/// No alternative at all is an anonymous route ([`Public`](super::Public)).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Security {
    alternatives: Vec<Vec<Scheme>>,
}

impl Security {
    /// Anyone: no credentials.
    #[must_use]
    pub fn anonymous() -> Security {
        Security::default()
    }

    /// One credential.
    #[must_use]
    pub fn one(scheme: Scheme) -> Security {
        Security { alternatives: vec![vec![scheme]] }
    }

    /// Any one of these credentials.
    #[must_use]
    pub fn any_of(schemes: impl IntoIterator<Item = Scheme>) -> Security {
        Security { alternatives: schemes.into_iter().map(|s| vec![s]).collect() }
    }

    /// A verifier that says nothing about its credentials (the default of
    /// [`Verifier::openapi_security`]): documented by name only, as [`SchemeKind::Undeclared`].
    #[must_use]
    pub fn undeclared(verifier: &str) -> Security {
        Security::one(Scheme::new(
            verifier,
            SchemeKind::Undeclared,
            format!("verifier `{verifier}`, which does not describe its credentials"),
        ))
    }

    /// Either this or `other` (an [`AnyOf`](super::AnyOf)); an alternative both have is kept once.
    #[must_use]
    pub fn or(mut self, other: Security) -> Security {
        if self.is_anonymous() || other.is_anonymous() {
            // Either side lets anyone in, so the whole does.
            return Security::anonymous();
        }
        for alt in other.alternatives {
            if !self.alternatives.contains(&alt) {
                self.alternatives.push(alt);
            }
        }
        self
    }

    /// Whether anyone may call (no credentials asked).
    #[must_use]
    pub fn is_anonymous(&self) -> bool {
        self.alternatives.is_empty()
    }

    /// The alternatives: a request passes with all the schemes of any one of them.
    #[must_use]
    pub fn alternatives(&self) -> &[Vec<Scheme>] {
        &self.alternatives
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::{
        AccessJwt, AnyOf, ApiKey, ApiKeyConfig, ApiKeyHeader, EmailAllowlist, Guarded, Mtls, Public, SignedToken,
        TokenConfig, TokenSource, Turnstile, Verifier, Webhook,
    };

    fn kinds<V: Verifier>() -> Vec<Vec<SchemeKind>> {
        V::openapi_security().alternatives().iter().map(|a| a.iter().map(|s| s.kind).collect()).collect()
    }

    struct Bearer;
    impl ApiKeyConfig for Bearer {
        const HEADER: ApiKeyHeader = ApiKeyHeader::Bearer;
        const SECRET: &'static str = "K";
        const NAME: &'static str = "IngestKey";
    }
    struct InQuery;
    impl TokenConfig for InQuery {
        const SECRET: &'static str = "S";
        const PURPOSE: &'static str = "p";
        const SOURCE: TokenSource = TokenSource::Query("t");
    }
    struct InPath;
    impl TokenConfig for InPath {
        const SECRET: &'static str = "S";
        const PURPOSE: &'static str = "q";
        const SOURCE: TokenSource = TokenSource::Param("token");
    }

    #[test]
    fn each_verifier_says_where_its_credential_travels() {
        assert!(kinds::<Public>().is_empty(), "Public asks for nothing");
        assert_eq!(kinds::<ApiKey>(), [[SchemeKind::ApiKey { name: "x-api-key", location: Location::Header }]]);
        assert_eq!(kinds::<ApiKey<Bearer>>(), [[SchemeKind::Bearer { format: None }]]);
        assert_eq!(
            kinds::<AccessJwt>(),
            [
                [SchemeKind::ApiKey { name: "Cf-Access-Jwt-Assertion", location: Location::Header }],
                [SchemeKind::ApiKey { name: "CF_Authorization", location: Location::Cookie }],
            ]
        );
        assert_eq!(kinds::<Mtls>(), [[SchemeKind::MutualTls]]);
        assert_eq!(kinds::<SignedToken<InQuery>>(), [[SchemeKind::ApiKey { name: "t", location: Location::Query }]]);
        assert_eq!(kinds::<SignedToken<InPath>>(), [[SchemeKind::Undeclared]]);
        let hook = Webhook::<crate::identity::DefaultWebhook>::openapi_security();
        let s = &hook.alternatives()[0][0];
        assert_eq!(s.kind, SchemeKind::ApiKey { name: "webhook-signature", location: Location::Header });
        assert!(s.extensions.iter().any(|(k, v)| *k == "x-layers-signature" && v.contains("raw body")));
        let t = Turnstile::<crate::identity::DefaultTurnstile>::openapi_security();
        assert!(t.alternatives()[0][0].extensions.iter().any(|(k, _)| *k == "x-layers-turnstile"));
    }

    #[test]
    fn compositions_are_alternatives_or_the_inner_scheme() {
        assert_eq!(kinds::<Guarded<AccessJwt, EmailAllowlist>>(), kinds::<AccessJwt>(), "a policy adds no credential");
        let any = kinds::<AnyOf<AccessJwt, ApiKey>>();
        assert_eq!(any.len(), 3);
        assert_eq!(any[2], [SchemeKind::ApiKey { name: "x-api-key", location: Location::Header }]);
        assert!(kinds::<AnyOf<ApiKey, Public>>().is_empty(), "anyone may call AnyOf<_, Public>");
        assert_eq!(kinds::<AnyOf<ApiKey, ApiKey>>().len(), 1, "the same alternative once");
    }

    #[test]
    fn a_verifier_of_your_own_is_undeclared_by_default() {
        struct Probe;
        impl Verifier for Probe {
            type Claims = ();
            const NAME: &'static str = "Probe";
            async fn verify(_: &crate::identity::VerifyCx<'_>) -> Result<(), crate::identity::Deny> {
                Err(crate::identity::Deny::missing("never"))
            }
        }
        let s = Probe::openapi_security();
        assert_eq!(s.alternatives()[0][0].id, "Probe");
        assert_eq!(s.alternatives()[0][0].kind, SchemeKind::Undeclared);
        assert!(!s.is_anonymous(), "an undeclared verifier is not anonymous");
    }

    #[test]
    #[should_panic(expected = "starts with `x-`")]
    fn extensions_are_named_x_something() {
        let _ = Scheme::new("a", SchemeKind::MutualTls, "").with_extension("layers", "no");
    }
}
