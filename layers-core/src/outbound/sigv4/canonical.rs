//! The canonical request's parts: where a URL sends a request, and the canonical URI, query
//! string and headers.

use super::SignError;
use crate::outbound::percent_encode_into;

/// Longest URL signed.
pub(super) const MAX_URL_LEN: usize = 8192;

/// Where a URL sends a request: `Host` (with the port unless it is the scheme's default) and
/// the path and query as `fetch` serializes them (WHATWG, like the runtime).
pub(super) struct Target {
    pub(super) host: String,
    pub(super) path: String,
    pub(super) query: String,
}

impl Target {
    pub(super) fn of(url: &str) -> Result<Target, SignError> {
        if url.len() > MAX_URL_LEN || url.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err(SignError::NotAUrl);
        }
        let u = worker::Url::parse(url).map_err(|_| SignError::NotAUrl)?;
        let host = u.host_str().filter(|h| !h.is_empty()).ok_or(SignError::NotAUrl)?;
        if !u.username().is_empty() || u.password().is_some() {
            return Err(SignError::NotAUrl);
        }
        match u.scheme() {
            "https" => {}
            "http" if matches!(host, "127.0.0.1" | "localhost" | "[::1]") => {}
            "http" => return Err(SignError::InsecureUrl),
            _ => return Err(SignError::NotAUrl),
        }
        let host = match u.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        Ok(Target { host, path: u.path().to_owned(), query: u.query().unwrap_or_default().to_owned() })
    }
}

/// The canonical headers (`name:value\n` each, sorted by name, values of a repeated name
/// joined by commas) and the signed header names (`a;b;c`), `host` among them.
pub(super) fn canonical_headers(host: &str, headers: &[(String, String)]) -> Result<(String, String), SignError> {
    let mut all: Vec<(String, String)> = Vec::with_capacity(headers.len() + 1);
    all.push(("host".into(), normalize_value(host).ok_or(SignError::NotAUrl)?));
    for (name, value) in headers {
        if !is_token(name) {
            return Err(SignError::BadHeaderName);
        }
        let name = name.to_ascii_lowercase();
        if name == "host" {
            return Err(SignError::HostHeader);
        }
        let value = normalize_value(value).ok_or_else(|| SignError::BadHeaderValue { name: name.clone() })?;
        all.push((name, value));
    }
    // Stable: the values of a repeated name keep their order.
    all.sort_by(|a, b| a.0.cmp(&b.0));
    let mut merged: Vec<(String, String)> = Vec::with_capacity(all.len());
    for (name, value) in all {
        match merged.last_mut() {
            Some((last, joined)) if *last == name => {
                joined.push(',');
                joined.push_str(&value);
            }
            _ => merged.push((name, value)),
        }
    }
    let lines = merged.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
    let names = merged.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(";");
    Ok((lines, names))
}

/// A header value trimmed, its runs of spaces made one; `None` with a control or non-ASCII
/// character (tab included: `fetch` and AWS may not treat it alike).
fn normalize_value(v: &str) -> Option<String> {
    if !v.bytes().all(|b| b == b' ' || b.is_ascii_graphic()) {
        return None;
    }
    Some(v.split(' ').filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" "))
}

/// RFC 9110 `token`.
pub(super) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// The canonical URI of the path `path` as it is sent: `.` and `..` segments resolved, empty
/// segments dropped (a trailing `/` kept), then every segment URI-encoded (`%` too, so an
/// escape in the path is encoded a second time, as AWS does for every service but S3).
pub(super) fn canonical_path(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for s in path.split('/') {
        match s {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut out = String::with_capacity(path.len() + 8);
    for s in &segments {
        out.push('/');
        percent_encode_into(&mut out, s.as_bytes());
    }
    if segments.is_empty() || path.ends_with('/') {
        out.push('/');
    }
    out
}

/// The canonical query string: each `name=value` pair percent-decoded (`+` is a space) and
/// URI-encoded, sorted by encoded name, then value; a name without `=` has an empty value.
pub(super) fn canonical_query(query: &str) -> String {
    let enc = |s: &str| {
        let mut out = String::with_capacity(s.len());
        percent_encode_into(&mut out, &percent_decode(s));
        out
    };
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (name, value) = p.split_once('=').unwrap_or((p, ""));
            (enc(name), enc(value))
        })
        .collect();
    pairs.sort();
    pairs.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("&")
}

/// `%XX` decoded (a `%` not followed by two hex digits is kept), `+` a space.
fn percent_decode(s: &str) -> Vec<u8> {
    let unhex = |c: u8| char::from(c).to_digit(16).and_then(|d| u8::try_from(d).ok());
    let (b, mut out, mut i) = (s.as_bytes(), Vec::with_capacity(s.len()), 0);
    while let Some(&c) = b.get(i) {
        i += 1;
        out.push(match c {
            b'+' => b' ',
            b'%' => match b.get(i..i + 2).and_then(|h| Some(unhex(h[0])? << 4 | unhex(h[1])?)) {
                Some(byte) => {
                    i += 2;
                    byte
                }
                None => b'%',
            },
            c => c,
        });
    }
    out
}
