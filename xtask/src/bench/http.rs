//! One HTTP GET over loopback, with or without an Access token: how the bench checks the
//! Workers' answers (and how [`crate::plain`] and [`crate::cold`] wait for workerd).

use crate::util::Result;

/// One request; `(status, body)`.
pub(crate) fn get(port: u16, path: &str, token: Option<&str>) -> Result<(u16, String)> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect to {port}: {e}"))?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(30))).map_err(|e| e.to_string())?;
    let auth = token.map(|t| format!("cf-access-jwt-assertion: {t}\r\n")).unwrap_or_default();
    write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{auth}Connection: close\r\n\r\n")
        .map_err(|e| format!("GET {path}: {e}"))?;
    // workerd keeps a connection open for a while despite `Connection: close`: the answer is
    // framed by its own `content-length` or chunked ending, never by waiting for EOF.
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    let complete = |raw: &[u8]| -> bool {
        let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") else { return false };
        let head = String::from_utf8_lossy(&raw[..i]).to_ascii_lowercase();
        let body = &raw[i + 4..];
        if head.contains("transfer-encoding: chunked") {
            return body.ends_with(b"0\r\n\r\n");
        }
        match head.lines().find_map(|l| l.strip_prefix("content-length:")).and_then(|v| v.trim().parse::<usize>().ok())
        {
            Some(n) => body.len() >= n,
            None => false,
        }
    };
    while !complete(&raw) {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| format!("GET {path}: no status"))?;
    let head_end = text.find("\r\n\r\n").map_or(text.len(), |i| i + 4);
    let mut body = text[head_end..].to_owned();
    if text[..head_end].to_ascii_lowercase().contains("transfer-encoding: chunked") {
        // One chunk is all these routes send: drop the size line.
        body = body.split_once("\r\n").map(|(_, b)| b.split("\r\n").next().unwrap_or("").to_owned()).unwrap_or(body);
    }
    Ok((status, body))
}
