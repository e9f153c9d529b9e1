//! Allocations per lookup, counted by dhat's heap profiler (testing mode) installed as this
//! test binary's global allocator: layers' router must route matchit's 130 benchmark paths
//! (and answer its 405s and 404s) without allocating once it is built.
//!
//! One `#[test]` only: dhat allows a single profiler per process.

#![allow(missing_docs)]

use std::hint::black_box;

#[path = "../benches/data/github_routes.rs"]
mod github_routes;

use github_routes::{segments, PATHS, TEMPLATES};
use layers_core::request::pattern::{Method, Seg};
use layers_core::request::router::{Routed, Router};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

#[test]
fn routing_allocates_nothing() {
    let _profiler = dhat::Profiler::builder().testing().build();

    let patterns: Vec<Vec<Seg>> = TEMPLATES.iter().map(|t| segments(t)).collect();
    let layers = Router::new(patterns.iter().map(|p| (Method::Get, p.as_slice()))).unwrap();
    let mut matchit = matchit::Router::new();
    for (i, t) in TEMPLATES.iter().enumerate() {
        matchit.insert(*t, i).unwrap();
    }
    let misses = ["/", "/nope", "/repos/a", "/users/", "/user/repos/"];

    let before = dhat::HeapStats::get();
    let mut found = 0;
    let mut param_values = 0;
    for path in black_box(PATHS) {
        if let Routed::Found { index, params, rest, .. } = layers.route(Some(Method::Get), path) {
            found += 1;
            black_box((index, rest));
            for v in params {
                param_values += 1;
                black_box(v);
            }
        }
        // Every path answers GET only: a 405 with `Allow: GET, HEAD`, built without allocating.
        assert!(matches!(black_box(layers.route(Some(Method::Post), path)), Routed::MethodNotAllowed(_)));
    }
    for path in black_box(misses) {
        assert!(matches!(black_box(layers.route(Some(Method::Get), path)), Routed::NotFound));
    }
    let after = dhat::HeapStats::get();
    let lookups = 2 * PATHS.len() + misses.len();
    println!("layers: {} allocations for {lookups} lookups", after.total_blocks - before.total_blocks);
    assert_eq!(found, PATHS.len());
    assert!(param_values > 200, "{param_values} parameter values read");
    dhat::assert_eq!(after.total_blocks - before.total_blocks, 0);

    // For the record: matchit 0.9 keeps up to 3 parameters inline and allocates beyond that
    // (the 4-parameter `/legacy/issues/search/...` route).
    let before = dhat::HeapStats::get();
    for path in black_box(PATHS) {
        black_box(matchit.at(path).unwrap());
    }
    let after = dhat::HeapStats::get();
    println!("matchit: {} allocations for {} lookups", after.total_blocks - before.total_blocks, PATHS.len());
}
