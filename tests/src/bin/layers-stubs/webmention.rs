//! Webmention sources (pages that link, or not, to one of our posts) and targets (pages the
//! Worker's posts link to, advertising endpoints in every way discovery must handle).

use std::io::Write;
use std::net::TcpStream;

use crate::http::{form, respond};

/// The webmention source pages (see the module docs).
pub(crate) fn webmention_source(s: &mut TcpStream, method: &str, path: &str) -> std::io::Result<()> {
    let (route, query) = path.split_once('?').unwrap_or((path, ""));
    let to = form(query).into_iter().find(|(k, _)| k == "to").map(|(_, v)| v).unwrap_or_default();
    let attr = to.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;");
    let html = "text/html; charset=utf-8";
    if method != "GET" {
        respond(s, "405 Method Not Allowed", "text/plain", "GET only");
        return Ok(());
    }
    match route {
        "/wm/link" => respond(
            s,
            "200 OK",
            html,
            &format!("<!doctype html><title>A reply</title><article class=h-entry><p>Replying to <a class=\"u-in-reply-to\" href=\"{attr}\">this post</a>.</p></article>"),
        ),
        "/wm/nolink" => respond(
            s,
            "200 OK",
            html,
            &format!("<!doctype html><p>I read {attr} today.</p><!-- <a href=\"{attr}\">x</a> --><script>var u = '<a href=\"{attr}\">';</script><span data-href=\"{attr}\">no link here</span>"),
        ),
        "/wm/redirect" => {
            write!(s, "HTTP/1.1 302 Found\r\nLocation: http://169.254.169.254/latest/meta-data/\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")?;
        }
        "/wm/redirect-link" => {
            write!(s, "HTTP/1.1 302 Found\r\nLocation: /wm/link?{query}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")?;
        }
        "/wm/error" => respond(s, "500 Internal Server Error", "text/plain", "the source is having a bad day"),
        "/wm/slow" => {
            std::thread::sleep(std::time::Duration::from_secs(7));
            respond(s, "200 OK", html, "<!doctype html><p>too late</p>");
        }
        "/wm/big" => {
            let mut page = String::from("<!doctype html><p>");
            page.push_str(&"filler ".repeat(1536 * 1024 / 7));
            page.push_str(&format!("</p><a href=\"{attr}\">finally</a>"));
            respond(s, "200 OK", html, &page);
        }
        _ => respond(s, "404 Not Found", "text/plain", "no such webmention source"),
    }
    Ok(())
}

/// What the webmention targets saw: the mentions their endpoint accepted and every `/wt/…` hit.
#[derive(Default)]
pub(crate) struct Targets {
    received: Vec<serde_json::Value>,
    hits: std::collections::BTreeMap<String, u64>,
}

/// Mentions `GET /__control/wt` keeps.
const RECEIVED_KEPT: usize = 500;

fn html_page(s: &mut TcpStream, link_header: Option<&str>, body: &str) -> std::io::Result<()> {
    let link = link_header.map(|l| format!("Link: {l}\r\n")).unwrap_or_default();
    write!(
        s,
        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n{link}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

impl Targets {
    /// `GET /__control/wt`: `{"received": [{via, source, target}…], "hits": {"/wt/…?…": n}}`.
    pub(crate) fn report(&self) -> String {
        serde_json::json!({ "received": self.received, "hits": self.hits }).to_string()
    }

    /// The webmention targets (`/wt/…`, see the binary's docs).
    pub(crate) fn serve(&mut self, s: &mut TcpStream, method: &str, path: &str, body: &str) -> std::io::Result<()> {
        *self.hits.entry(path.to_owned()).or_insert(0) += 1;
        let (route, query) = path.split_once('?').unwrap_or((path, ""));
        match (method, route) {
            ("GET", "/wt/header") => html_page(
                s,
                Some("</wt/other>; rel=\"other\", </wt/endpoint?via=header>; rel=\"webmention\""),
                "<!doctype html><link rel=\"webmention\" href=\"/wt/endpoint?via=ignored\"><p>The header wins.</p>",
            ),
            ("GET", "/wt/html") => html_page(
                s,
                None,
                "<!doctype html><!-- <link rel=\"webmention\" href=\"/wt/endpoint?via=comment\"> -->\
                 <script>'<link rel=\"webmention\" href=\"/wt/endpoint?via=script\">'</script>\
                 <p><a rel=\"nofollow webmention\" href=\"/wt/endpoint?via=html&amp;x=1\">send mentions here</a></p>\
                 <link rel=\"webmention\" href=\"/wt/endpoint?via=second\">",
            ),
            ("GET", "/wt/redirect") => {
                write!(s, "HTTP/1.1 301 Moved Permanently\r\nLocation: /wt/html?{query}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            }
            ("GET", "/wt/none") => {
                html_page(s, None, "<!doctype html><p>No endpoint; webmention is just a word here.</p>")
            }
            ("GET", "/wt/flaky") => {
                html_page(s, Some("</wt/endpoint-500>; rel=webmention"), "<!doctype html><p>flaky</p>")
            }
            ("GET", "/wt/ssrf") => html_page(
                s,
                Some("<http://169.254.169.254/latest/meta-data/>; rel=\"webmention\""),
                "<!doctype html><p>An endpoint on a link-local address.</p>",
            ),
            ("GET", "/wt/gone") => {
                respond(s, "410 Gone", "text/plain", "gone");
                Ok(())
            }
            ("POST", "/wt/endpoint") => {
                let f = form(body);
                let get = |k: &str| f.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
                let via = form(query).into_iter().find(|(k, _)| k == "via").map(|(_, v)| v);
                match (get("source"), get("target")) {
                    (Some(source), Some(target)) => {
                        if self.received.len() >= RECEIVED_KEPT {
                            self.received.remove(0);
                        }
                        self.received.push(serde_json::json!({ "via": via, "source": source, "target": target }));
                        write!(s, "HTTP/1.1 201 Created\r\nLocation: /wt/status/{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", self.received.len())
                    }
                    _ => {
                        respond(s, "400 Bad Request", "text/plain", "source and target are required");
                        Ok(())
                    }
                }
            }
            ("POST", "/wt/endpoint-500") => {
                respond(s, "500 Internal Server Error", "text/plain", "the endpoint is having a bad day");
                Ok(())
            }
            _ => {
                respond(s, "404 Not Found", "text/plain", "no such webmention target");
                Ok(())
            }
        }
    }
}
