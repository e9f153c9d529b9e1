//! The one normalization of email addresses: every place that stores or looks up a subscriber
//! (the blog's subscribe form, `POST /api/subscribers*`, `DELETE /api/subscribers/:email`) and
//! the contact form goes through [`normalize`], so one person is one row.
//!
//! **Decision: the whole address is lower-cased.** RFC 5321 §2.4 lets a mail server treat the
//! local part as case-sensitive, but practically no provider does, and people type their address
//! with whatever capitals autocorrect gave them; keeping the local part's case made
//! `Ada@example.com` and `ada@example.com` two subscribers with two digests. Lower-casing can
//! only merge addresses that some exotic server would keep apart, never split one person.
//! Only ASCII is accepted (internationalized domains in their `xn--` form), so ASCII
//! lower-casing is complete.

/// The longest address accepted (RFC 5321 §4.5.3.1.3: a 256-octet path minus the brackets).
pub const MAX_EMAIL_LEN: usize = 254;

/// The key form of an address that is not validated again: trimmed and lower-cased. For look-ups
/// of rows that may predate the current validation (`DELETE /api/subscribers/:email`); what is
/// stored goes through [`normalize`].
#[must_use]
pub fn canonical(input: &str) -> String {
    input.trim().to_ascii_lowercase()
}

/// Checks an email address and returns it normalized: trimmed and lower-cased as a whole (see
/// the module docs). Accepted: a dot-atom local part of at most 64 characters, `@`, a DNS domain
/// of at least two labels (1–63 of `a-z 0-9 -`, not starting or ending with `-`;
/// internationalized domains in their `xn--` form) whose last label is not all digits; at most
/// [`MAX_EMAIL_LEN`] characters in all. Quoted local parts, comments and IP-literal domains are
/// refused.
#[must_use]
pub fn normalize(input: &str) -> Option<String> {
    let e = canonical(input);
    if e.is_empty() || e.len() > MAX_EMAIL_LEN {
        return None;
    }
    let (local, domain) = e.rsplit_once('@')?;
    let atext = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&b);
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && local.split('.').all(|atom| !atom.is_empty() && atom.bytes().all(atext));
    if !local_ok {
        return None;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let labels_ok = labels.len() >= 2
        && domain.len() <= 253
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
        && !labels.last().is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()));
    labels_ok.then_some(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_person_is_one_address() {
        let forms = [
            "ada.lovelace+news@example.com",
            "Ada.Lovelace+news@Example.COM",
            " ADA.LOVELACE+NEWS@EXAMPLE.COM\t",
            "ada.lovelace+news@example.com\n",
        ];
        for f in forms {
            assert_eq!(normalize(f).as_deref(), Some("ada.lovelace+news@example.com"), "{f:?}");
            assert_eq!(canonical(f), "ada.lovelace+news@example.com", "{f:?}");
        }
        // Idempotent: a stored address normalizes to itself.
        let n = normalize("Writer@Example.com").unwrap();
        assert_eq!(normalize(&n).as_deref(), Some(n.as_str()));
        assert_eq!(normalize("x@XN--BCHER-KVA.example").as_deref(), Some("x@xn--bcher-kva.example"));
    }

    #[test]
    fn invalid_addresses_are_refused() {
        let long_local = format!("{}@example.com", "a".repeat(65));
        let too_long = format!("a@{}.com", "b".repeat(250));
        for bad in [
            "",
            "   ",
            "plain",
            "@example.com",
            "a@",
            "a@localhost",
            "a@example",
            "a@-x.com",
            "a@1.2.3.4",
            "a@[127.0.0.1]",
            "a b@example.com",
            "a@x-.com",
            "a..b@example.com",
            ".a@example.com",
            "a.@example.com",
            "\"q\"@example.com",
            "a@ex ample.com",
            "a@exa_mple.com",
            "a@example..com",
            "a\t@example.com",
            "<a@example.com>",
            "a@exa\nmple.com",
            "a@bücher.example",
            "ä@example.com",
            "a@b@example.com",
            long_local.as_str(),
            too_long.as_str(),
        ] {
            assert_eq!(normalize(bad), None, "{bad:?}");
        }
    }
}
