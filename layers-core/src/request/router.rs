//! The runtime router: one segment trie per method, built once per isolate.
//!
//! When several routes match a path, the most specific one answers, as in matchit: the
//! trie tries a literal segment before `:param` and `:param` before a trailing `*`,
//! backtracking when a branch dead-ends, which picks the greatest pattern in
//! [`specificity`](super::pattern::specificity) order among those that match.
//! `tests/tests/router_matchit.rs` checks this against matchit itself. `app!` has proven at
//! compile time that no two routes sharing a method have the same shape, so the answer is
//! never a tie, and that a route taking paths from a less specific one with another identity
//! says so (`shadows(…)`).
//!
//! Unlike matchit, a trailing `*` also matches nothing after its `/`: `/admin/*` answers
//! `/admin/` (with an empty rest), and `/*` answers `/`.
//!
//! A `HEAD` request is answered by the most specific `HEAD`, `ANY` or `GET` route (a `GET`
//! route answers it without a body); between a `HEAD` and a `GET` route of the same shape,
//! the `HEAD` route answers.
//!
//! A lookup allocates nothing: parameters are slices of the routed path, and the `Allow`
//! list of a 405 is a bit set of methods.

use std::fmt;

use super::pattern::{Method, Seg};

/// Parameters captured inline while matching; a route with more re-reads the path.
const INLINE: usize = 4;

/// The outcome of routing one normalized path and method. Parameters borrow the path.
#[derive(Debug, PartialEq, Eq)]
pub enum Routed<'a> {
    /// Route `index` answers; `params` in the pattern's order, `rest` for a trailing `*`.
    /// `head_from_get` is set when a `HEAD` request is answered by a `GET` route.
    Found {
        /// Index of the route in the app's route list.
        index: usize,
        /// `:name` values, in pattern order.
        params: Params<'a>,
        /// What a trailing `*` matched, if the pattern has one.
        rest: Option<&'a str>,
        /// A `HEAD` answered by the `GET` route (the body is dropped).
        head_from_get: bool,
    },
    /// The path exists for other methods: answer 405 with this `Allow` list.
    MethodNotAllowed(Allow),
    /// No route matches the path.
    NotFound,
}

/// The `:name` values of a match, in pattern order, borrowed from the routed path.
#[derive(Clone, Copy)]
pub struct Params<'a> {
    inline: [&'a str; INLINE],
    path: &'a str,
    /// Indices (among the path's `/`-separated segments) of the pattern's parameters.
    positions: &'a [u16],
}

impl<'a> Params<'a> {
    /// How many parameters the pattern has.
    #[must_use]
    pub fn len(&self) -> usize {
        self.positions.len()
    }

    /// Whether the pattern has no parameters.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }

    /// The `i`-th parameter value.
    #[must_use]
    pub fn get(&self, i: usize) -> Option<&'a str> {
        if self.len() <= INLINE {
            self.inline[..self.len()].get(i).copied()
        } else {
            self.iter().nth(i)
        }
    }

    /// The values, in pattern order.
    #[must_use]
    pub fn iter(&self) -> ParamsIter<'a> {
        if self.len() <= INLINE {
            let inline = self.inline;
            ParamsIter(Iter::Inline { inline, at: 0, len: self.len() })
        } else {
            // `path` starts with `/`; segment 0 is what follows it.
            let segs = self.path.get(1..).unwrap_or("").split('/');
            ParamsIter(Iter::Walk { segs, seg: 0, positions: self.positions.iter() })
        }
    }
}

impl fmt::Debug for Params<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl PartialEq for Params<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for Params<'_> {}

impl<'a> IntoIterator for Params<'a> {
    type Item = &'a str;
    type IntoIter = ParamsIter<'a>;
    fn into_iter(self) -> ParamsIter<'a> {
        self.iter()
    }
}

/// Iterator over [`Params`].
#[derive(Debug, Clone)]
pub struct ParamsIter<'a>(Iter<'a>);

#[derive(Debug, Clone)]
enum Iter<'a> {
    Inline { inline: [&'a str; INLINE], at: usize, len: usize },
    Walk { segs: std::str::Split<'a, char>, seg: usize, positions: std::slice::Iter<'a, u16> },
}

impl<'a> Iterator for ParamsIter<'a> {
    type Item = &'a str;
    fn next(&mut self) -> Option<&'a str> {
        match &mut self.0 {
            Iter::Inline { inline, at, len } => {
                let v = inline[..*len].get(*at).copied();
                *at += 1;
                v
            }
            Iter::Walk { segs, seg, positions } => {
                let want = usize::from(*positions.next()?);
                loop {
                    let s = segs.next()?;
                    *seg += 1;
                    if *seg - 1 == want {
                        return Some(s);
                    }
                }
            }
        }
    }
}

/// The methods a path answers, for a 405's `Allow` header (`Display` joins them with `, `).
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct Allow(u8);

impl Allow {
    /// Whether no method answers.
    #[must_use]
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether `m` answers.
    #[must_use]
    pub fn contains(self, m: Method) -> bool {
        self.0 & (1 << (m as u8)) != 0
    }

    /// The method names, in [`Method::CONCRETE`] order.
    pub fn iter(self) -> impl Iterator<Item = &'static str> {
        Method::CONCRETE.into_iter().filter(move |m| self.contains(*m)).map(Method::as_str)
    }
}

impl fmt::Display for Allow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, m) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(m)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Allow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// One trie node: the routes whose pattern reaches it, and its children by next segment.
#[derive(Debug, Default)]
struct Node {
    /// `key(lit)` of each literal child, scanned before comparing strings.
    keys: Vec<u32>,
    lits: Vec<Box<str>>,
    statics: Vec<Node>,
    param: Option<Box<Node>>,
    /// A route ending in `*` here: it takes whatever remains, possibly nothing.
    rest: Option<Slot>,
    /// A route ending exactly here.
    value: Option<Slot>,
}

/// A route in a trie: its index, and whether it is a `GET` route placed in the `HEAD` trie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Slot {
    index: usize,
    head_from_get: bool,
}

/// Length and first byte of a segment: cheap to compare, rarely shared by two siblings.
#[inline]
fn key(s: &str) -> u32 {
    match s.as_bytes().first() {
        None => 0,
        #[allow(clippy::cast_possible_truncation)]
        Some(&b) => ((s.len() as u32) << 8) | u32::from(b),
    }
}

type Hit<'a> = (Slot, Option<&'a str>);

impl Node {
    /// Matches `rem` (the path after a `/`) below this node.
    fn walk<'a>(&'a self, rem: &'a str, caps: &mut [&'a str; INLINE], n: usize) -> Option<Hit<'a>> {
        // A byte loop: segments are short, where a `memchr` call costs more than it saves.
        let (seg, next) = match rem.bytes().position(|b| b == b'/') {
            Some(i) => (&rem[..i], Some(&rem[i + 1..])),
            None => (rem, None),
        };
        let k = key(seg);
        for (i, &kk) in self.keys.iter().enumerate() {
            if kk == k && *self.lits[i] == *seg {
                if let Some(hit) = self.statics[i].finish(next, caps, n) {
                    return Some(hit);
                }
                break;
            }
        }
        if !seg.is_empty() {
            if let Some(p) = &self.param {
                if let Some(c) = caps.get_mut(n) {
                    *c = seg;
                }
                if let Some(hit) = p.finish(next, caps, n + 1) {
                    return Some(hit);
                }
            }
        }
        self.rest.map(|slot| (slot, Some(rem)))
    }

    #[inline]
    fn finish<'a>(&'a self, next: Option<&'a str>, caps: &mut [&'a str; INLINE], n: usize) -> Option<Hit<'a>> {
        match next {
            None => self.value.map(|slot| (slot, None)),
            Some(rem) => self.walk(rem, caps, n),
        }
    }

    /// The slot a flattened pattern ends in below this node (`rest` for a trailing `*`),
    /// creating the nodes on the way.
    fn slot<'n>(mut node: &'n mut Node, flat: &[Seg]) -> &'n mut Option<Slot> {
        for seg in flat {
            match seg {
                Seg::Lit(l) => node = node.child(l),
                Seg::Param(_) => node = node.param.get_or_insert_with(Box::default),
                Seg::Rest => {}
            }
        }
        if flat.last() == Some(&Seg::Rest) {
            &mut node.rest
        } else {
            &mut node.value
        }
    }

    fn child(&mut self, lit: &str) -> &mut Node {
        let i = match self.lits.iter().position(|l| **l == *lit) {
            Some(i) => i,
            None => {
                self.keys.push(key(lit));
                self.lits.push(lit.into());
                self.statics.push(Node::default());
                self.lits.len() - 1
            }
        };
        &mut self.statics[i]
    }
}

/// Routes requests to indices of the route list it was built from.
#[derive(Debug)]
pub struct Router {
    // Index = Method as usize for the seven concrete methods; [7] holds ANY routes only,
    // for methods we have no name for.
    trees: [Node; 8],
    /// Per route: the segment indices of its parameters.
    positions: Vec<Box<[u16]>>,
}

/// A pattern as path segments (a literal holding `/` spans several; `/` alone is none),
/// with the segment index of each parameter.
fn flatten<'s>(segments: &[Seg<'s>]) -> Result<(Vec<Seg<'s>>, Box<[u16]>), String> {
    let mut out = Vec::new();
    for seg in segments {
        match seg {
            Seg::Lit(l) => out.extend(l.split('/').map(Seg::Lit)),
            s => out.push(*s),
        }
    }
    if out == [Seg::Lit("")] {
        out.clear();
    }
    let mut positions = Vec::new();
    for (i, s) in out.iter().enumerate() {
        if matches!(s, Seg::Param(_)) {
            positions.push(u16::try_from(i).map_err(|_| "pattern too long".to_owned())?);
        }
        if *s == Seg::Rest && i + 1 != out.len() {
            return Err("`*` must be the last segment".to_owned());
        }
    }
    Ok((out, positions.into()))
}

fn show(segs: &[Seg]) -> String {
    let mut s = String::new();
    for seg in segs {
        s.push('/');
        match seg {
            Seg::Lit(l) => s.push_str(l),
            Seg::Param(n) => {
                s.push(':');
                s.push_str(n);
            }
            Seg::Rest => s.push('*'),
        }
    }
    if s.is_empty() {
        s.push('/');
    }
    s
}

impl Router {
    /// Builds the router from `(method, segments)` pairs, in route-list order.
    ///
    /// # Errors
    /// Returns a description of the first pattern that has the same shape as an earlier one
    /// for a shared method, or has `*` before its end (neither passes `app!`'s compile-time
    /// checks).
    pub fn new<'a, 's: 'a>(
        routes: impl IntoIterator<Item = (Method, &'a [Seg<'s>])>,
    ) -> Result<Router, crate::ConfigError> {
        let mut trees: [Node; 8] = Default::default();
        let mut all_positions = Vec::new();
        let mut gets = Vec::new();
        for (index, (method, segs)) in routes.into_iter().enumerate() {
            let fail = |why: &str| format!("route {} {}: {why}", method.as_str(), show(segs));
            let (flat, positions) = flatten(segs).map_err(|e| fail(&e))?;
            all_positions.push(positions);
            let targets = match method {
                Method::Any => 0..8,
                m => m as usize..m as usize + 1,
            };
            for t in targets {
                let slot = Node::slot(&mut trees[t], &flat);
                if slot.is_some() {
                    return Err(fail("conflicts with an earlier route").into());
                }
                *slot = Some(Slot { index, head_from_get: false });
            }
            if method == Method::Get {
                gets.push((index, flat));
            }
        }
        // `GET` routes answer `HEAD` too, where no `HEAD` or `ANY` route of the same shape does.
        for (index, flat) in gets {
            let slot = Node::slot(&mut trees[Method::Head as usize], &flat);
            if slot.is_none() {
                *slot = Some(Slot { index, head_from_get: true });
            }
        }
        Ok(Router { trees, positions: all_positions })
    }

    #[inline]
    fn lookup<'a>(&'a self, tree: usize, path: &'a str) -> Option<(Slot, Params<'a>, Option<&'a str>)> {
        let root = &self.trees[tree];
        let rem = path.strip_prefix('/')?;
        let mut inline = [""; INLINE];
        let (slot, rest) = if rem.is_empty() {
            // `/`: the root route, else `/*` with nothing after its `/`.
            root.value.map(|v| (v, None)).or_else(|| root.rest.map(|v| (v, Some(""))))?
        } else {
            root.walk(rem, &mut inline, 0)?
        };
        let positions = self.positions.get(slot.index).map_or(&[][..], |p| &p[..]);
        Some((slot, Params { inline, path, positions }, rest))
    }

    /// Routes a normalized path for the request method `method` (`None` = a method layers
    /// has no name for, which only `ANY` routes answer). Allocates nothing.
    #[must_use]
    pub fn route<'a>(&'a self, method: Option<Method>, path: &'a str) -> Routed<'a> {
        let tree = method.map_or(7, |m| m as usize);
        if let Some((slot, params, rest)) = self.lookup(tree, path) {
            return Routed::Found { index: slot.index, params, rest, head_from_get: slot.head_from_get };
        }
        let mut allow = Allow::default();
        for m in Method::CONCRETE {
            if self.lookup(m as usize, path).is_some() {
                allow.0 |= 1 << (m as u8);
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
            (Method::Get, &[Lit("m"), Param("a"), Param("b"), Param("c"), Param("d"), Lit("z"), Param("e")]),
            (Method::Get, &[Lit("t"), Lit("")]),
            (Method::Get, &[Lit("o"), Lit("p"), Lit("q")]),
            (Method::Get, &[Lit("o"), Param("x"), Lit("r")]),
            (Method::Get, &[Lit("o"), Param("x"), Rest]),
        ];
        Router::new(routes).unwrap()
    }

    fn found(r: Routed<'_>) -> (usize, Vec<&str>, Option<&str>, bool) {
        match r {
            Routed::Found { index, params, rest, head_from_get } => {
                assert_eq!(params.iter().count(), params.len());
                for (i, p) in params.iter().enumerate() {
                    assert_eq!(params.get(i), Some(p));
                }
                (index, params.iter().collect(), rest, head_from_get)
            }
            other => panic!("not found: {other:?}"),
        }
    }

    fn allow(r: Routed<'_>) -> Vec<&'static str> {
        match r {
            Routed::MethodNotAllowed(a) => a.iter().collect(),
            other => panic!("not a 405: {other:?}"),
        }
    }

    #[test]
    fn routes_by_method_and_path() {
        let r = app();
        assert_eq!(found(r.route(Some(Method::Get), "/")).0, 0);
        assert_eq!(found(r.route(Some(Method::Get), "/blog/hi")), (1, vec!["hi"], None, false));
        assert_eq!(found(r.route(Some(Method::Post), "/blog/new")).0, 2);
        // GET /blog/new is the :slug route; POST /blog/new the literal one: no shadowing across methods.
        assert_eq!(found(r.route(Some(Method::Get), "/blog/new")).0, 1);
        assert_eq!(found(r.route(Some(Method::Put), "/admin/a/b")), (3, vec![], Some("a/b"), false));
        assert_eq!(found(r.route(None, "/admin/z")).0, 3);
        assert_eq!(found(r.route(Some(Method::Delete), "/x{y}")).0, 4);
        assert_eq!(found(r.route(Some(Method::Get), "/a/1/c/2")).1, vec!["1", "2"]);
        assert_eq!(found(r.route(Some(Method::Get), "/t/")).0, 7);
        assert_eq!(r.route(Some(Method::Get), "/t"), Routed::NotFound);
    }

    #[test]
    fn more_params_than_inline() {
        let r = app();
        assert_eq!(
            found(r.route(Some(Method::Get), "/m/1/2/3/4/z/5")),
            (6, vec!["1", "2", "3", "4", "5"], None, false)
        );
        assert_eq!(r.route(Some(Method::Get), "/m/1/2/3/4/y/5"), Routed::NotFound);
    }

    #[test]
    fn literal_before_param_before_rest_with_backtracking() {
        let r = app();
        assert_eq!(found(r.route(Some(Method::Get), "/o/p/q")).0, 8);
        // `p` is taken as a literal first, then as `:x` once `/q` fails under it.
        assert_eq!(found(r.route(Some(Method::Get), "/o/p/r")), (9, vec!["p"], None, false));
        assert_eq!(found(r.route(Some(Method::Get), "/o/p/s/t")), (10, vec!["p"], Some("s/t"), false));
        // `*` also takes nothing after its `/`.
        assert_eq!(found(r.route(Some(Method::Get), "/o/p/")), (10, vec!["p"], Some(""), false));
        assert_eq!(r.route(Some(Method::Get), "/o/p"), Routed::NotFound);
        assert_eq!(r.route(Some(Method::Get), "/o//r"), Routed::NotFound);
    }

    #[test]
    fn head_falls_back_to_get() {
        let r = app();
        assert_eq!(found(r.route(Some(Method::Head), "/blog/x")), (1, vec!["x"], None, true));
    }

    #[test]
    fn head_takes_the_most_specific_of_head_any_and_get() {
        let routes: Vec<(Method, &[Seg])> = vec![
            (Method::Head, &[Lit("h"), Rest]),
            (Method::Get, &[Lit("h"), Lit("x")]),
            (Method::Get, &[Lit("g"), Rest]),
            (Method::Head, &[Lit("g"), Lit("x")]),
            (Method::Get, &[Lit("s")]),
            (Method::Head, &[Lit("s")]),
            (Method::Any, &[Lit("a"), Rest]),
            (Method::Get, &[Lit("a"), Lit("x")]),
        ];
        let r = Router::new(routes).unwrap();
        // A more specific GET route beats a HEAD wildcard, and the other way round.
        assert_eq!(found(r.route(Some(Method::Head), "/h/x")), (1, vec![], None, true));
        assert_eq!(found(r.route(Some(Method::Head), "/h/y")), (0, vec![], Some("y"), false));
        assert_eq!(found(r.route(Some(Method::Head), "/g/x")), (3, vec![], None, false));
        assert_eq!(found(r.route(Some(Method::Head), "/g/y")), (2, vec![], Some("y"), true));
        // The same shape: the HEAD route answers HEAD.
        assert_eq!(found(r.route(Some(Method::Head), "/s")), (5, vec![], None, false));
        assert_eq!(found(r.route(Some(Method::Get), "/s")), (4, vec![], None, false));
        assert_eq!(found(r.route(Some(Method::Head), "/a/x")), (7, vec![], None, true));
        assert_eq!(found(r.route(Some(Method::Head), "/a/y")), (6, vec![], Some("y"), false));
        assert_eq!(allow(r.route(Some(Method::Post), "/h/x")), vec!["GET", "HEAD"]);
        assert_eq!(allow(r.route(Some(Method::Post), "/h/y")), vec!["HEAD"]);
    }

    #[test]
    fn a_root_wildcard_takes_every_path_the_others_do_not() {
        let routes: Vec<(Method, &[Seg])> = vec![(Method::Get, &[Rest]), (Method::Get, &[Lit("a")])];
        let r = Router::new(routes).unwrap();
        assert_eq!(found(r.route(Some(Method::Get), "/")), (0, vec![], Some(""), false));
        assert_eq!(found(r.route(Some(Method::Get), "/a")), (1, vec![], None, false));
        assert_eq!(found(r.route(Some(Method::Get), "/a/")), (0, vec![], Some("a/"), false));
        assert_eq!(found(r.route(Some(Method::Get), "/b/c")), (0, vec![], Some("b/c"), false));
        let routes: Vec<(Method, &[Seg])> = vec![(Method::Get, &[Rest]), (Method::Get, &[])];
        let r = Router::new(routes).unwrap();
        assert_eq!(found(r.route(Some(Method::Get), "/")), (1, vec![], None, false));
    }

    #[test]
    fn not_found_and_405() {
        let r = app();
        assert_eq!(r.route(Some(Method::Get), "/nope"), Routed::NotFound);
        assert_eq!(r.route(Some(Method::Get), "/admin"), Routed::NotFound);
        assert_eq!(found(r.route(Some(Method::Get), "/admin/")), (3, vec![], Some(""), false));
        assert_eq!(r.route(Some(Method::Get), "/blog"), Routed::NotFound);
        assert_eq!(r.route(Some(Method::Get), ""), Routed::NotFound);
        assert_eq!(allow(r.route(Some(Method::Post), "/")), vec!["GET", "HEAD"]);
        assert_eq!(allow(r.route(Some(Method::Put), "/blog/new")), vec!["GET", "HEAD", "POST"]);
        let Routed::MethodNotAllowed(a) = r.route(Some(Method::Put), "/blog/new") else { unreachable!() };
        assert_eq!(a.to_string(), "GET, HEAD, POST");
        // Case matters: `/BLOG/x` is another path.
        assert_eq!(r.route(Some(Method::Get), "/BLOG/x"), Routed::NotFound);
    }

    #[test]
    fn duplicates_and_misplaced_rest_are_refused() {
        let dup: Vec<(Method, &[Seg])> = vec![(Method::Get, &[Param("a")]), (Method::Any, &[Param("b")])];
        assert!(Router::new(dup).unwrap_err().message().contains("conflicts"));
        let mid: Vec<(Method, &[Seg])> = vec![(Method::Get, &[Rest, Lit("a")])];
        assert!(Router::new(mid).is_err());
        let ok: Vec<(Method, &[Seg])> = vec![(Method::Get, &[Lit("a")]), (Method::Post, &[Lit("a")])];
        assert!(Router::new(ok).is_ok());
    }
}
