-- The table the benchmark's D1 route reads: one migration shared by all three benchmark Workers.
CREATE TABLE IF NOT EXISTS posts (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL
);

INSERT INTO posts (id, title) VALUES
    (1, 'Hello, layers'),
    (2, 'Identity before storage'),
    (3, 'Routing in one table'),
    (4, 'Benchmarks on loopback'),
    (5, 'Cold starts and wasm size');
