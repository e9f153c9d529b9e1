//! The client: one request over a fresh loopback connection, written by hand (HTTP/1.1,
//! `Connection: close`) so the path reaches the Worker byte for byte — no client-side
//! normalization of `//`, `%2f` or dot segments, which is what a path test needs.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::Duration;

/// What went over the wire.
pub(crate) struct Raw {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

/// Sends one request to 127.0.0.1:`port`. Nothing else is ever a destination.
pub(crate) fn send(
    port: u16,
    method: &str,
    target: &str,
    headers: &[(String, String)],
    body: Option<&[u8]>,
) -> std::io::Result<Raw> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut req = format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    for (k, v) in headers {
        if k.contains(['\r', '\n', ':']) || v.contains(['\r', '\n']) {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("header {k:?} is not one line")));
        }
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(b) = body {
        req.push_str(&format!("Content-Length: {}\r\n", b.len()));
    }
    req.push_str("\r\n");
    let mut wire = req.into_bytes();
    if let Some(b) = body {
        wire.extend_from_slice(b);
    }
    s.write_all(&wire)?;
    // workerd may keep the connection open despite `Connection: close`: the response is framed
    // by its own headers rather than by EOF.
    let mut raw = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    let (split, status, headers) = loop {
        let n = s.read(&mut buf)?;
        if n == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "closed before the response head"));
        }
        raw.extend_from_slice(&buf[..n]);
        if let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = crate::support::ResponseHead::parse(&raw[..split])?;
            let (status, headers) = (head.status, head.headers);
            break (split, status, headers);
        }
    };
    let find = |name: &str| headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone());
    let chunked = find("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let length: Option<usize> = find("content-length").and_then(|v| v.parse().ok());
    let no_body = method == "HEAD" || status == 204 || status == 304 || (100..200).contains(&status);
    loop {
        let body = &raw[split + 4..];
        let complete = no_body || length.is_some_and(|l| body.len() >= l) || (chunked && chunked_complete(body));
        if complete {
            break;
        }
        let n = s.read(&mut buf)?;
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
    }
    let mut body = raw[split + 4..].to_vec();
    if no_body {
        body.clear();
    } else if chunked {
        body = crate::support::dechunk(&body);
    } else if let Some(l) = length {
        body.truncate(l);
    }
    Ok(Raw { status, headers, body })
}

/// Whether a chunked body has its last (zero-size) chunk and the blank line after it.
fn chunked_complete(mut b: &[u8]) -> bool {
    while let Some(nl) = b.windows(2).position(|w| w == b"\r\n") {
        let line = std::str::from_utf8(&b[..nl]).unwrap_or("x");
        let Ok(size) = usize::from_str_radix(line.split(';').next().unwrap_or("x").trim(), 16) else {
            return false;
        };
        if size == 0 {
            return b[nl + 2..].windows(2).any(|w| w == b"\r\n");
        }
        let next = nl + 2 + size + 2;
        if b.len() < next {
            return false;
        }
        b = &b[next..];
    }
    false
}

#[cfg(test)]
mod tests {
    use super::chunked_complete;
    use crate::support::dechunk;

    #[test]
    fn chunked_bodies() {
        let b = b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
        assert!(chunked_complete(b));
        assert!(!chunked_complete(&b[..b.len() - 2]));
        assert!(!chunked_complete(b"5\r\nhel"));
        assert_eq!(dechunk(b), b"hello world");
    }
}
