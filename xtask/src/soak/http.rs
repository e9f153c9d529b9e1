//! A client thread's HTTP/1.1 connection to the app ([`Conn`]): one request at a time over a
//! kept-alive (or fresh) loopback connection, each response read to its framed end.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// Per-request socket timeouts: a request still unanswered after this counts as an error.
const IO_TIMEOUT: Duration = Duration::from_secs(30);

/// One response: its status and body.
pub(super) struct Reply {
    pub(super) status: u16,
    pub(super) body: Vec<u8>,
    /// `x-layers-wasm-memory`: the Worker's linear memory in bytes (test builds only).
    pub(super) wasm_memory: Option<u64>,
}

/// A client thread's connection to the app: one kept-alive TCP connection, opened on first use
/// and again after the server closed it, or (`fresh`) a new connection for every request.
pub(super) struct Conn {
    addr: SocketAddr,
    fresh: bool,
    stream: Option<TcpStream>,
}

impl Conn {
    pub(super) fn new(addr: SocketAddr, fresh: bool) -> Conn {
        Conn { addr, fresh, stream: None }
    }

    /// One HTTP/1.1 request; the response is framed by its `content-length` or chunked
    /// encoding. A failure is never retried (a write whose response was lost must count as
    /// lost, not be sent twice); the connection is dropped with it.
    pub(super) fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> std::io::Result<Reply> {
        let mut s = match self.stream.take() {
            Some(s) => s,
            None => {
                let s = TcpStream::connect_timeout(&self.addr, IO_TIMEOUT)?;
                s.set_read_timeout(Some(IO_TIMEOUT))?;
                s.set_write_timeout(Some(IO_TIMEOUT))?;
                s.set_nodelay(true)?;
                s
            }
        };
        let connection = if self.fresh { "close" } else { "keep-alive" };
        let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: {connection}\r\n", self.addr);
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        let body = body.unwrap_or("");
        if method != "GET" {
            req.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        req.push_str("\r\n");
        req.push_str(body);
        s.write_all(req.as_bytes())?;
        let (reply, reusable) = read_reply(&mut s, method)?;
        if reusable && !self.fresh {
            self.stream = Some(s);
        }
        Ok(reply)
    }
}

/// Reads one response from `s`; also says whether the connection can carry another request
/// (the response was framed by length, not by EOF, and did not say `connection: close`).
fn read_reply(s: &mut TcpStream, method: &str) -> std::io::Result<(Reply, bool)> {
    let eof = || std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "connection closed mid-response");
    let mut raw = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    let split = loop {
        let n = s.read(&mut buf)?;
        if n == 0 {
            return Err(eof());
        }
        raw.extend_from_slice(&buf[..n]);
        if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
    };
    let head = layers_test::support::ResponseHead::parse(&raw[..split])?;
    let status = head.status;
    let header = |name: &str| head.header(name).map(str::to_owned);
    let chunked = header("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let length: Option<usize> = header("content-length").and_then(|v| v.parse().ok());
    let no_body = method == "HEAD" || status == 204 || status == 304 || length == Some(0);
    let wasm_memory = header("x-layers-wasm-memory").and_then(|v| v.parse().ok());
    let mut reusable = (no_body || chunked || length.is_some())
        && !header("connection").is_some_and(|v| v.eq_ignore_ascii_case("close"));
    let mut body = raw.split_off(split + 4);
    let complete =
        |body: &[u8]| no_body || length.is_some_and(|l| body.len() >= l) || (chunked && body.ends_with(b"0\r\n\r\n"));
    while !complete(&body) {
        let n = s.read(&mut buf)?;
        if n == 0 {
            if length.is_none() && !chunked {
                reusable = false;
                break; // framed by EOF
            }
            return Err(eof());
        }
        body.extend_from_slice(&buf[..n]);
    }
    if no_body {
        body.clear();
    } else if chunked {
        body = layers_test::support::dechunk(&body);
    } else if let Some(l) = length {
        // Bytes past the declared length would be a second response nobody asked for.
        reusable &= body.len() == l;
        body.truncate(l);
    }
    Ok((Reply { status, body, wasm_memory }, reusable))
}
