//! The HTTP methods a route declares.

/// The HTTP methods a route can declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// `GET` (also answers `HEAD`, without a body, unless a `HEAD` route of that shape exists).
    Get,
    /// `HEAD`
    Head,
    /// `POST`
    Post,
    /// `PUT`
    Put,
    /// `PATCH`
    Patch,
    /// `DELETE`
    Delete,
    /// `OPTIONS`
    Options,
    /// Any method.
    Any,
}

impl Method {
    /// Every concrete method, in the order used for `Allow` headers.
    pub const CONCRETE: [Method; 7] =
        [Method::Get, Method::Head, Method::Post, Method::Put, Method::Patch, Method::Delete, Method::Options];

    /// Every method a route can declare, `ANY` last.
    pub const ALL: [Method; 8] = [
        Method::Get,
        Method::Head,
        Method::Post,
        Method::Put,
        Method::Patch,
        Method::Delete,
        Method::Options,
        Method::Any,
    ];

    /// The method's name as written in the attribute.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Options => "OPTIONS",
            Method::Any => "ANY",
        }
    }

    /// The variant's name (`Get`, `Any`…), as code names it.
    #[must_use]
    pub const fn variant(self) -> &'static str {
        match self {
            Method::Get => "Get",
            Method::Head => "Head",
            Method::Post => "Post",
            Method::Put => "Put",
            Method::Patch => "Patch",
            Method::Delete => "Delete",
            Method::Options => "Options",
            Method::Any => "Any",
        }
    }

    /// The method an attribute names (`GET`…`ANY`, in capitals). `None` for anything else.
    #[must_use]
    pub fn from_attr(m: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|x| x.as_str() == m)
    }

    /// Parses a request method (case-sensitive, as HTTP methods are). `None` for other
    /// methods, `ANY` included (no request is sent with it).
    #[must_use]
    pub fn from_request(m: &str) -> Option<Method> {
        Method::CONCRETE.into_iter().find(|x| x.as_str() == m)
    }

    const fn index(self) -> usize {
        self as usize
    }

    /// Whether a route declared with `self` and one declared with `other` answer a common method.
    #[must_use]
    pub const fn shares_with(self, other: Method) -> bool {
        matches!(self, Method::Any) || matches!(other, Method::Any) || self.index() == other.index()
    }

    /// Whether a request could be answered by either route: they share a method, or one is
    /// `GET` and the other `HEAD` (a `GET` route answers `HEAD` too).
    #[must_use]
    pub const fn competes_with(self, other: Method) -> bool {
        self.shares_with(other) || matches!((self, other), (Method::Get, Method::Head) | (Method::Head, Method::Get))
    }
}

#[cfg(test)]
mod tests {
    use super::Method;

    #[test]
    fn methods_share() {
        assert!(Method::Any.shares_with(Method::Post));
        assert!(Method::Get.shares_with(Method::Get));
        assert!(!Method::Get.shares_with(Method::Post));
        assert!(!Method::Get.shares_with(Method::Head));
        assert!(Method::Get.competes_with(Method::Head) && Method::Head.competes_with(Method::Get));
        assert!(Method::Any.competes_with(Method::Delete));
        assert!(!Method::Post.competes_with(Method::Put));
    }

    #[test]
    fn names() {
        for m in Method::ALL {
            assert_eq!(Method::from_attr(m.as_str()), Some(m));
            assert_eq!(m.variant().to_ascii_uppercase(), m.as_str());
        }
        assert_eq!(Method::from_request("GET"), Some(Method::Get));
        assert_eq!(Method::from_request("ANY"), None);
        assert_eq!(Method::from_request("get"), None);
        assert_eq!(Method::from_attr("PROPFIND"), None);
    }
}
