//! Route patterns as the `#[route]` macro hands them over: already parsed and checked.
//!
//! When several patterns match one path, the most specific one answers, as in matchit and
//! Rocket: reading the segments left to right, the first place where the patterns differ
//! decides — a literal segment beats `:param`, which beats `*` ([`specificity`]). Only two
//! patterns of the same shape (the same literals and parameters in the same places, whatever
//! the parameters are called) are equally specific, and two such routes sharing a method are
//! a conflict. The checks that need the whole app run in `const` context when `app!` expands,
//! so a conflict is a compile error.

pub use layers_spec::method::Method;
pub use layers_spec::pattern::{overlaps, same_shape, specificity, Seg};
pub(crate) use layers_spec::text::{str_eq, str_in};

/// A fixed-capacity string builder usable in `const fn`, for compile-time error messages.
#[derive(Debug)]
pub struct ConstMsg {
    buf: [u8; 1024],
    len: usize,
}

impl ConstMsg {
    /// An empty message.
    #[must_use]
    pub const fn new() -> Self {
        ConstMsg { buf: [0; 1024], len: 0 }
    }

    /// Appends `s`, truncating (on a char boundary) when full.
    #[must_use]
    pub const fn push(mut self, s: &str) -> Self {
        let b = s.as_bytes();
        let mut i = 0;
        while i < b.len() && self.len < self.buf.len() {
            // Never cut a multi-byte char: stop before a lead byte that does not fit.
            let width = if b[i] < 0x80 {
                1
            } else if b[i] >= 0xF0 {
                4
            } else if b[i] >= 0xE0 {
                3
            } else {
                2
            };
            if self.len + width > self.buf.len() {
                break;
            }
            let mut k = 0;
            while k < width {
                self.buf[self.len] = b[i + k];
                self.len += 1;
                k += 1;
            }
            i += width;
        }
        self
    }

    /// The message so far.
    #[must_use]
    pub const fn as_str(&self) -> &str {
        let (head, _) = self.buf.split_at(self.len);
        match core::str::from_utf8(head) {
            Ok(s) => s,
            Err(_) => "(message not UTF-8)",
        }
    }
}

impl Default for ConstMsg {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn const_msg_truncates_on_char_boundary() {
        let long = "é".repeat(600);
        let m = ConstMsg::new().push("x").push(&long);
        assert!(m.as_str().len() <= 1024);
        assert!(m.as_str().starts_with("xé"));
        assert_eq!(ConstMsg::new().push("a").push("b").as_str(), "ab");
    }
}
