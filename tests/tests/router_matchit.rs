//! Differential test: layers' router and matchit 0.9 pick the same route, with the same
//! parameters, for matchit's own benchmark data set (130 GitHub API templates): its 130 request
//! paths, every template filled with other values (including ones that spell sibling literals),
//! near misses of every path, and every path over a small segment vocabulary up to depth 4.
//! A second, smaller set adds catch-alls and overlaps that need backtracking.
//!
//! One difference is by design: layers' `*` also matches nothing after its `/` (`/files/*`
//! answers `/files/`), where matchit's `{*rest}` needs at least one byte. Such a match is
//! checked against the pattern instead of against matchit.

#![allow(missing_docs)]

#[path = "../benches/data/github_routes.rs"]
mod github_routes;

use github_routes::{instantiate, segments, PATHS, TEMPLATES};
use layers_core::request::pattern::{Method, Seg};
use layers_core::request::router::{Routed, Router};

/// What a router decided: the route index and its parameter values (catch-all last).
type Pick = Option<(usize, Vec<String>)>;

struct Pair {
    layers: Router,
    matchit: matchit::Router<usize>,
    templates: Vec<String>,
}

impl Pair {
    fn new(templates: &[&'static str]) -> Pair {
        let patterns: Vec<Vec<Seg>> = templates.iter().map(|t| segments(t)).collect();
        let layers = Router::new(patterns.iter().map(|p| (Method::Get, p.as_slice()))).unwrap();
        let mut matchit = matchit::Router::new();
        for (i, t) in templates.iter().enumerate() {
            matchit.insert(*t, i).unwrap();
        }
        Pair { layers, matchit, templates: templates.iter().map(|t| (*t).to_owned()).collect() }
    }

    fn layers(&self, path: &str) -> Pick {
        match self.layers.route(Some(Method::Get), path) {
            Routed::Found { index, params, rest, head_from_get } => {
                assert!(!head_from_get);
                assert_eq!(params.len(), params.iter().count());
                let mut v: Vec<String> = params.iter().map(str::to_owned).collect();
                v.extend(rest.map(str::to_owned));
                Some((index, v))
            }
            Routed::NotFound => None,
            Routed::MethodNotAllowed(a) => panic!("GET-only router answered 405 ({a}) for {path:?}"),
        }
    }

    fn matchit(&self, path: &str) -> Pick {
        let m = self.matchit.at(path).ok()?;
        Some((*m.value, m.params.iter().map(|(_, v)| v.to_owned()).collect()))
    }

    /// Asserts both routers agree on `path`; returns whether it matched.
    fn check(&self, path: &str) -> bool {
        let (l, m) = (self.layers(path), self.matchit(path));
        let show = |p: &Pick| p.as_ref().map(|(i, v)| format!("{} {v:?}", self.templates[*i]));
        match &l {
            Some((i, v)) if self.templates[*i].contains("{*") && v.last().is_some_and(String::is_empty) => {
                // An empty rest: the path is the catch-all's prefix with the parameters filled in.
                let t = &self.templates[*i];
                let prefix = &t[..t.find("{*").unwrap()];
                let filled = instantiate(prefix, &v[..v.len() - 1].iter().map(String::as_str).collect::<Vec<_>>());
                assert_eq!(filled, path, "{path:?}: layers {:?}", show(&l));
            }
            _ => assert_eq!(l, m, "{path:?}: layers {:?}, matchit {:?}", show(&l), show(&m)),
        }
        // A method layers' router has no route for gets a 405 exactly when GET matched.
        let other = self.layers.route(Some(Method::Post), path);
        match other {
            Routed::MethodNotAllowed(a) => {
                assert!(l.is_some());
                assert_eq!(a.to_string(), "GET, HEAD");
            }
            Routed::NotFound => assert!(l.is_none()),
            Routed::Found { .. } => panic!("POST found on a GET-only router"),
        }
        l.is_some()
    }
}

fn param_count(template: &str) -> usize {
    template.matches('{').count()
}

#[test]
fn request_paths_pick_the_same_route() {
    let pair = Pair::new(&TEMPLATES);
    for (i, path) in PATHS.iter().enumerate() {
        assert!(pair.check(path), "{path} matched nothing");
        // The literal path of a template reaches that template.
        assert_eq!(pair.layers(path).map(|(i, _)| i), Some(i), "{path}");
    }
}

#[test]
fn instantiated_templates_pick_the_same_route() {
    let pair = Pair::new(&TEMPLATES);
    let value_sets: &[[&str; 4]] = &[
        ["rust-lang", "rust", "1.51.0", "open"],
        ["a", "b", "c", "d"],
        // Values that spell literals of sibling routes: priority and backtracking decide.
        ["users", "repos", "keys", "events"],
        ["events", "public", "orgs", "members"],
        ["stats", "git", "comments", "search"],
        ["x y", "%41", "ü", "{p1}"],
        ["...", "-", "_", "~"],
    ];
    let mut matched = 0;
    for t in TEMPLATES {
        for values in value_sets {
            let path = instantiate(t, &values[..param_count(t)]);
            matched += usize::from(pair.check(&path));
        }
    }
    // Every filled template matches something (its own route or a literal sibling).
    assert_eq!(matched, TEMPLATES.len() * value_sets.len());
}

#[test]
fn near_misses_agree() {
    let pair = Pair::new(&TEMPLATES);
    let mut misses = 0;
    for path in PATHS {
        let segs: Vec<&str> = path[1..].split('/').collect();
        let mut variants = vec![
            format!("{path}/"),
            format!("{path}/x"),
            format!("{path}//"),
            format!("/{path}"),
            path.replace("/p1", "//p1"),
            path.replace("p1", ""),
            path.to_uppercase(),
            path.trim_end_matches('/').to_owned(),
        ];
        for k in 0..segs.len() {
            variants.push(format!("/{}", segs[..k].join("/")));
            let mut changed = segs.clone();
            changed[k] = "zz";
            variants.push(format!("/{}", changed.join("/")));
        }
        for v in variants {
            misses += usize::from(!pair.check(&v));
        }
    }
    for odd in ["", "/", "//", "user", "/user/", "/users/", "/repos", "/repos/", "/repos/a", "/repos/a/"] {
        misses += usize::from(!pair.check(odd));
    }
    assert!(misses > 1000, "near misses should mostly miss ({misses})");
}

#[test]
fn every_short_path_over_a_vocabulary_agrees() {
    let pair = Pair::new(&TEMPLATES);
    let vocab =
        ["", "p1", "repos", "users", "user", "orgs", "keys", "events", "git", "issues", "stats", "following", "teams"];
    let mut paths = vec![String::from("/")];
    let mut frontier = vec![String::new()];
    for _ in 0..4 {
        let mut next = Vec::new();
        for prefix in &frontier {
            for v in vocab {
                next.push(format!("{prefix}/{v}"));
            }
        }
        paths.extend(next.iter().cloned());
        frontier = next;
    }
    let matched = paths.iter().filter(|p| pair.check(p)).count();
    assert!(matched > 100, "only {matched} of {} paths matched", paths.len());
}

#[test]
fn catch_alls_and_backtracking_agree() {
    let templates: &[&'static str] = &[
        "/",
        "/o/p/q",
        "/o/{x}/r",
        "/o/{x}/s/{*rest}",
        "/files/{*rest}",
        "/a/{b}/c/{d}",
        "/a/b/c/e",
        "/a/b/{c}/f",
        "/m/{a}/{b}/{c}/{d}/{e}/{f}",
        "/m/{a}/{b}/{c}/{d}/{e}/g",
        "/t/",
        "/t/{x}/",
        "/{*all}",
    ];
    let pair = Pair::new(templates);
    let paths = [
        "/",
        "/o/p/q",
        "/o/p/r",
        "/o/q/r",
        "/o/p/s/t",
        "/o/p/s/t/u",
        "/o/p/s/",
        "/o/p/s",
        "/files/a",
        "/files/a/b/",
        "/files/",
        "/files",
        "/files//x",
        "/a/b/c/d",
        "/a/b/c/e",
        "/a/b/x/f",
        "/a/b/c/f",
        "/a/x/c/e",
        "/a/b/c/",
        "/m/1/2/3/4/5/6",
        "/m/1/2/3/4/5/g",
        "/m/1/2/3/4/5",
        "/t/",
        "/t",
        "/t/x/",
        "/t/x",
        "/zzz",
        "/zzz/y",
        "//",
        "",
        "/o//r",
    ];
    for p in paths {
        pair.check(p);
    }
    // An empty rest, where matchit falls back to `/{*all}`.
    assert_eq!(pair.layers("/files/"), Some((4, vec![String::new()])));
    assert_eq!(pair.layers("/o/p/s/"), Some((3, vec!["p".to_owned(), String::new()])));
    assert_eq!(pair.matchit("/files/"), Some((12, vec!["files/".to_owned()])));
    // Six parameters (more than layers keeps inline) come back in order.
    assert_eq!(pair.layers("/m/1/2/3/4/5/6"), Some((8, ["1", "2", "3", "4", "5", "6"].map(String::from).to_vec())));
}
