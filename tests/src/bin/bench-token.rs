//! Mints a Cloudflare Access-style JWT for the workerd benchmark (`bench/`), signed with a test
//! fixture key, and prints it on stdout (one line).
//!
//! `bench-token --team TEAM --aud AUD --email EMAIL [--ttl SECS] [--key a|b]`
//!
//! - `--team`: the team domain (`bench.cloudflareaccess.com`, with or without `https://`); the
//!   token's `iss` is `https://<team>`.
//! - `--aud`: the application AUD tag (the token's `aud` is `[AUD]`).
//! - `--email`: the user's email.
//! - `--ttl`: seconds until `exp` (default 3600; negative for an expired token); `iat` and `nbf`
//!   are 5 s in the past.
//! - `--key`: fixture key `a` (default) or `b` of `tests/fixtures/access/`; the header's `kid`
//!   is the one `jwks-<key>.json` publishes, so the `layers-stubs` JWKS (mode `a`, its default)
//!   verifies a token of key `a`.
//!
//! Test keys only: a token minted here is trusted by nothing but a Worker pointed at the stubs.

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use jwt_compact::alg::Rsa;
use jwt_compact::{AlgorithmExt as _, Claims, Header};
use rsa::pkcs8::DecodePrivateKey as _;

const USAGE: &str = "usage: bench-token --team TEAM --aud AUD --email EMAIL [--ttl SECS] [--key a|b]";

fn main() -> ExitCode {
    match run() {
        Ok(token) => {
            println!("{token}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bench-token: {e}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<String, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut team = None;
    let mut aud = None;
    let mut email = None;
    let mut ttl: i64 = 3600;
    let mut key = "a".to_owned();
    for pair in args.chunks(2) {
        let [flag, v] = pair else {
            return Err(format!("{} needs a value", pair[0]));
        };
        let v = v.clone();
        match flag.as_str() {
            "--team" => team = Some(v),
            "--aud" => aud = Some(v),
            "--email" => email = Some(v),
            "--ttl" => ttl = v.parse().map_err(|_| format!("--ttl {v:?} is not a number of seconds"))?,
            "--key" if v == "a" || v == "b" => key = v,
            "--key" => return Err(format!("--key {v:?}: the fixture keys are a and b")),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let (Some(team), Some(aud), Some(email)) = (team, aud, email) else {
        return Err("--team, --aud and --email are required".into());
    };
    let host = team.trim().trim_start_matches("https://").trim_end_matches('/').to_ascii_lowercase();
    if host.is_empty() || aud.is_empty() || email.is_empty() {
        return Err("--team, --aud and --email must not be empty".into());
    }

    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures").join("access");
    let pem_path = dir.join(format!("key-{key}.pem"));
    let pem = std::fs::read_to_string(&pem_path).map_err(|e| format!("cannot read {}: {e}", pem_path.display()))?;
    let sk = rsa::RsaPrivateKey::from_pkcs8_pem(&pem).map_err(|e| format!("{}: {e}", pem_path.display()))?;
    let jwks_path = dir.join(format!("jwks-{key}.json"));
    let jwks: serde_json::Value = std::fs::read_to_string(&jwks_path)
        .map_err(|e| format!("cannot read {}: {e}", jwks_path.display()))
        .and_then(|s| serde_json::from_str(&s).map_err(|e| format!("{}: {e}", jwks_path.display())))?;
    let kid = jwks["keys"][0]["kid"].as_str().ok_or_else(|| format!("{} has no keys[0].kid", jwks_path.display()))?;

    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_err(|e| format!("clock: {e}"))?.as_secs();
    let now = i64::try_from(now).map_err(|_| "clock out of range".to_owned())?;
    let claims = serde_json::json!({
        "aud": [aud],
        "email": email,
        "exp": now.saturating_add(ttl),
        "iat": now - 5,
        "nbf": now - 5,
        "iss": format!("https://{host}"),
        "type": "app",
        "identity_nonce": "bench",
        "sub": "7335d417-61da-459d-899c-0a01c76a2e94",
        "country": "GB",
    });
    Rsa::rs256()
        .token(&Header::empty().with_key_id(kid), &Claims::new(claims), &sk)
        .map_err(|e| format!("signing failed: {e}"))
}
