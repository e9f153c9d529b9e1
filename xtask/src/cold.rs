//! Cold starts: a new `workerd serve` process per sample (see [`crate::plain`]), so every first
//! request meets a fresh isolate. Measured per sample:
//!
//! - **startup**: from spawning workerd to its socket accepting a connection (workerd loads the
//!   Worker — the JavaScript glue, the wasm module's compilation and instantiation — before it
//!   listens);
//! - **first response**: from then to the complete answer of the first request (the first use of
//!   everything the Worker builds lazily: its router, its statics, the route's code paths).
//!
//! `cargo xtask bench` reports the medians per Worker and layers ÷ hand-written.

use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::plain::{Module, Plain};
use crate::util::Result;
use crate::Ctx;

/// One cold start.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ColdStart {
    /// Spawn → the socket accepts, ms.
    pub(crate) startup_ms: f64,
    /// Socket accepting → the first request answered, ms.
    pub(crate) first_ms: f64,
}

impl ColdStart {
    pub(crate) fn total_ms(self) -> f64 {
        self.startup_ms + self.first_ms
    }
}

/// `samples` cold starts of the Worker made of `modules`, each answering `GET path` with 200.
pub(crate) fn measure(
    ctx: &Ctx,
    dir: &Path,
    modules: &[Module<'_>],
    vars: &[(&str, &str)],
    path: &str,
    samples: usize,
) -> Result<Vec<ColdStart>> {
    let mut out = Vec::with_capacity(samples);
    for _ in 0..samples {
        let t0 = Instant::now();
        let mut server = Plain::spawn(ctx, dir, modules, vars)?;
        let deadline = t0 + Duration::from_secs(30);
        // Connect only (a connection sends no request: the isolate meets its first one below).
        loop {
            server.exited()?;
            if TcpStream::connect_timeout(&([127, 0, 0, 1], server.port).into(), Duration::from_millis(200)).is_ok() {
                break;
            }
            if Instant::now() > deadline {
                return Err(format!("workerd did not listen within 30 s ({})", dir.display()));
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        let t1 = Instant::now();
        let (status, body) = crate::bench::http::get(server.port, path, None)?;
        let t2 = Instant::now();
        server.stop();
        if status != 200 {
            return Err(format!("cold start of {}: GET {path} answered {status} {body:?}", dir.display()));
        }
        out.push(ColdStart { startup_ms: (t1 - t0).as_secs_f64() * 1e3, first_ms: (t2 - t1).as_secs_f64() * 1e3 });
    }
    Ok(out)
}
