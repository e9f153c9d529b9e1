//! The route table's own checks, which need nothing but the routes:
//! - every segment is one a `#[route]` pattern can produce;
//! - no two routes sharing a method have the same shape (equally specific: one request, two
//!   handlers);
//! - a route that takes requests from a less specific one (the router gives a path to the most
//!   specific pattern that matches it) with another identity says so with `shadows("…")`, and
//!   every `shadows("…")` names a route it really takes requests from.
//!
//! Identities are compared by name at compile time (the type as written and the verifier's
//! `NAME`: two spellings of one type need a declaration too). When the app first serves,
//! [`undeclared_shadow_by_type`] compares the verifiers' types as well, which catches one
//! spelling that names two types (two modules' `Admin`).

use core::cmp::Ordering;

use crate::__private::{RouteEntry, RouteMeta, Shadowed};
use crate::request::pattern::{overlaps, same_shape, specificity, str_eq, ConstMsg, Seg};
use layers_spec::pattern::segments_ok;

/// The first problem among the routes, if any.
pub(super) const fn routes_problem(routes: &[RouteEntry]) -> Option<ConstMsg> {
    if let Some(i) = bad_segment(routes) {
        return Some(segment_msg(&routes[i].meta));
    }
    if let Some(m) = first_pair_problem(routes) {
        return Some(m);
    }
    stale_shadow(routes)
}

/// The first route whose segments, or whose `shadows(…)` patterns' segments, no `#[route]`
/// pattern can produce (see [`segments_ok`]: a literal holding `/`, `%`, `\\`, a dot segment or an
/// empty one could match paths the checks below do not see).
const fn bad_segment(routes: &[RouteEntry]) -> Option<usize> {
    let mut i = 0;
    while i < routes.len() {
        let meta = &routes[i].meta;
        if !segments_ok(meta.segments) {
            return Some(i);
        }
        let mut k = 0;
        while k < meta.shadows.len() {
            if !segments_ok(meta.shadows[k].segments) {
                return Some(i);
            }
            k += 1;
        }
        i += 1;
    }
    None
}

/// The first pair of routes that conflict, or where one takes requests from the other across
/// identities without saying so.
const fn first_pair_problem(routes: &[RouteEntry]) -> Option<ConstMsg> {
    // Every pair of routes is compared, in the compiler's const evaluator: each route's first
    // segment is hashed once, so the common pair (two literals that differ, `/users/…` and
    // `/repos/…`) is told apart by comparing two numbers.
    let mut keys = [0u64; FIRST_KEYS];
    let mut i = 0;
    while i < routes.len() && i < FIRST_KEYS {
        keys[i] = first_literal_key(routes[i].meta.segments);
        i += 1;
    }
    let mut i = 0;
    while i < routes.len() {
        let a = &routes[i].meta;
        let ka = if i < FIRST_KEYS { keys[i] } else { first_literal_key(a.segments) };
        let mut j = i + 1;
        while j < routes.len() {
            let b = &routes[j].meta;
            let kb = if j < FIRST_KEYS { keys[j] } else { first_literal_key(b.segments) };
            // Two literal first segments with different hashes differ: no path matches both.
            let distinct = ka != 0 && kb != 0 && ka != kb;
            if !distinct {
                if let Some(m) = pair_problem(a, b) {
                    return Some(m);
                }
            }
            j += 1;
        }
        i += 1;
    }
    None
}

/// What is wrong with routes `a` and `b` together, if anything.
const fn pair_problem(a: &RouteMeta, b: &RouteMeta) -> Option<ConstMsg> {
    if !a.method.competes_with(b.method) || !overlaps(a.segments, b.segments) {
        return None;
    }
    match specificity(a.segments, b.segments) {
        // `GET` and `HEAD` of one shape do not conflict: the `HEAD` route answers `HEAD`.
        Ordering::Equal if a.method.shares_with(b.method) => Some(conflict_msg(a, b)),
        Ordering::Equal => None,
        Ordering::Greater if !same_identity_name(a, b) && !declares(a, b) => Some(shadow_msg(a, b)),
        Ordering::Less if !same_identity_name(a, b) && !declares(b, a) => Some(shadow_msg(b, a)),
        _ => None,
    }
}

/// Whether `winner` answers some requests that `loser` would answer without it: they can be
/// asked the same request, match a common path, and `winner`'s pattern is more specific.
pub(crate) const fn takes_from(winner: &RouteMeta, loser: &RouteMeta) -> bool {
    winner.method.competes_with(loser.method)
        && overlaps(winner.segments, loser.segments)
        && matches!(specificity(winner.segments, loser.segments), Ordering::Greater)
}

/// Whether `winner` declares `shadows("…")` with `loser`'s pattern.
pub(crate) const fn declares(winner: &RouteMeta, loser: &RouteMeta) -> bool {
    let mut k = 0;
    while k < winner.shadows.len() {
        if same_shape(winner.shadows[k].segments, loser.segments) {
            return true;
        }
        k += 1;
    }
    false
}

/// Whether both routes name one identity, as written and by the verifier's `NAME`.
const fn same_identity_name(a: &RouteMeta, b: &RouteMeta) -> bool {
    str_eq(a.identity, b.identity) && str_eq(a.identity_as_written, b.identity_as_written)
}

/// How a route's identity is shown in messages: as written, else the verifier's `NAME`.
const fn identity_shown(r: &RouteMeta) -> &'static str {
    if r.identity_as_written.is_empty() {
        r.identity
    } else {
        r.identity_as_written
    }
}

/// The first `shadows("…")` that names no route its route takes requests from.
const fn stale_shadow(routes: &[RouteEntry]) -> Option<ConstMsg> {
    let mut i = 0;
    while i < routes.len() {
        let w = &routes[i].meta;
        let mut k = 0;
        while k < w.shadows.len() {
            let d = w.shadows[k];
            let mut found = false;
            let mut j = 0;
            while j < routes.len() && !found {
                let l = &routes[j].meta;
                found = j != i && takes_from(w, l) && same_shape(d.segments, l.segments);
                j += 1;
            }
            if !found {
                return Some(stale_msg(w, d));
            }
            k += 1;
        }
        i += 1;
    }
    None
}

/// The same check as the compile-time one, comparing the verifiers' types, for when the app
/// first serves: one spelling can name two types (`Admin` in two modules).
pub(crate) fn undeclared_shadow_by_type(routes: &[RouteEntry]) -> Option<String> {
    for (i, a) in routes.iter().enumerate() {
        for b in &routes[i + 1..] {
            let (w, l) = if takes_from(&a.meta, &b.meta) {
                (&a.meta, &b.meta)
            } else if takes_from(&b.meta, &a.meta) {
                (&b.meta, &a.meta)
            } else {
                continue;
            };
            if (w.identity_type)() != (l.identity_type)() && !declares(w, l) {
                let why = shadow_msg(w, l);
                return Some(format!(
                    "{} (The identities are the types `{}` and `{}`.)",
                    why.as_str(),
                    (w.identity_type)(),
                    (l.identity_type)()
                ));
            }
        }
    }
    None
}

const fn route_name(m: ConstMsg, r: &RouteMeta) -> ConstMsg {
    m.push("`")
        .push(r.method.as_str())
        .push(" ")
        .push(r.pattern)
        .push("` (fn ")
        .push(r.handler)
        .push(", identity = ")
        .push(identity_shown(r))
        .push(")")
}

const fn conflict_msg(a: &RouteMeta, b: &RouteMeta) -> ConstMsg {
    let m = route_name(ConstMsg::new().push("conflicting routes: "), a).push(" and ");
    route_name(m, b).push(
        " are equally specific and can match the same request, so nothing decides which one answers it. Make the patterns differ (e.g. a literal segment where the other has a parameter, or a distinct literal) or the methods distinct.",
    )
}

const fn shadow_msg(winner: &RouteMeta, loser: &RouteMeta) -> ConstMsg {
    let m = route_name(ConstMsg::new().push("route "), winner).push(" takes requests from ");
    route_name(m, loser)
        .push(": the most specific pattern answers a path, so requests that ")
        .push(identity_shown(loser))
        .push(" guards under `")
        .push(loser.pattern)
        .push("` are checked by ")
        .push(identity_shown(winner))
        .push(" instead. If that is intended, say so on the more specific route: `shadows(\"")
        .push(loser.pattern)
        .push("\")`; otherwise move it out from under `")
        .push(loser.pattern)
        .push("` or give it the same identity.")
}

const fn stale_msg(winner: &RouteMeta, d: Shadowed) -> ConstMsg {
    route_name(ConstMsg::new().push("route "), winner)
        .push(" declares `shadows(\"")
        .push(d.pattern)
        .push("\")`, but takes requests from no route with that pattern (a route of that shape, with a method that can be asked the same request, and a less specific pattern): remove the declaration or correct the pattern.")
}

/// Routes whose first-segment hashes are kept in an array (past it, they are computed again
/// for each pair).
pub(super) const FIRST_KEYS: usize = 1024;

/// The FNV-1a hash of a pattern's first segment when it is a literal, never 0; 0 otherwise (a
/// parameter or `*` first, or no segment at all: the root).
const fn first_literal_key(segments: &[Seg]) -> u64 {
    if segments.is_empty() {
        return 0;
    }
    let Seg::Lit(l) = segments[0] else { return 0 };
    crate::storage::queue::typecheck::name_hash(l) | 1
}

const fn segment_msg(r: &RouteMeta) -> ConstMsg {
    ConstMsg::new()
        .push("route `")
        .push(r.method.as_str())
        .push(" ")
        .push(r.pattern)
        .push("` (fn ")
        .push(r.handler)
        .push(") has a segment (in its pattern or a `shadows(…)` pattern) no `#[route]` pattern can produce (empty, `.` or `..`, or holding `/`, `\\`, `%`, `{`, `}`, `:`, `*`, `?`, `#` or whitespace, or a `*` before the end): describe routes with `#[route]`.")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::__private::App;
    use crate::check::table_problem;
    use crate::check::tests::{entries, route};
    use crate::request::pattern::{Method, Seg};

    /// What the table check (run here, outside const context) says about these routes.
    fn problem(routes: &[RouteMeta]) -> Option<String> {
        routes_problem(entries(routes)).map(|m| m.as_str().to_owned())
    }

    fn with_identity(mut r: RouteMeta, identity: &'static str) -> RouteMeta {
        r.identity = identity;
        r.identity_as_written = identity;
        r
    }

    fn shadowing(mut r: RouteMeta, patterns: &[&'static str]) -> RouteMeta {
        let decls: Vec<Shadowed> =
            patterns.iter().map(|p| Shadowed { pattern: p, segments: route(Method::Get, p).segments }).collect();
        r.shadows = Box::leak(decls.into_boxed_slice());
        r
    }

    #[test]
    fn only_equally_specific_routes_conflict_whatever_the_first_segment() {
        let filler: Vec<RouteMeta> = (0..50).map(|i| route(Method::Get, &format!("/r{i}/x/:id"))).collect();
        assert_eq!(problem(&filler), None, "distinct first literals never conflict");
        for (a, b) in [
            ("/a/:x", "/a/:y"),
            ("/:x", "/:y"),
            ("/*", "/*"),
            ("/a/*", "/a/*"),
            ("/", "/"),
            ("/:x/b", "/:y/b"),
            ("/a/:x/*", "/a/:y/*"),
        ] {
            let mut routes = filler.clone();
            routes.insert(3, route(Method::Get, a));
            routes.push(route(Method::Any, b));
            let m = problem(&routes).unwrap_or_else(|| panic!("{a} and {b} conflict"));
            assert!(m.starts_with("conflicting routes") && m.contains(a) && m.contains(b), "{m}");
        }
        // Overlapping but not equally specific (same identity), or disjoint: no problem.
        for (a, b) in [
            ("/a/:x", "/a/b"),
            ("/:x", "/a"),
            ("/*", "/a/b"),
            ("/*", "/"),
            ("/a/*", "/a/b/c"),
            ("/:x/b", "/a/:y"),
            ("/a/:x", "/b/:x"),
            ("/", "/a"),
            ("/a", "/a/b"),
            ("/a", "/a/*"),
            ("/a/:x", "/ab/:x"),
        ] {
            let mut routes = filler.clone();
            routes.insert(3, route(Method::Get, a));
            routes.push(route(Method::Any, b));
            assert_eq!(problem(&routes), None, "{a} and {b}");
        }
        // Different methods never conflict; nor do GET and HEAD of one shape.
        assert_eq!(problem(&[route(Method::Get, "/a/:x"), route(Method::Post, "/a/:y")]), None);
        assert_eq!(problem(&[route(Method::Get, "/a/:x"), route(Method::Head, "/a/:y")]), None);
    }

    #[test]
    fn routes_past_the_key_array_are_compared_too() {
        let mut routes: Vec<RouteMeta> =
            (0..FIRST_KEYS + 10).map(|i| route(Method::Get, &format!("/r{i}/:id"))).collect();
        assert_eq!(problem(&routes), None);
        routes.push(route(Method::Get, &format!("/r{}/:other", FIRST_KEYS + 5)));
        assert!(problem(&routes).is_some(), "both past the array");
        routes.pop();
        routes.push(route(Method::Get, "/r7/:other"));
        assert!(problem(&routes).is_some(), "one inside, one past the array");
        routes.pop();
        routes.push(with_identity(route(Method::Get, &format!("/r{}/new", FIRST_KEYS + 5)), "ApiKey"));
        assert!(problem(&routes).is_some_and(|m| m.contains("takes requests from")), "a shadow past the array");
    }

    #[test]
    fn taking_requests_from_another_identity_must_be_declared() {
        let admin = with_identity(route(Method::Get, "/admin/*"), "Admin");
        let health = route(Method::Get, "/admin/health");
        let m = problem(&[admin, health]).expect("an undeclared shadow");
        for part in [
            "route `GET /admin/health` (fn h_admin_health, identity = Public) takes requests from `GET /admin/*` (fn h_admin__, identity = Admin)",
            "shadows(\"/admin/*\")",
        ] {
            assert!(m.contains(part), "{m}");
        }
        // Declared on the more specific route: fine, in either order, whatever the parameter names.
        assert_eq!(problem(&[admin, shadowing(health, &["/admin/*"])]), None);
        assert_eq!(problem(&[shadowing(health, &["/admin/*"]), admin]), None);
        let page = shadowing(route(Method::Get, "/admin/:page/edit"), &["/admin/:p/*"]);
        let pages = with_identity(route(Method::Get, "/admin/:page/*"), "Admin");
        assert_eq!(problem(&[pages, page]), None);
        // Declared on the wildcard instead, it is both missing and stale.
        assert!(problem(&[shadowing(admin, &["/admin/health"]), health]).is_some());
        // HEAD and GET compete: an explicit HEAD route takes HEAD requests from a GET wildcard.
        assert!(problem(&[admin, route(Method::Head, "/admin/x")]).is_some());
        assert!(problem(&[with_identity(route(Method::Head, "/admin/*"), "Admin"), route(Method::Get, "/admin/x")])
            .is_some());
        // Methods that never see the same request, or the same identity: nothing to declare.
        assert_eq!(problem(&[admin, route(Method::Post, "/admin/health")]), None);
        assert_eq!(problem(&[admin, with_identity(route(Method::Get, "/admin/health"), "Admin")]), None);
        // The same written name with another `NAME` is another identity.
        let mut renamed = with_identity(route(Method::Get, "/admin/health"), "Admin");
        renamed.identity = "AccessJwt";
        assert!(problem(&[admin, renamed]).is_some());
        // The root wildcard and the root.
        assert!(problem(&[with_identity(route(Method::Get, "/*"), "Admin"), route(Method::Get, "/")]).is_some());
    }

    #[test]
    fn a_declaration_must_name_a_route_it_takes_requests_from() {
        let admin = with_identity(route(Method::Get, "/admin/*"), "Admin");
        let health = shadowing(route(Method::Get, "/admin/health"), &["/admin/*", "/ops/*"]);
        let m = problem(&[admin, health]).expect("a stale declaration");
        assert!(m.contains("declares `shadows(\"/ops/*\")`, but takes requests from no route"), "{m}");
        // A pattern of the same shape with a method that never sees the same request.
        let post = with_identity(route(Method::Post, "/admin/*"), "Admin");
        assert!(problem(&[post, shadowing(route(Method::Get, "/admin/health"), &["/admin/*"])]).is_some());
        // Its own pattern.
        assert!(problem(&[shadowing(route(Method::Get, "/admin/health"), &["/admin/health"])]).is_some());
        // A declared pattern must be one `#[route]` can write.
        let mut odd = route(Method::Get, "/admin/health");
        odd.shadows = &[Shadowed { pattern: "/admin/*/x", segments: &[Seg::Lit("admin"), Seg::Rest, Seg::Lit("x")] }];
        assert!(problem(&[admin, odd]).is_some_and(|m| m.contains("a `shadows(…)` pattern")));
    }

    #[test]
    fn at_run_time_identities_are_compared_by_type() {
        fn admin_type() -> &'static str {
            "app::a::Admin"
        }
        fn other_admin_type() -> &'static str {
            "app::b::Admin"
        }
        let mut admin = with_identity(route(Method::Get, "/admin/*"), "Admin");
        admin.identity_type = admin_type;
        let mut health = with_identity(route(Method::Get, "/admin/health"), "Admin");
        health.identity_type = other_admin_type;
        // One spelling, so the compile-time check passes; the types differ.
        assert_eq!(problem(&[admin, health]), None);
        let m = undeclared_shadow_by_type(entries(&[admin, health])).expect("two types");
        assert!(m.contains("`app::b::Admin` and `app::a::Admin`"), "{m}");
        assert_eq!(undeclared_shadow_by_type(entries(&[admin, shadowing(health, &["/admin/*"])])), None);
        health.identity_type = admin_type;
        assert_eq!(undeclared_shadow_by_type(entries(&[admin, health])), None);
    }

    #[test]
    fn a_hand_built_table_is_held_to_what_app_checks() {
        // `/admin/*` behind Access, and a hand-written Public `/admin/:page` that would take
        // `/admin/users` from it by specificity.
        let mut admin = route(Method::Get, "/admin/*");
        admin.identity = "AccessJwt+EmailAllowlist";
        let sneaky = route(Method::Get, "/admin/:page");
        let m = table_problem(entries(&[admin, sneaky]), &[], &[], &[]).expect("a conflict");
        assert!(m.as_str().contains("/admin/*") && m.as_str().contains("/admin/:page"), "{}", m.as_str());
        assert!(m.as_str().contains("takes requests from"), "{}", m.as_str());
        // A literal holding `/`, which no pattern makes.
        let mut slash = route(Method::Get, "/admin/users");
        slash.segments = &[Seg::Lit("admin/users")];
        assert!(table_problem(entries(&[admin, slash]), &[], &[], &[]).is_some());
        // `App::new` refuses both (at compile time for a `static`; here, called at run time).
        for routes in [entries(&[admin, sneaky]), entries(&[admin, slash])] {
            assert!(std::panic::catch_unwind(|| App::new(routes, &[], &[], &[], &[])).is_err());
        }
        assert!(std::panic::catch_unwind(|| App::new(entries(&[admin]), &[], &[], &[], &[])).is_ok());
    }
}
