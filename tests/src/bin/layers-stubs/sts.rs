//! The AWS STS stand-in: `AssumeRoleWithWebIdentity` (see the binary's docs).

use std::collections::{HashMap, HashSet};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jwt_compact::alg::{Rsa, RsaPublicKey};
use jwt_compact::{AlgorithmExt as _, UntrustedToken};

use crate::{iso8601, now};

/// Credentials the STS handed out: what the Bedrock stand-in checks signatures against.
#[derive(Clone)]
pub(crate) struct Issued {
    pub(crate) secret: String,
    pub(crate) session_token: String,
    pub(crate) expires: u64,
}

/// The STS stand-in's state.
pub(crate) struct Sts {
    /// The role ARNs it may grant (`--sts-role`, comma-separated).
    pub(crate) roles: Vec<String>,
    /// The fixture key trusted while no issuer is registered (`cargo xtask dev`).
    pub(crate) key: RsaPublicKey,
    /// Where the issuer's documents are really served (`POST /__control/sts-issuer`): once set,
    /// assertions are checked as AWS does, with the key the issuer publishes.
    pub(crate) issuer_base: Option<String>,
    /// Fetches of the issuer's documents (discovery + JWKS count one).
    pub(crate) issuer_fetches: u64,
    pub(crate) refuse: bool,
    pub(crate) exchanges: u64,
    pub(crate) seen_jti: HashSet<String>,
    /// Credentials handed out, by access key id.
    pub(crate) issued: HashMap<String, Issued>,
}

fn invalid(why: impl Into<String>) -> StsError {
    ("InvalidIdentityToken", why.into())
}

/// The key AWS would check `token` with: `{iss}/.well-known/openid-configuration` (its `issuer`
/// must be the token's `iss`), then its `jwks_uri`, then the key with the token's `kid` — each
/// fetched from `base`, where the issuer's documents are served (on loopback).
pub(crate) fn published_key(base: &str, token: &str) -> Result<RsaPublicKey, StsError> {
    let untrusted = UntrustedToken::new(token).map_err(|_| invalid("not a JWS"))?;
    let kid = untrusted.header().key_id.clone().ok_or_else(|| invalid("no kid"))?;
    let claims =
        untrusted.deserialize_claims_unchecked::<serde_json::Value>().map_err(|_| invalid("claims are not JSON"))?;
    let iss = claims.custom.get("iss").and_then(serde_json::Value::as_str).ok_or_else(|| invalid("no iss"))?.to_owned();
    let fetch = |path: &str| -> Result<serde_json::Value, StsError> {
        let (status, body) = crate::http::get(base, path).map_err(|e| invalid(format!("cannot fetch {path}: {e}")))?;
        if status != 200 {
            return Err(invalid(format!("{path} answered {status}")));
        }
        serde_json::from_str(&body).map_err(|_| invalid(format!("{path} is not JSON")))
    };
    let discovery = fetch("/.well-known/openid-configuration")?;
    if discovery["issuer"] != iss.as_str() {
        return Err(invalid("the discovery document names another issuer"));
    }
    let jwks_uri = discovery["jwks_uri"].as_str().ok_or_else(|| invalid("no jwks_uri"))?;
    let jwks_path = jwks_uri
        .strip_prefix(iss.trim_end_matches('/'))
        .filter(|p| p.starts_with('/'))
        .ok_or_else(|| invalid("jwks_uri is not under the issuer"))?;
    let jwks = fetch(jwks_path)?;
    let jwk = jwks["keys"]
        .as_array()
        .and_then(|keys| keys.iter().find(|k| k["kid"] == kid.as_str()))
        .ok_or_else(|| invalid(format!("no key {kid} in the issuer's JWKS")))?;
    if jwk["kty"] != "RSA" || jwk.get("d").is_some() {
        return Err(invalid("the published key is not a public RSA key"));
    }
    let part = |name: &str| {
        jwk[name]
            .as_str()
            .and_then(|v| URL_SAFE_NO_PAD.decode(v).ok())
            .map(|b| rsa::BigUint::from_bytes_be(&b))
            .ok_or_else(|| invalid(format!("the published key's {name} is not base64url")))
    };
    RsaPublicKey::new(part("n")?, part("e")?).map_err(|_| invalid("the published key is not a valid RSA key"))
}

/// Why an exchange is refused: an AWS error code and message.
pub(crate) type StsError = (&'static str, String);

impl Sts {
    /// An `AssumeRoleWithWebIdentity` call with form `f`; `published` is the key the issuer
    /// publishes for the token (when an issuer is registered), else the fixture key is used.
    pub(crate) fn exchange(
        &mut self,
        f: &[(String, String)],
        published: Option<RsaPublicKey>,
    ) -> Result<String, StsError> {
        let get = |k: &str| f.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        let need =
            |k: &'static str| get(k).filter(|v| !v.is_empty()).ok_or(("MissingParameter", format!("{k} is required")));
        if need("Action")? != "AssumeRoleWithWebIdentity" {
            return Err(("InvalidAction", "unsupported Action".into()));
        }
        if need("Version")? != "2011-06-15" {
            return Err(("InvalidParameterValue", "unsupported Version".into()));
        }
        let session = need("RoleSessionName")?;
        if session.len() < 2 || session.len() > 64 {
            return Err(("InvalidParameterValue", "RoleSessionName must be 2-64 characters".into()));
        }
        let duration: u64 = need("DurationSeconds")?
            .parse()
            .map_err(|_| ("InvalidParameterValue", "DurationSeconds is not a number".to_owned()))?;
        if !(900..=43_200).contains(&duration) {
            return Err(("InvalidParameterValue", "DurationSeconds must be 900-43200".into()));
        }
        let role = need("RoleArn")?;
        let token = need("WebIdentityToken")?;
        if self.refuse {
            return Err(("InvalidIdentityToken", "refusing every token (control mode)".into()));
        }
        let bad = |why: &str| ("InvalidIdentityToken", why.to_owned());
        let untrusted = UntrustedToken::new(token).map_err(|_| bad("not a JWS"))?;
        let header = untrusted.header();
        if header.key_id.as_deref().is_none_or(str::is_empty) || header.token_type.as_deref() != Some("JWT") {
            return Err(bad("header needs kid and typ JWT"));
        }
        let key = published.unwrap_or_else(|| self.key.clone());
        let verified = Rsa::rs256()
            .validator::<serde_json::Value>(&key)
            .validate(&untrusted)
            .map_err(|_| bad("signature does not verify"))?;
        let claims = verified.claims();
        let t = i64::try_from(now()).unwrap_or(i64::MAX);
        let exp = claims.expiration.map(|e| e.timestamp()).ok_or_else(|| bad("no exp"))?;
        if exp <= t {
            return Err(("ExpiredTokenException", "token expired".into()));
        }
        if exp > t + 3600 + 60 {
            return Err(bad("token lives longer than an hour"));
        }
        if claims.not_before.is_some_and(|n| n.timestamp() > t + 60) || claims.issued_at.is_none() {
            return Err(bad("nbf in the future or no iat"));
        }
        let c = &claims.custom;
        let text = |k: &str| c.get(k).and_then(serde_json::Value::as_str).filter(|v| !v.is_empty());
        if text("aud") != Some("sts.amazonaws.com") {
            return Err(bad("aud is not sts.amazonaws.com"));
        }
        if text("iss").is_none() || text("sub").is_none() {
            return Err(bad("iss and sub are required"));
        }
        let jti = text("jti").ok_or_else(|| bad("no jti"))?.to_owned();
        if !self.roles.iter().any(|r| r == role) {
            return Err(("AccessDenied", "not authorized to perform sts:AssumeRoleWithWebIdentity".into()));
        }
        if !self.seen_jti.insert(jti) {
            return Err(bad("jti replayed"));
        }
        self.exchanges += 1;
        let n = self.exchanges;
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        let (session_token, secret, key_id) = (
            format!("stubsession{n}x{nanos}FwoGZXIvYXdzEBYaDHVzLWVhc3QtMSJHMEUCIQ+/="),
            format!("stubsecret{n}x{nanos}wJalrXUtnFEMI/K7MDENG"),
            format!("ASIA{n:016}"),
        );
        self.issued.insert(
            key_id.clone(),
            Issued { secret: secret.clone(), session_token: session_token.clone(), expires: now() + 3600 },
        );
        Ok(format!(
            "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n\
             <AssumeRoleWithWebIdentityResult>\n\
             <SubjectFromWebIdentityToken>{sub}</SubjectFromWebIdentityToken>\n\
             <Audience>sts.amazonaws.com</Audience>\n\
             <AssumedRoleUser><Arn>{role}/{session}</Arn><AssumedRoleId>AROASTUB:{session}</AssumedRoleId></AssumedRoleUser>\n\
             <Credentials>\n\
             <SessionToken>{session_token}</SessionToken>\n\
             <SecretAccessKey>{secret}</SecretAccessKey>\n\
             <Expiration>{exp}</Expiration>\n\
             <AccessKeyId>{key_id}</AccessKeyId>\n\
             </Credentials>\n\
             <Provider>{iss}</Provider>\n\
             </AssumeRoleWithWebIdentityResult>\n\
             <ResponseMetadata><RequestId>stub-{n}</RequestId></ResponseMetadata>\n\
             </AssumeRoleWithWebIdentityResponse>\n",
            sub = xml_escape(text("sub").unwrap_or_default()),
            iss = xml_escape(text("iss").unwrap_or_default()),
            role = xml_escape(role),
            session = xml_escape(session),
            exp = iso8601(now() + 3600),
        ))
    }
}

pub(crate) fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

pub(crate) fn sts_error(code: &str, message: &str) -> String {
    format!(
        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n\
         <Error><Type>Sender</Type><Code>{code}</Code><Message>{}</Message></Error>\n\
         <RequestId>stub-error</RequestId>\n</ErrorResponse>\n",
        xml_escape(message)
    )
}
