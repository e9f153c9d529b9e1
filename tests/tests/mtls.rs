//! Native tests of the `Mtls` verifier over `request.cf.tlsClientAuth` as Workers report it:
//! strings, revoked certificates reading `SUCCESS`, placeholder objects.

use std::collections::HashMap;

use futures::executor::block_on;
use layers_core::identity::{
    DefaultMtls, Deny, DenyKind, Mtls, MtlsAllowed, MtlsClaims, MtlsConfig, Verifier, VerifyCx,
};

const FP: &str = "af363dc85bc942a892d3cee9796190fdb36d89cd588a4f1cb17c74a943439714";
const SUBJECT: &str = "CN=device-42, OU=sensors, O=Example Ltd, C=GB";
const ISSUER: &str = "CN=Example Devices CA, O=Example Ltd, C=GB";

/// A verified, unrevoked certificate, with `changes` applied (`None` removes the field).
fn tls(changes: &[(&str, Option<&str>)]) -> HashMap<String, String> {
    let mut m: HashMap<String, String> = [
        ("certPresented", "1"),
        ("certVerified", "SUCCESS"),
        ("certRevoked", "0"),
        ("certSubjectDN", SUBJECT),
        ("certIssuerDN", ISSUER),
        ("certSubjectDNRFC2253", "C=GB,O=Example Ltd,OU=sensors,CN=device-42"),
        ("certFingerprintSHA256", FP),
        ("certFingerprintSHA1", "933ad5282c560ae3f482a43ecd73bc9de878a190"),
        ("certSerial", "5A1B2C3D4E5F"),
        ("certNotBefore", "Jan  1 00:00:00 2026 GMT"),
        ("certNotAfter", "Jan  1 00:00:00 2027 GMT"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    for (k, v) in changes {
        match v {
            Some(v) => m.insert((*k).to_owned(), (*v).to_owned()),
            None => m.remove(*k),
        };
    }
    m
}

/// The placeholder object Workers report when no certificate was presented.
fn placeholder() -> HashMap<String, String> {
    let mut m = tls(&[("certPresented", Some("0")), ("certVerified", Some("NONE")), ("certRevoked", Some("0"))]);
    for k in ["certSubjectDN", "certIssuerDN", "certFingerprintSHA256", "certSerial", "certNotAfter"] {
        m.insert(k.to_owned(), String::new());
    }
    m
}

fn run<C: MtlsConfig>(fields: Option<HashMap<String, String>>, allow: Option<&str>) -> Result<MtlsClaims, Deny> {
    let allow = allow.map(str::to_owned);
    let mut b = VerifyCx::builder().vars(move |n| if n == "MTLS_ALLOWED" { allow.clone() } else { None });
    if let Some(f) = fields {
        b = b.tls_client_auth(f);
    }
    let cx = b.build();
    block_on(Mtls::<C>::verify(&cx))
}

fn mtls(fields: Option<HashMap<String, String>>, allow: Option<&str>) -> Result<MtlsClaims, Deny> {
    run::<DefaultMtls>(fields, allow)
}

// A certificate lives in the TLS handshake: the body is left to the handler.
const _: () = assert!(!<Mtls as Verifier>::BODY);

fn kind(r: Result<MtlsClaims, Deny>) -> DenyKind {
    r.expect_err("expected a denial").kind()
}

#[test]
fn verified_unrevoked_certificate_passes_with_its_claims() {
    let c = mtls(Some(tls(&[])), None).unwrap();
    assert_eq!(
        c,
        MtlsClaims {
            subject_dn: SUBJECT.into(),
            issuer_dn: ISSUER.into(),
            fingerprint_sha256: FP.into(),
            serial: "5A1B2C3D4E5F".into(),
            not_after: "Jan  1 00:00:00 2027 GMT".into(),
        }
    );
}

#[test]
fn revoked_certificates_read_success_and_are_refused() {
    assert_eq!(kind(mtls(Some(tls(&[("certRevoked", Some("1"))])), None)), DenyKind::Invalid);
    // Anything but the string "0" counts as not cleared.
    for revoked in [None, Some(""), Some("false"), Some("00"), Some(" 0"), Some("true")] {
        assert_eq!(kind(mtls(Some(tls(&[("certRevoked", revoked)])), None)), DenyKind::Invalid, "{revoked:?}");
    }
}

#[test]
fn failed_verification_is_403() {
    for verified in [
        Some("FAILED:unable to get local issuer certificate"),
        Some("FAILED:certificate has expired"),
        Some("FAILED:"),
        Some("success"),
        Some("SUCCESS "),
        Some("true"),
        Some(""),
        None,
    ] {
        let d = mtls(Some(tls(&[("certVerified", verified)])), None).unwrap_err();
        assert_eq!(d.kind(), DenyKind::Invalid, "{verified:?}");
    }
    // The reason is logged, without control characters.
    let d = mtls(Some(tls(&[("certVerified", Some("FAILED:bad\n{\"forged\":1}"))])), None).unwrap_err();
    assert!(d.detail().contains("FAILED:bad") && !d.detail().contains('\n'), "{}", d.detail());
}

#[test]
fn no_certificate_is_401() {
    assert_eq!(kind(mtls(None, None)), DenyKind::Missing);
    assert_eq!(kind(mtls(Some(HashMap::new()), None)), DenyKind::Missing);
    assert_eq!(kind(mtls(Some(placeholder()), None)), DenyKind::Missing);
    // certVerified NONE means nothing was verified, whatever certPresented says.
    assert_eq!(kind(mtls(Some(tls(&[("certVerified", Some("NONE"))])), None)), DenyKind::Missing);
    for presented in [None, Some("0"), Some(""), Some("true"), Some("01")] {
        assert_eq!(kind(mtls(Some(tls(&[("certPresented", presented)])), None)), DenyKind::Missing, "{presented:?}");
    }
    // A placeholder with an allowlist set is still 401, not 403.
    assert_eq!(kind(mtls(Some(placeholder()), Some(FP))), DenyKind::Missing);
}

#[test]
fn fingerprint_allowlist_any_case_and_separators() {
    let colons: String =
        FP.as_bytes().chunks(2).map(|c| std::str::from_utf8(c).unwrap().to_uppercase()).collect::<Vec<_>>().join(":");
    for allow in [
        FP.to_owned(),
        FP.to_uppercase(),
        colons.clone(),
        colons.to_lowercase(),
        format!("0000000000000000000000000000000000000000000000000000000000000000,{FP}"),
        format!(" {colons} , deadbeef\n"),
        format!("dn:CN=someone else\n{FP}"),
    ] {
        mtls(Some(tls(&[])), Some(&allow)).unwrap_or_else(|e| panic!("{allow:?}: {e:?}"));
    }
    // Cloudflare's own value in upper case or with colons still matches a lower-case entry.
    mtls(Some(tls(&[("certFingerprintSHA256", Some(&colons))])), Some(FP)).unwrap();
}

#[test]
fn dn_allowlist_is_exact() {
    mtls(Some(tls(&[])), Some(&format!("dn:{SUBJECT}"))).unwrap();
    mtls(Some(tls(&[])), Some(&format!("dn: {SUBJECT} "))).unwrap();
    mtls(Some(tls(&[])), Some(&format!("{}\ndn:{SUBJECT}\n", "11".repeat(32)))).unwrap();
    mtls(Some(tls(&[])), Some(&format!("{}, dn:{SUBJECT}", "11".repeat(32)))).unwrap();
    for allow in [
        "dn:CN=device-42".to_owned(),
        format!("dn:{}", SUBJECT.to_lowercase()),
        format!("dn:{SUBJECT}, extra"),
        "dn:C=GB,O=Example Ltd,OU=sensors,CN=device-42".to_owned(), // the RFC 2253 form is another field
        format!("dn:{ISSUER}"),
    ] {
        assert_eq!(kind(mtls(Some(tls(&[])), Some(&allow))), DenyKind::Invalid, "{allow:?}");
    }
}

#[test]
fn certificates_not_on_the_allowlist_are_403() {
    let other = "00".repeat(32);
    for allow in [other.clone(), format!("{other}\ndn:CN=other"), FP[..62].to_owned(), format!("{FP}00")] {
        assert_eq!(kind(mtls(Some(tls(&[])), Some(&allow))), DenyKind::Invalid, "{allow:?}");
    }
    // A certificate without a fingerprint or subject matches nothing.
    let bare = tls(&[("certFingerprintSHA256", Some("")), ("certSubjectDN", Some(""))]);
    assert_eq!(kind(mtls(Some(bare.clone()), Some(&other))), DenyKind::Invalid);
    assert_eq!(kind(mtls(Some(bare), Some("dn:CN=x"))), DenyKind::Invalid);
    // Allowlisting never rescues a revoked or unverified certificate.
    assert_eq!(kind(mtls(Some(tls(&[("certRevoked", Some("1"))])), Some(FP))), DenyKind::Invalid);
    assert_eq!(kind(mtls(Some(tls(&[("certVerified", Some("FAILED:x"))])), Some(FP))), DenyKind::Invalid);
}

#[test]
fn malformed_allowlists_fail_closed() {
    for allow in [",", " , \n ,", "not-hex", "dn:", &format!("{FP}, zz"), "sha256:abcd"] {
        assert_eq!(kind(mtls(Some(tls(&[])), Some(allow))), DenyKind::Unavailable, "{allow:?}");
    }
    // Set but blank is a misconfiguration, not "any certificate"; only unset means no list.
    assert_eq!(kind(mtls(Some(tls(&[])), Some(""))), DenyKind::Unavailable);
    assert_eq!(kind(mtls(Some(tls(&[])), Some("  \n"))), DenyKind::Unavailable);
    mtls(Some(tls(&[])), None).unwrap();
    assert_eq!(
        Mtls::<DefaultMtls>::parse_allowlist(&format!("{}\ndn:CN=a, O=b", FP.to_uppercase())).unwrap(),
        vec![MtlsAllowed::Fingerprint(FP.into()), MtlsAllowed::SubjectDn("CN=a, O=b".into())]
    );
}

struct Devices;
impl MtlsConfig for Devices {
    const ALLOWLIST_VAR: &'static str = "DEVICE_CERTS";
    const NAME: &'static str = "DeviceCert";
}

#[test]
fn allowlist_var_is_configurable() {
    assert_eq!(<Mtls<Devices> as Verifier>::NAME, "DeviceCert");
    // The default var name is not consulted by this configuration.
    run::<Devices>(Some(tls(&[])), Some(&"00".repeat(32))).unwrap();
    let cx =
        VerifyCx::builder().vars(|n| (n == "DEVICE_CERTS").then(|| "00".repeat(32))).tls_client_auth(tls(&[])).build();
    assert_eq!(block_on(Mtls::<Devices>::verify(&cx)).unwrap_err().kind(), DenyKind::Invalid);
}

#[test]
fn only_certificate_verifiers_make_the_framework_read_request_cf() {
    use layers_core::identity::{AnyOf, ApiKey, Public};
    // Dispatch reads `request.cf.tlsClientAuth` only for a verifier with `TLS`; it must reach
    // through composition, or an mTLS route behind `AnyOf` would see no certificate (and deny).
    // Checked at compile time: a wrong flag fails the build of this test.
    const { assert!(<Mtls<DefaultMtls> as Verifier>::TLS && <Mtls<Devices> as Verifier>::TLS) };
    const { assert!(<AnyOf<ApiKey, Mtls<Devices>> as Verifier>::TLS) };
    const { assert!(<AnyOf<Mtls<Devices>, ApiKey> as Verifier>::TLS) };
    const { assert!(!<Public as Verifier>::TLS && !<ApiKey as Verifier>::TLS) };
    const { assert!(!<AnyOf<ApiKey, Public> as Verifier>::TLS) };
    // Without the fields (what a verifier that forgot `TLS` sees), Mtls refuses.
    let cx = VerifyCx::builder().vars(|_| Some(FP.to_owned())).build();
    assert!(block_on(Mtls::<DefaultMtls>::verify(&cx)).is_err());
}
