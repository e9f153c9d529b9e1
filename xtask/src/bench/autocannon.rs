//! The load generator: one autocannon run (`bench/load/`) against a Worker on loopback, and
//! what it measured ([`Load`]).

use std::path::Path;
use std::process::{Command, Stdio};

use super::workers::BenchRoute;
use super::Options;
use crate::util::Result;

/// One autocannon run.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Load {
    /// Requests per second (autocannon's average).
    pub(super) rps: f64,
    /// Median latency.
    pub(super) p50_ms: f64,
    /// 99th-percentile latency.
    pub(super) p99_ms: f64,
    /// Requests answered.
    pub(super) requests: u64,
    /// Responses not 2xx, errors and timeouts.
    pub(super) bad: u64,
}

/// One load run: `opts.seconds` of `opts.connections` connections on `r`.
pub(super) fn autocannon(cannon: &Path, port: u16, r: &BenchRoute, token: &str, opts: &Options) -> Result<Load> {
    let mut cmd = Command::new(cannon);
    cmd.args(["--json", "--connections", &opts.connections.to_string(), "--duration", &opts.seconds.to_string()]);
    if r.token {
        cmd.arg("--headers").arg(format!("cf-access-jwt-assertion={token}"));
    }
    cmd.arg(format!("http://127.0.0.1:{port}{}", r.path)).stdin(Stdio::null()).stderr(Stdio::null());
    // The token is an argument here: say so instead of printing it.
    let shown = format!(
        "autocannon --json --connections {} --duration {} {}http://127.0.0.1:{port}{}",
        opts.connections,
        opts.seconds,
        if r.token { "--headers cf-access-jwt-assertion=<token> " } else { "" },
        r.path
    );
    let out = cmd.output().map_err(|e| format!("{shown}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{shown} failed ({})", out.status));
    }
    parse_autocannon(&String::from_utf8_lossy(&out.stdout)).map_err(|e| format!("{shown}: {e}"))
}

/// A [`Load`] from autocannon's `--json` output.
fn parse_autocannon(json: &str) -> Result<Load> {
    let v: serde_json::Value = serde_json::from_str(json.trim()).map_err(|e| format!("output is not JSON: {e}"))?;
    let num = |path: &[&str]| -> Result<f64> {
        let mut x = &v;
        for p in path {
            x = &x[*p];
        }
        x.as_f64().ok_or_else(|| format!("no `{}` in autocannon's output", path.join(".")))
    };
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let count = |path: &[&str]| num(path).map(|n| n as u64);
    Ok(Load {
        rps: num(&["requests", "average"])?,
        p50_ms: num(&["latency", "p50"])?,
        p99_ms: num(&["latency", "p99"])?,
        requests: count(&["requests", "total"])?,
        bad: count(&["non2xx"])? + count(&["errors"])? + count(&["timeouts"])?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn autocannon_json() {
        let j = r#"{"requests":{"average":1234.5,"total":12345},"latency":{"p50":3,"p99":9.5},"non2xx":0,"errors":1,"timeouts":0}"#;
        let l = parse_autocannon(j).unwrap();
        assert!((l.rps - 1234.5).abs() < 1e-9 && l.requests == 12345 && l.bad == 1 && (l.p99_ms - 9.5).abs() < 1e-9);
        assert!(parse_autocannon("{}").is_err());
        assert!(parse_autocannon("not json").is_err());
    }
}
