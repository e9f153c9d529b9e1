//! The runtime router: one [`matchit`] tree per method, built once per isolate.
//!
//! `app!` has already proven at compile time that no two routes sharing a method can
//! match the same path, so matchit's static-over-dynamic priority never decides between
//! two candidate handlers: at most one route per method matches any path.

use super::pattern::{Method, Seg};

/// The outcome of routing one normalized path and method.
#[derive(Debug, PartialEq, Eq)]
pub enum Routed {
    /// Route `index` answers; `params` in the pattern's order, `rest` for a trailing `*`.
    /// `head_from_get` is set when a `HEAD` request is answered by a `GET` route.
    Found {
        /// Index of the route in the app's route list.
        index: usize,
        /// `:name` values, in pattern order.
        params: Vec<String>,
        /// What a trailing `*` matched, if the pattern has one.
        rest: Option<String>,
        /// A `HEAD` answered by the `GET` route (the body is dropped).
        head_from_get: bool,
    },
    /// The path exists for other methods: answer 405 with this `Allow` list.
    MethodNotAllowed(Vec<&'static str>),
    /// No route matches the path.
    NotFound,
}

/// Routes requests to indices of the route list it was built from.
#[derive(Debug)]
pub struct Router {
    // Index = Method as usize for the seven concrete methods; [7] holds ANY routes only,
    // for methods we have no name for.
    trees: Vec<matchit::Router<usize>>,
}

fn to_matchit(segments: &[Seg]) -> String {
    if segments.is_empty() {
        return "/".to_owned();
    }
    let mut s = String::new();
    let mut p = 0;
    for seg in segments {
        s.push('/');
        match seg {
            Seg::Lit(l) => {
                for c in l.chars() {
                    match c {
                        '{' => s.push_str("{{"),
                        '}' => s.push_str("}}"),
                        c => s.push(c),
                    }
                }
            }
            // Positional names: the pattern's own names live in the route's metadata.
            Seg::Param(_) => {
                s.push_str(&format!("{{p{p}}}"));
                p += 1;
            }
            Seg::Rest => s.push_str("{*rest}"),
        }
    }
    s
}

impl Router {
    /// Builds the router from `(method, segments)` pairs, in route-list order.
    ///
    /// # Errors
    /// Returns a description of the first pattern matchit refuses (cannot happen for routes
    /// that passed `app!`'s compile-time conflict check).
    pub fn new<'a>(routes: impl IntoIterator<Item = (Method, &'a [Seg])>) -> Result<Router, String> {
        let mut trees: Vec<matchit::Router<usize>> = (0..8).map(|_| matchit::Router::new()).collect();
        for (index, (method, segs)) in routes.into_iter().enumerate() {
            let path = to_matchit(segs);
            let targets: Vec<usize> = match method {
                Method::Any => (0..8).collect(),
                m => vec![m as usize],
            };
            for t in targets {
                trees[t].insert(path.clone(), index).map_err(|e| format!("route {} {path}: {e}", method.as_str()))?;
            }
        }
        Ok(Router { trees })
    }

    fn lookup(&self, tree: usize, path: &str) -> Option<(usize, Vec<String>, Option<String>)> {
        let m = self.trees[tree].at(path).ok()?;
        let mut params = Vec::new();
        let mut rest = None;
        for (k, v) in m.params.iter() {
            if k == "rest" {
                rest = Some(v.to_owned());
            } else {
                params.push(v.to_owned());
            }
        }
        Some((*m.value, params, rest))
    }

    /// Routes a normalized path for the request method `method` (`None` = a method layers
    /// has no name for, which only `ANY` routes answer).
    #[must_use]
    pub fn route(&self, method: Option<Method>, path: &str) -> Routed {
        let tree = method.map_or(7, |m| m as usize);
        if let Some((index, params, rest)) = self.lookup(tree, path) {
            return Routed::Found { index, params, rest, head_from_get: false };
        }
        if method == Some(Method::Head) {
            if let Some((index, params, rest)) = self.lookup(Method::Get as usize, path) {
                return Routed::Found { index, params, rest, head_from_get: true };
            }
        }
        let mut allow = Vec::new();
        for m in Method::CONCRETE {
            let found = self.lookup(m as usize, path).is_some()
                || (m == Method::Head && self.lookup(Method::Get as usize, path).is_some());
            if found {
                allow.push(m.as_str());
            }
        }
        if allow.is_empty() {
            Routed::NotFound
        } else {
            Routed::MethodNotAllowed(allow)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Seg::*;
    use super::*;

    fn app() -> Router {
        let routes: Vec<(Method, &[Seg])> = vec![
            (Method::Get, &[]),
            (Method::Get, &[Lit("blog"), Param("slug")]),
            (Method::Post, &[Lit("blog"), Lit("new")]),
            (Method::Any, &[Lit("admin"), Rest]),
            (Method::Delete, &[Lit("x{y}")]),
            (Method::Get, &[Lit("a"), Param("b"), Lit("c"), Param("d")]),
        ];
        Router::new(routes).unwrap()
    }

    fn found(r: Routed) -> (usize, Vec<String>, Option<String>, bool) {
        match r {
            Routed::Found { index, params, rest, head_from_get } => (index, params, rest, head_from_get),
            other => panic!("not found: {other:?}"),
        }
    }

    #[test]
    fn routes_by_method_and_path() {
        let r = app();
        assert_eq!(found(r.route(Some(Method::Get), "/")).0, 0);
        assert_eq!(found(r.route(Some(Method::Get), "/blog/hi")), (1, vec!["hi".into()], None, false));
        assert_eq!(found(r.route(Some(Method::Post), "/blog/new")).0, 2);
        // GET /blog/new is the :slug route; POST /blog/new the literal one: no shadowing across methods.
        assert_eq!(found(r.route(Some(Method::Get), "/blog/new")).0, 1);
        assert_eq!(found(r.route(Some(Method::Put), "/admin/a/b")), (3, vec![], Some("a/b".into()), false));
        assert_eq!(found(r.route(None, "/admin/z")).0, 3);
        assert_eq!(found(r.route(Some(Method::Delete), "/x{y}")).0, 4);
        assert_eq!(found(r.route(Some(Method::Get), "/a/1/c/2")).1, vec!["1".to_string(), "2".to_string()]);
    }

    #[test]
    fn head_falls_back_to_get() {
        let r = app();
        assert_eq!(found(r.route(Some(Method::Head), "/blog/x")), (1, vec!["x".into()], None, true));
    }

    #[test]
    fn not_found_and_405() {
        let r = app();
        assert_eq!(r.route(Some(Method::Get), "/nope"), Routed::NotFound);
        assert_eq!(r.route(Some(Method::Get), "/admin"), Routed::NotFound);
        assert_eq!(r.route(Some(Method::Get), "/blog"), Routed::NotFound);
        assert_eq!(r.route(Some(Method::Post), "/"), Routed::MethodNotAllowed(vec!["GET", "HEAD"]));
        assert_eq!(r.route(Some(Method::Put), "/blog/new"), Routed::MethodNotAllowed(vec!["GET", "HEAD", "POST"]));
        // Case matters: `/BLOG/x` is another path.
        assert_eq!(r.route(Some(Method::Get), "/BLOG/x"), Routed::NotFound);
    }
}
