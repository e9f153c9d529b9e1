//! `const` string helpers, and the name hash that keys a binding's name in a type
//! (`BindingOf<{ name_hash("RATE_LIMITER") }>`).

/// Whether `a` and `b` are the same bytes, usable in `const fn`.
#[must_use]
pub const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Whether `s` is one of `list` (byte for byte), usable in `const fn`.
#[must_use]
pub const fn str_in(s: &str, list: &[&str]) -> bool {
    let mut i = 0;
    while i < list.len() {
        if str_eq(list[i], s) {
            return true;
        }
        i += 1;
    }
    false
}

/// FNV-1a (64 bits) of `name`: how the macros and the runtime key a queue or Durable Object
/// binding's name in a type, so that two places naming one binding meet in one impl.
#[must_use]
pub const fn name_hash(name: &str) -> u64 {
    let b = name.as_bytes();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < b.len() {
        h ^= b[i] as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    h
}

/// Whether `s` is an identifier as parameter and binding names are written: a letter or `_`,
/// then letters, digits or `_` (ASCII).
#[must_use]
pub const fn is_ident(s: &str) -> bool {
    let b = s.as_bytes();
    if b.is_empty() || !(b[0].is_ascii_alphabetic() || b[0] == b'_') {
        return false;
    }
    let mut i = 1;
    while i < b.len() {
        if !(b[i].is_ascii_alphanumeric() || b[i] == b'_') {
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_reference_values() {
        // The published FNV-1a 64 test vectors.
        assert_eq!(name_hash(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(name_hash("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(name_hash("foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn identifiers_and_equality() {
        for ok in ["a", "_", "slug", "_x1", "RATE_LIMITER"] {
            assert!(is_ident(ok), "{ok}");
        }
        for bad in ["", "1x", "a-b", "é", "a b", ":a"] {
            assert!(!is_ident(bad), "{bad}");
        }
        assert!(str_eq("ab", "ab") && !str_eq("ab", "abc") && !str_eq("ab", "aB"));
        assert!(str_in("b", &["a", "b"]) && !str_in("c", &["a", "b"]));
    }
}
