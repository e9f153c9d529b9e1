//! What `cargo xtask bench` loads: the Workers of `bench/` ([`WORKERS`]) and the routes they
//! all answer ([`ROUTES`]), and which of those a run loads under `wrangler dev` and in plain
//! workerd.

use super::Options;

/// One Worker under load: a `bench/` directory served with extra vars.
pub(super) struct Worker {
    /// Names its state, env and log files; [`wi`] finds it by this.
    pub(super) key: &'static str,
    /// How the report names it.
    pub(super) label: &'static str,
    /// Its directory under `bench/`.
    pub(super) dir: &'static str,
    /// Extra lines for its env file.
    pub(super) vars: &'static str,
}

/// The three Workers, layers a second time with `LAYERS_LOG=errors` and the hand-written one a
/// second time with `HAND_LOG=wide` (the same wasms): layers' default log event is compared
/// with a hand-written Worker writing one comparable JSON line per request, and what logging
/// costs is a figure of its own.
pub(super) const WORKERS: [Worker; 5] = [
    Worker { key: "layers", label: "layers", dir: "layers-worker", vars: "" },
    Worker {
        key: "layers-quiet",
        label: "layers, LAYERS_LOG=errors",
        dir: "layers-worker",
        vars: "LAYERS_LOG=errors\n",
    },
    Worker { key: "hand", label: "hand-written workers-rs", dir: "hand-worker", vars: "" },
    Worker {
        key: "hand-log",
        label: "hand-written, one JSON line per request",
        dir: "hand-worker",
        vars: "HAND_LOG=wide\n",
    },
    Worker { key: "hono", label: "Hono", dir: "hono-worker", vars: "" },
];

/// The index of `key` in [`WORKERS`].
pub(super) fn wi(key: &str) -> usize {
    WORKERS.iter().position(|w| w.key == key).unwrap_or(0)
}

/// One benchmark route: path, whether it needs the Access token, the expected body prefix.
pub(super) struct BenchRoute {
    pub(super) label: &'static str,
    pub(super) path: &'static str,
    pub(super) token: bool,
    pub(super) body: &'static str,
}

/// Every route, each answered alike by every Worker.
pub(super) const ROUTES: [BenchRoute; 4] = [
    BenchRoute { label: "public hello", path: "/hello", token: false, body: "hello\n" },
    BenchRoute { label: "Access-JWT hello", path: "/access/hello", token: true, body: "hello bench@example.com\n" },
    // layers with its verified-token cache off (`VERIFIED_TOKENS = 0`): every request pays a
    // first-time verification; the same route in the other Workers (which never remember).
    BenchRoute {
        label: "Access-JWT hello, layers' token cache off",
        path: "/access-uncached/hello",
        token: true,
        body: "hello bench@example.com\n",
    },
    BenchRoute { label: "Access-JWT + D1 read", path: "/access/posts/2", token: true, body: "{\"id\":2,\"title\":" },
];

/// The routes measured in plain workerd (no local D1 there): public hello and the two Access
/// hellos.
pub(super) const PLAIN_ROUTES: usize = 3;

/// The routes loaded under `wrangler dev`: all of them, or in a smoke run only the one that
/// crosses all three layers (Access, then D1). Every route's answers are checked either way.
pub(super) fn load_routes(opts: &Options) -> &'static [BenchRoute] {
    if opts.smoke {
        &ROUTES[3..]
    } else {
        &ROUTES
    }
}

/// The routes loaded in plain workerd: [`PLAIN_ROUTES`], or in a smoke run only the Access
/// route that verifies every token in full.
pub(super) fn plain_routes(opts: &Options) -> &'static [BenchRoute] {
    if opts.smoke {
        &ROUTES[2..PLAIN_ROUTES]
    } else {
        &ROUTES[..PLAIN_ROUTES]
    }
}
