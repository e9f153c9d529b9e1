//! The loopback server the Worker's outbound identity calls reach instead of Cloudflare: the
//! Access JWKS (the harness's public key) and Turnstile's siteverify (tokens the harness handed
//! out). It binds 127.0.0.1 on a free port and lives as long as the test process.

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::Error;

/// Where the JWKS is served.
pub(crate) const CERTS_PATH: &str = "/cdn-cgi/access/certs";
/// Where siteverify is served.
pub(crate) const SITEVERIFY_PATH: &str = "/turnstile/v0/siteverify";

/// What a Turnstile token the harness handed out makes siteverify answer.
#[derive(Debug, Clone)]
pub(crate) struct Pass {
    pub(crate) action: Option<String>,
    pub(crate) hostname: String,
}

#[derive(Default)]
struct State {
    jwks: String,
    turnstile_secret: String,
    /// Tokens that pass once.
    passes: HashMap<String, Pass>,
    /// Tokens used once already (answered `timeout-or-duplicate`).
    spent: HashSet<String>,
    jwks_fetches: u64,
    siteverify_calls: u64,
}

/// The running stub server.
#[derive(Clone)]
pub(crate) struct Stub {
    pub(crate) port: u16,
    state: Arc<Mutex<State>>,
}

impl Stub {
    pub(crate) fn start(jwks: String, turnstile_secret: String) -> Result<Stub, Error> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .map_err(|e| Error::new(format!("cannot bind the identity stub on 127.0.0.1: {e}")))?;
        let port = listener.local_addr().map_err(|e| Error::new(format!("stub address: {e}")))?.port();
        let state = Arc::new(Mutex::new(State { jwks, turnstile_secret, ..State::default() }));
        let shared = Arc::clone(&state);
        std::thread::Builder::new()
            .name("layers-test-stub".into())
            .spawn(move || {
                for stream in listener.incoming().flatten() {
                    let state = Arc::clone(&shared);
                    let _ = std::thread::Builder::new().spawn(move || serve(stream, &state));
                }
            })
            .map_err(|e| Error::new(format!("cannot start the stub thread: {e}")))?;
        Ok(Stub { port, state })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Registers a token that siteverify accepts once.
    pub(crate) fn add_pass(&self, token: &str, pass: Pass) {
        self.lock().passes.insert(token.to_owned(), pass);
    }

    /// How many times the Worker fetched the JWKS.
    pub(crate) fn jwks_fetches(&self) -> u64 {
        self.lock().jwks_fetches
    }

    /// How many times the Worker called siteverify.
    pub(crate) fn siteverify_calls(&self) -> u64 {
        self.lock().siteverify_calls
    }
}

fn serve(mut s: TcpStream, state: &Mutex<State>) {
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    let Some((head, body)) = read_request(&mut s) else { return };
    let line = head.lines().next().unwrap_or_default().to_owned();
    let mut parts = line.split(' ');
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    let (status, body) = match (method, path) {
        ("GET", CERTS_PATH) => {
            let mut st = state.lock().unwrap_or_else(PoisonError::into_inner);
            st.jwks_fetches += 1;
            (200, st.jwks.clone())
        }
        ("POST", SITEVERIFY_PATH) => (200, siteverify(state, &body).to_string()),
        _ => (404, "{}".to_owned()),
    };
    let reason = if status == 200 { "OK" } else { "Not Found" };
    let _ = write!(
        s,
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// siteverify: a wrong secret is `invalid-input-secret`; a token the harness handed out as a
/// pass succeeds once, then `timeout-or-duplicate`; anything else `invalid-input-response`.
fn siteverify(state: &Mutex<State>, body: &[u8]) -> serde_json::Value {
    let form: Vec<(String, String)> = layers_core::request::parse_query(&String::from_utf8_lossy(body));
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str()).unwrap_or_default();
    let mut st = state.lock().unwrap_or_else(PoisonError::into_inner);
    st.siteverify_calls += 1;
    let fail = |code: &str| serde_json::json!({ "success": false, "error-codes": [code] });
    if get("secret") != st.turnstile_secret {
        return fail("invalid-input-secret");
    }
    let token = get("response").to_owned();
    if let Some(pass) = st.passes.remove(&token) {
        st.spent.insert(token);
        let ts = layers_core::time::iso8601(i64::try_from(crate::now()).unwrap_or(0));
        let mut v = serde_json::json!({
            "success": true, "error-codes": [], "hostname": pass.hostname, "challenge_ts": ts,
        });
        if let Some(action) = pass.action {
            v["action"] = action.into();
        }
        return v;
    }
    if st.spent.contains(&token) {
        return fail("timeout-or-duplicate");
    }
    fail("invalid-input-response")
}

/// One HTTP/1.1 request: its head (as text) and its body (by `content-length`).
fn read_request(s: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    let split = loop {
        let n = s.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        raw.extend_from_slice(&buf[..n]);
        if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if raw.len() > 64 * 1024 {
            return None;
        }
    };
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let length: usize = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0)
        .min(1024 * 1024);
    let mut body = raw[split + 4..].to_vec();
    while body.len() < length {
        let n = s.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&buf[..n]);
    }
    body.truncate(length);
    Some((head, body))
}
