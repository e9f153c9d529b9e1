use std::collections::HashMap;
use std::marker::PhantomData;

use super::{constant_time_eq, Deny, Verifier, VerifyCx};

/// Configures an [`Mtls`] verifier.
///
/// ```
/// use layers_core::identity::{Mtls, MtlsConfig};
///
/// pub struct Devices;
/// impl MtlsConfig for Devices {
///     const ALLOWLIST_VAR: &'static str = "DEVICE_CERTS";
/// }
/// pub type Device = Mtls<Devices>; // use as `identity = Device`
/// ```
pub trait MtlsConfig: 'static {
    /// The var holding the optional allowlist. Unset: any certificate Cloudflare verified
    /// against the zone's CA is accepted. Set but listing nothing: 503 (a misconfiguration,
    /// never "anything"). Otherwise, entries separated by commas or newlines, each one of
    /// * a SHA-256 fingerprint in hex (any case, `:` separators allowed), matched against
    ///   `certFingerprintSHA256`;
    /// * `dn:<subject DN>`, matched exactly against `certSubjectDN`. A DN holds commas, so a
    ///   `dn:` entry runs to the end of its line.
    const ALLOWLIST_VAR: &'static str = "MTLS_ALLOWED";
    /// Name in logs and the manifest.
    const NAME: &'static str = "Mtls";
}

/// The default [`Mtls`] configuration: allowlist var `MTLS_ALLOWED`.
#[derive(Debug)]
pub struct DefaultMtls;

impl MtlsConfig for DefaultMtls {}

/// A client certificate Cloudflare terminated (API Shield / Access mTLS), read from
/// `request.cf.tlsClientAuth`.
///
/// Cloudflare reports strings, not booleans, and reports a *revoked* certificate as
/// `certVerified: "SUCCESS"`, so both are checked:
///
/// * 401: no `tlsClientAuth`, `certPresented` other than `"1"`, or `certVerified` `"NONE"`.
/// * 403: `certVerified` other than `"SUCCESS"` (e.g. `"FAILED:<reason>"`), `certRevoked` other
///   than `"0"` (missing included), or a certificate not on the allowlist.
/// * 503: the allowlist var is set but holds a malformed entry, or no entry.
///
/// Fingerprints are compared in constant time.
#[derive(Debug)]
pub struct Mtls<C: MtlsConfig = DefaultMtls>(PhantomData<C>);

/// What an [`Mtls`] proves: the client holds the key of this certificate, which the zone's CA
/// issued and has not revoked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MtlsClaims {
    /// `certSubjectDN`.
    pub subject_dn: String,
    /// `certIssuerDN`.
    pub issuer_dn: String,
    /// `certFingerprintSHA256` (lower-case hex, as Cloudflare sends it).
    pub fingerprint_sha256: String,
    /// `certSerial`.
    pub serial: String,
    /// `certNotAfter`.
    pub not_after: String,
}

/// One allowlist entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MtlsAllowed {
    /// A SHA-256 fingerprint, normalized to lower-case hex without separators.
    Fingerprint(String),
    /// A subject DN, matched exactly.
    SubjectDn(String),
}

/// Lower-case hex without `:` separators, or `None` when `s` is not hex.
fn normalize_fingerprint(s: &str) -> Option<String> {
    let out: String = s.chars().filter(|&c| c != ':').map(|c| c.to_ascii_lowercase()).collect();
    (!out.is_empty() && out.bytes().all(|b| b.is_ascii_hexdigit())).then_some(out)
}

/// For the log: a string from the certificate, shortened and without control characters.
fn shown(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(120).collect()
}

impl<C: MtlsConfig> Mtls<C> {
    /// Parses an allowlist (see [`MtlsConfig::ALLOWLIST_VAR`]).
    ///
    /// # Errors
    /// A description when an entry is neither hex nor `dn:…`, or the list is empty.
    pub fn parse_allowlist(list: &str) -> Result<Vec<MtlsAllowed>, String> {
        let mut out = Vec::new();
        for line in list.lines() {
            let mut rest = line.trim();
            while !rest.is_empty() {
                if let Some(dn) = rest.strip_prefix("dn:") {
                    let dn = dn.trim();
                    if dn.is_empty() {
                        return Err(format!("{}: empty dn: entry", C::ALLOWLIST_VAR));
                    }
                    out.push(MtlsAllowed::SubjectDn(dn.to_owned()));
                    break;
                }
                let (entry, tail) = rest.split_once(',').unwrap_or((rest, ""));
                rest = tail.trim_start();
                let entry = entry.trim();
                if entry.is_empty() {
                    continue;
                }
                match normalize_fingerprint(entry) {
                    Some(fp) => out.push(MtlsAllowed::Fingerprint(fp)),
                    None => {
                        return Err(format!(
                            "{}: entry {:?} is neither a hex fingerprint nor dn:…",
                            C::ALLOWLIST_VAR,
                            shown(entry)
                        ))
                    }
                }
            }
        }
        if out.is_empty() {
            return Err(format!("{} is set but lists no certificate", C::ALLOWLIST_VAR));
        }
        Ok(out)
    }

    /// Checks `request.cf.tlsClientAuth` against an optional allowlist (as the var holds it).
    ///
    /// # Errors
    /// The [`Deny`] for the client, as [`Verifier::verify`] would return it.
    pub fn check(tls: Option<&HashMap<String, String>>, allowlist: Option<&str>) -> Result<MtlsClaims, Deny> {
        // Unset: no allowlist. Set — even empty — means a list, and an empty list is a
        // misconfiguration (503), never "any certificate".
        let allowed = match allowlist {
            None => None,
            Some(l) => Some(Self::parse_allowlist(l.trim()).map_err(Deny::unavailable)?),
        };
        let Some(tls) = tls else {
            return Err(Deny::missing("no client certificate (no tlsClientAuth)"));
        };
        let field = |k: &str| tls.get(k).map(String::as_str).unwrap_or("");
        if field("certPresented") != "1" {
            return Err(Deny::missing("no client certificate presented"));
        }
        match field("certVerified") {
            "SUCCESS" => {}
            "NONE" => return Err(Deny::missing("client certificate not verified (NONE)")),
            other => {
                return Err(Deny::invalid(format!("client certificate not verified: {}", shown(other))));
            }
        }
        if field("certRevoked") != "0" {
            return Err(Deny::invalid(format!(
                "client certificate revoked (certRevoked {:?})",
                shown(field("certRevoked"))
            )));
        }
        let claims = MtlsClaims {
            subject_dn: field("certSubjectDN").to_owned(),
            issuer_dn: field("certIssuerDN").to_owned(),
            fingerprint_sha256: field("certFingerprintSHA256").to_owned(),
            serial: field("certSerial").to_owned(),
            not_after: field("certNotAfter").to_owned(),
        };
        if let Some(allowed) = allowed {
            let fp = normalize_fingerprint(&claims.fingerprint_sha256).unwrap_or_default();
            let mut ok = false;
            for entry in &allowed {
                let hit = match entry {
                    MtlsAllowed::Fingerprint(want) => {
                        !fp.is_empty() && constant_time_eq(fp.as_bytes(), want.as_bytes())
                    }
                    MtlsAllowed::SubjectDn(dn) => !claims.subject_dn.is_empty() && *dn == claims.subject_dn,
                };
                ok |= hit;
            }
            if !ok {
                return Err(Deny::invalid(format!(
                    "client certificate {} ({}) is not in {}",
                    shown(&claims.fingerprint_sha256),
                    shown(&claims.subject_dn),
                    C::ALLOWLIST_VAR
                )));
            }
        }
        Ok(claims)
    }
}

impl<C: MtlsConfig> Verifier for Mtls<C> {
    const TLS: bool = true;
    type Claims = MtlsClaims;
    const NAME: &'static str = C::NAME;
    const VARS: &'static [&'static str] = &[C::ALLOWLIST_VAR];

    async fn verify(cx: &VerifyCx<'_>) -> Result<MtlsClaims, Deny> {
        Self::check(cx.tls_client_auth(), cx.var(C::ALLOWLIST_VAR).as_deref())
    }

    fn openapi_security() -> super::Security {
        super::Security::one(super::Scheme::new(
            C::NAME,
            super::SchemeKind::MutualTls,
            format!(
                "A client certificate Cloudflare verified and did not find revoked, allowed by var `{}`.",
                C::ALLOWLIST_VAR
            ),
        ))
    }
}
