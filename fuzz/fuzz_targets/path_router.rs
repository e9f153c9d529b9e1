//! Path normalization and route matching: every path either is refused, or normalizes to a
//! canonical form (idempotent; no `%`, `\`, dot segment or empty interior segment) that the
//! router (built from the reference app's real patterns) matches with sane parameters.

#![no_main]

use layers_core::request::path::normalize;
use layers_core::request::pattern::{Method, Seg, Seg::*};
use layers_core::request::router::{Routed, Router};
use libfuzzer_sys::fuzz_target;

/// Patterns of the reference app (app/src), protected and public ones.
const ROUTES: &[(Method, &[Seg])] = &[
    (Method::Get, &[]),
    (Method::Get, &[Lit("blog"), Param("slug")]),
    (Method::Get, &[Lit("og"), Param("file")]),
    (Method::Get, &[Lit("search")]),
    (Method::Get, &[Lit("hello"), Param("name")]),
    (Method::Post, &[Lit("api"), Lit("subscribe")]),
    (Method::Get, &[Lit("api"), Lit("confirm"), Param("token")]),
    (Method::Post, &[Lit("api"), Lit("unsubscribe"), Param("token")]),
    (Method::Get, &[Lit("api"), Lit("unsubscribe"), Param("token")]),
    (Method::Get, &[Lit("api"), Lit("subscribers")]),
    (Method::Post, &[Lit("api"), Lit("subscribers")]),
    (Method::Post, &[Lit("api"), Lit("subscribers"), Lit("typed")]),
    (Method::Delete, &[Lit("api"), Lit("subscribers"), Param("email")]),
    (Method::Get, &[Lit("api"), Lit("files"), Param("name")]),
    (Method::Put, &[Lit("api"), Lit("files"), Param("name")]),
    (Method::Get, &[Lit("admin"), Rest]),
    (Method::Post, &[Lit("admin"), Lit("flags"), Param("name")]),
    (Method::Any, &[Lit("any"), Rest]),
];

thread_local! {
    static ROUTER: Router = Router::new(ROUTES.iter().map(|(m, s)| (*m, *s))).expect("router");
}

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else { return };
    let Ok(path) = normalize(raw) else { return };
    assert!(path.starts_with('/'));
    assert_eq!(normalize(&path).as_deref(), Ok(path.as_str()), "not idempotent");
    assert!(!path.contains('%') && !path.contains('\\'));
    let segs: Vec<&str> = path[1..].split('/').collect();
    for (i, s) in segs.iter().enumerate() {
        assert!(*s != "." && *s != "..");
        assert!(!s.is_empty() || i == segs.len() - 1 || path == "/");
        assert!(!s.chars().any(char::is_control));
    }
    ROUTER.with(|r| {
        for m in Method::CONCRETE.into_iter().map(Some).chain([None]) {
            match r.route(m, &path) {
                Routed::Found { index, params, rest, .. } => {
                    let (_, pattern) = ROUTES[index];
                    let want = pattern.iter().filter(|s| matches!(s, Param(_))).count();
                    assert_eq!(params.len(), want);
                    assert!(params.iter().all(|p| !p.is_empty() && !p.contains('/')));
                    assert_eq!(rest.is_some(), pattern.last() == Some(&Rest));
                    // Literal segments of the pattern are the path's segments, in place.
                    for (k, seg) in pattern.iter().enumerate() {
                        if let Lit(l) = seg {
                            assert_eq!(segs.get(k), Some(l));
                        }
                    }
                }
                Routed::MethodNotAllowed(allow) => assert!(!allow.is_empty()),
                Routed::NotFound => {}
            }
        }
    });
});
