//! The AWS STS stand-in: `AssumeRoleWithWebIdentity` (see the binary's docs).

use std::collections::HashSet;
use std::time::{SystemTime, UNIX_EPOCH};

use jwt_compact::alg::{Rsa, RsaPublicKey};
use jwt_compact::{AlgorithmExt as _, UntrustedToken};

use crate::{iso8601, now};

/// The STS stand-in's state.
pub(crate) struct Sts {
    pub(crate) role: String,
    pub(crate) key: RsaPublicKey,
    pub(crate) refuse: bool,
    pub(crate) exchanges: u64,
    pub(crate) seen_jti: HashSet<String>,
}

/// Why an exchange is refused: an AWS error code and message.
pub(crate) type StsError = (&'static str, String);

impl Sts {
    pub(crate) fn exchange(&mut self, f: &[(String, String)]) -> Result<String, StsError> {
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
        let verified = Rsa::rs256()
            .validator::<serde_json::Value>(&self.key)
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
        if role != self.role {
            return Err(("AccessDenied", "not authorized to perform sts:AssumeRoleWithWebIdentity".into()));
        }
        if !self.seen_jti.insert(jti) {
            return Err(bad("jti replayed"));
        }
        self.exchanges += 1;
        let n = self.exchanges;
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        Ok(format!(
            "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n\
             <AssumeRoleWithWebIdentityResult>\n\
             <SubjectFromWebIdentityToken>{sub}</SubjectFromWebIdentityToken>\n\
             <Audience>sts.amazonaws.com</Audience>\n\
             <AssumedRoleUser><Arn>{role}/{session}</Arn><AssumedRoleId>AROASTUB:{session}</AssumedRoleId></AssumedRoleUser>\n\
             <Credentials>\n\
             <SessionToken>stubsession{n}x{nanos}FwoGZXIvYXdzEBYaDHVzLWVhc3QtMSJHMEUCIQ+/=</SessionToken>\n\
             <SecretAccessKey>stubsecret{n}x{nanos}wJalrXUtnFEMI/K7MDENG</SecretAccessKey>\n\
             <Expiration>{exp}</Expiration>\n\
             <AccessKeyId>ASIA{n:016}</AccessKeyId>\n\
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
