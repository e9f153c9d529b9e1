//! The stubs' bits of HTTP: answers, form decoding.

use std::io::Write;
use std::net::TcpStream;

pub(crate) fn decode(s: &str) -> String {
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

pub(crate) fn form(body: &str) -> Vec<(String, String)> {
    body.split('&').filter_map(|p| p.split_once('=').map(|(k, v)| (decode(k), decode(v)))).collect()
}

pub(crate) fn respond(s: &mut TcpStream, status: &str, ctype: &str, body: &str) {
    let _ = write!(
        s,
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// A `GET` of `path` on `base` (`http://127.0.0.1:PORT`, loopback only): the status and the body
/// (`Content-Length` or chunked). For the STS fetching the Worker's published keys.
pub(crate) fn get(base: &str, path: &str) -> Result<(u16, String), String> {
    use std::io::{BufRead as _, BufReader, Read as _};
    let authority = base.strip_prefix("http://").ok_or("the issuer base is not http://")?.trim_end_matches('/');
    if !authority.starts_with("127.0.0.1:") && !authority.starts_with("localhost:") {
        return Err("the issuer base is not on loopback".into());
    }
    let mut s = TcpStream::connect(authority).map_err(|e| format!("connect {authority}: {e}"))?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(10))).map_err(|e| e.to_string())?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: {authority}\r\nAccept: application/json\r\nConnection: close\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut r = BufReader::new(s);
    let mut line = String::new();
    r.read_line(&mut line).map_err(|e| e.to_string())?;
    let status: u16 = line.split_whitespace().nth(1).and_then(|c| c.parse().ok()).ok_or("no status line")?;
    let (mut len, mut chunked) = (None, false);
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).map_err(|e| e.to_string())? == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().to_ascii_lowercase());
            if k == "content-length" {
                len = v.parse::<usize>().ok();
            } else if k == "transfer-encoding" && v.contains("chunked") {
                chunked = true;
            }
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            let mut size = String::new();
            r.read_line(&mut size).map_err(|e| e.to_string())?;
            let n = usize::from_str_radix(size.trim().split(';').next().unwrap_or(""), 16).map_err(|_| "bad chunk")?;
            if n == 0 {
                break;
            }
            let mut chunk = vec![0u8; n + 2];
            r.read_exact(&mut chunk).map_err(|e| e.to_string())?;
            body.extend_from_slice(&chunk[..n]);
        }
    } else if let Some(n) = len {
        body.resize(n.min(1 << 20), 0);
        r.read_exact(&mut body).map_err(|e| e.to_string())?;
    } else {
        r.take(1 << 20).read_to_end(&mut body).map_err(|e| e.to_string())?;
    }
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}
