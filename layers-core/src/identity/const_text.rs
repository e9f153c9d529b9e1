//! Text and lists put together at compile time: the names of composed verifiers, the lists of
//! secrets and token configurations they join.

/// A name built at compile time from the names of composed verifiers (at most
/// [`ConstName::CAP`] bytes; longer names are cut at a character boundary).
pub(crate) struct ConstName {
    buf: [u8; ConstName::CAP],
    len: usize,
}

impl ConstName {
    const CAP: usize = 160;

    pub(crate) const fn join(parts: &[&str]) -> ConstName {
        let mut buf = [0u8; ConstName::CAP];
        let mut len = 0;
        let mut i = 0;
        while i < parts.len() {
            let b = parts[i].as_bytes();
            let mut j = 0;
            while j < b.len() && len < ConstName::CAP {
                buf[len] = b[j];
                len += 1;
                j += 1;
            }
            i += 1;
        }
        ConstName { buf, len }
    }

    pub(crate) const fn as_str(&'static self) -> &'static str {
        let (head, _) = self.buf.split_at(self.len);
        match std::str::from_utf8(head) {
            Ok(s) => s,
            Err(e) => {
                let (valid, _) = head.split_at(e.valid_up_to());
                match std::str::from_utf8(valid) {
                    Ok(s) => s,
                    Err(_) => "?",
                }
            }
        }
    }
}

/// Two lists of names joined at compile time (the secrets of a composed verifier), each name
/// once, at most [`ConstNames::CAP`] of them: more is a compile-time error.
pub(crate) struct ConstNames {
    names: [&'static str; ConstNames::CAP],
    len: usize,
}

impl ConstNames {
    const CAP: usize = 32;

    pub(crate) const fn join(a: &[&'static str], b: &[&'static str]) -> ConstNames {
        let mut names = [""; ConstNames::CAP];
        let mut len = 0;
        let lists = [a, b];
        let mut l = 0;
        while l < lists.len() {
            let list = lists[l];
            let mut i = 0;
            while i < list.len() {
                if !crate::request::pattern::str_in(list[i], names.split_at(len).0) {
                    assert!(
                        len < ConstNames::CAP,
                        "a composed verifier lists more than 32 secrets or token configurations"
                    );
                    names[len] = list[i];
                    len += 1;
                }
                i += 1;
            }
            l += 1;
        }
        ConstNames { names, len }
    }

    pub(crate) const fn as_slice(&'static self) -> &'static [&'static str] {
        self.names.split_at(self.len).0
    }
}

/// A key made at compile time from parts (a token configuration's secret, purpose, name and
/// source), at most [`ConstKey::CAP`] bytes: a longer one is a compile-time error, never cut.
pub(crate) struct ConstKey {
    buf: [u8; ConstKey::CAP],
    len: usize,
}

impl ConstKey {
    const CAP: usize = 512;

    pub(crate) const fn join(parts: &[&str]) -> ConstKey {
        let mut buf = [0u8; ConstKey::CAP];
        let mut len = 0;
        let mut i = 0;
        while i < parts.len() {
            let b = parts[i].as_bytes();
            let mut j = 0;
            while j < b.len() {
                assert!(len < ConstKey::CAP, "a token configuration's secret, purpose and name pass 512 bytes");
                buf[len] = b[j];
                len += 1;
                j += 1;
            }
            i += 1;
        }
        ConstKey { buf, len }
    }

    pub(crate) const fn as_str(&'static self) -> &'static str {
        match std::str::from_utf8(self.buf.split_at(self.len).0) {
            Ok(s) => s,
            // Parts are `&str`s joined whole: always UTF-8.
            Err(_) => "",
        }
    }
}
