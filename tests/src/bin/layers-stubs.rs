//! Loopback stand-ins for the services the identity layer calls, for the end-to-end tests:
//! a Cloudflare Access JWKS endpoint (switchable keys, can go down) and Turnstile's siteverify.
//!
//! `layers-stubs --jwks-dir DIR --turnstile-secret S` binds 127.0.0.1 on a free port, prints
//! `listening on 127.0.0.1:PORT`, and serves until killed:
//! - `GET /cdn-cgi/access/certs` — the JWKS file `DIR/jwks-<mode>.json` for the current mode
//!   (`a`, `b`, `ab`), or garbage (`garbage`), or a dropped connection (`down`).
//! - `POST /__control/jwks` with body `a|b|ab|garbage|down` — switches the mode.
//! - `GET /__control/count` — how many times the certs were fetched.
//! - `POST /turnstile/v0/siteverify` — form `secret`, `response`: `pass…` succeeds once (a
//!   second use answers `timeout-or-duplicate`, as Turnstile's tokens are single-use),
//!   `fail…` answers `invalid-input-response`, `spent…` answers `timeout-or-duplicate`, and a
//!   wrong secret `invalid-input-secret`.

#![forbid(unsafe_code)]

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

struct State {
    jwks_dir: PathBuf,
    mode: String,
    fetches: u64,
    turnstile_secret: String,
    spent: HashSet<String>,
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                    out.push(v);
                    i += 2;
                } else {
                    out.push(b'%');
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn form(body: &str) -> Vec<(String, String)> {
    body.split('&').filter_map(|p| p.split_once('=').map(|(k, v)| (decode(k), decode(v)))).collect()
}

fn respond(s: &mut TcpStream, status: &str, ctype: &str, body: &str) {
    let _ = write!(
        s,
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

fn handle(mut s: TcpStream, state: &Arc<Mutex<State>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(s.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or("").to_owned(), parts.next().unwrap_or("").to_owned());
    let mut len = 0usize;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.trim().eq_ignore_ascii_case("content-length") {
                len = v.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0u8; len.min(1 << 20)];
    reader.read_exact(&mut body)?;
    let body = String::from_utf8_lossy(&body).into_owned();
    let mut st = state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    match (method.as_str(), path.split('?').next().unwrap_or("")) {
        ("GET", "/cdn-cgi/access/certs") => {
            st.fetches += 1;
            match st.mode.as_str() {
                "down" => return Ok(()), // drop the connection without answering
                "garbage" => respond(&mut s, "200 OK", "application/json", "{\"keys\": not json"),
                m => match std::fs::read_to_string(st.jwks_dir.join(format!("jwks-{m}.json"))) {
                    Ok(doc) => respond(&mut s, "200 OK", "application/json", &doc),
                    Err(e) => respond(&mut s, "500 Internal Server Error", "text/plain", &e.to_string()),
                },
            }
        }
        ("POST", "/__control/jwks") => {
            let mode = body.trim().to_owned();
            if ["a", "b", "ab", "garbage", "down"].contains(&mode.as_str()) {
                st.mode = mode;
                respond(&mut s, "200 OK", "text/plain", "ok");
            } else {
                respond(&mut s, "400 Bad Request", "text/plain", "mode must be a, b, ab, garbage or down");
            }
        }
        ("GET", "/__control/count") => {
            let n = st.fetches.to_string();
            respond(&mut s, "200 OK", "text/plain", &n);
        }
        ("POST", "/turnstile/v0/siteverify") => {
            let f = form(&body);
            let get = |k: &str| f.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
            let (secret, token) = (get("secret"), get("response"));
            let fail = |code: &str| format!("{{\"success\":false,\"error-codes\":[\"{code}\"]}}");
            let out = if secret != st.turnstile_secret {
                fail("invalid-input-secret")
            } else if token.is_empty() {
                fail("missing-input-response")
            } else if token.starts_with("spent") || st.spent.contains(&token) {
                fail("timeout-or-duplicate")
            } else if token.starts_with("pass") {
                st.spent.insert(token.clone());
                "{\"success\":true,\"error-codes\":[],\"challenge_ts\":\"2026-11-28T00:00:00.000Z\",\"hostname\":\"layers.test\",\"action\":\"contact\",\"cdata\":\"\"}".to_owned()
            } else {
                fail("invalid-input-response")
            };
            respond(&mut s, "200 OK", "application/json", &out);
        }
        _ => respond(&mut s, "404 Not Found", "text/plain", "no such stub"),
    }
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let (Some(jwks_dir), Some(turnstile_secret)) = (arg("--jwks-dir"), arg("--turnstile-secret")) else {
        eprintln!("usage: layers-stubs --jwks-dir DIR --turnstile-secret SECRET");
        std::process::exit(2);
    };
    let listener = match TcpListener::bind("127.0.0.1:0") {
        Ok(l) => l,
        Err(e) => {
            eprintln!("layers-stubs: cannot bind 127.0.0.1: {e}");
            std::process::exit(1);
        }
    };
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    println!("listening on 127.0.0.1:{port}");
    let _ = std::io::stdout().flush();
    let state = Arc::new(Mutex::new(State {
        jwks_dir: PathBuf::from(jwks_dir),
        mode: "a".into(),
        fetches: 0,
        turnstile_secret,
        spent: HashSet::new(),
    }));
    for conn in listener.incoming().flatten() {
        let state = Arc::clone(&state);
        std::thread::spawn(move || {
            let _ = handle(conn, &state);
        });
    }
}
