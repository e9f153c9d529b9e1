//! Routing, natively: matchit's own benchmark (its 130 GitHub API templates, each looked up once
//! through its `p1`..`p4` request path) run through layers' router and through matchit 0.9 in
//! the same binary. One iteration = all 130 lookups, reading every parameter value.
//!
//! Ids: `router/layers`, `router/matchit` (the xtask reads
//! `target/criterion/router/<id>/new/estimates.json`).
//!
//! `cargo bench -p layers-tests --bench router -- --warm-up-time 1 --measurement-time 3`

#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use layers_core::request::pattern::{Method, Seg};
use layers_core::request::router::{Routed, Router};

#[path = "data/github_routes.rs"]
mod github_routes;

use github_routes::{segments, PATHS, TEMPLATES};

fn bench(c: &mut Criterion) {
    let patterns: Vec<Vec<Seg>> = TEMPLATES.iter().map(|t| segments(t)).collect();
    let layers = Router::new(patterns.iter().map(|p| (Method::Get, p.as_slice()))).unwrap();
    let mut matchit = matchit::Router::new();
    for (i, t) in TEMPLATES.iter().enumerate() {
        matchit.insert(*t, i).unwrap();
    }
    let paths: Vec<&str> = PATHS.to_vec();

    let mut group = c.benchmark_group("router");
    group.bench_function("layers", |b| {
        b.iter(|| {
            for path in black_box(&paths) {
                let Routed::Found { index, params, rest, .. } = layers.route(Some(Method::Get), path) else {
                    panic!("{path} not found");
                };
                black_box((index, rest));
                for v in params {
                    black_box(v);
                }
            }
        });
    });
    group.bench_function("matchit", |b| {
        b.iter(|| {
            for path in black_box(&paths) {
                let m = matchit.at(path).unwrap();
                black_box(*m.value);
                for (_, v) in m.params.iter() {
                    black_box(v);
                }
            }
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
