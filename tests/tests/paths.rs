//! The differential path test (issue 7): tricky URLs go through the real runtime (wrangler's
//! proxy and workerd) to the app's test build, which reports in `x-layers-*` headers the URL
//! the runtime handed it, the normalized path layers routed on and the route it chose (the
//! app's `expose-routing` feature; `cargo xtask test` builds it). For every URL:
//!
//! - the runtime's view and the router's agree — the routed path is exactly the runtime's
//!   path, percent-decoded — or layers refused the path (400/414);
//! - the chosen route matches the routed path by an independent matcher, a 404 means no route
//!   does, and a 2xx without credentials comes from a `Public` route only;
//! - whatever other readings of the same URL a proxy, WAF or origin might take (a WHATWG
//!   parser, full and double decoding, `\` as `/`, `;` parameters, overlong UTF-8, NUL
//!   truncation, dot segments resolved after decoding, case folding): if any of them names a
//!   protected route, the request does not succeed without credentials.
//!
//! No credentials are ever sent, so a protected route answers 401/403 or the path is refused.

mod common;

use common::try_send;
use layers_core::manifest::RouteRow;

/// One GET route of the app: its pattern split into segments, and whether it is `Public`.
struct Route {
    pattern: &'static str,
    public: bool,
}

fn get_routes() -> Vec<Route> {
    app::manifest()
        .routes
        .iter()
        .filter(|r: &&RouteRow| matches!(r.method, "GET" | "HEAD" | "*" | "ANY"))
        .map(|r| Route { pattern: r.pattern, public: r.identity == "Public" })
        .collect()
}

fn all_patterns() -> Vec<(&'static str, &'static str)> {
    app::manifest().routes.iter().map(|r| (r.method, r.pattern)).collect()
}

/// An independent matcher: a literal matches itself (optionally ignoring ASCII case), `:x` one
/// non-empty segment, a trailing `*` a non-empty rest. `path` is decoded and starts with `/`.
fn matches(pattern: &str, path: &str, fold_case: bool) -> bool {
    let Some(path) = path.strip_prefix('/') else { return false };
    let pat: Vec<&str> = pattern.trim_start_matches('/').split('/').filter(|s| !s.is_empty()).collect();
    if pat.is_empty() {
        return path.is_empty();
    }
    let mut rest = path;
    for (i, p) in pat.iter().enumerate() {
        if *p == "*" && i == pat.len() - 1 {
            // `*` takes whatever follows its `/`, possibly nothing.
            return true;
        }
        let (seg, tail) = match rest.split_once('/') {
            Some((s, t)) => (s, Some(t)),
            None => (rest, None),
        };
        let ok = if let Some(_name) = p.strip_prefix(':') {
            !seg.is_empty()
        } else if fold_case {
            seg.eq_ignore_ascii_case(p)
        } else {
            seg == *p
        };
        if !ok {
            return false;
        }
        match tail {
            Some(t) if i + 1 < pat.len() => rest = t,
            Some(_) => return false,
            None if i + 1 < pat.len() => return false,
            None => rest = "",
        }
    }
    rest.is_empty()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

/// Decodes every `%XX` (a `%` without two hex digits stays as it is).
fn percent_decode(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%' {
            if let (Some(h), Some(l)) = (s.get(i + 1).and_then(|b| hex(*b)), s.get(i + 2).and_then(|b| hex(*b))) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(s[i]);
        i += 1;
    }
    out
}

/// The path of an absolute URL string (`http://host/p?q` → `/p`).
fn url_path(url: &str) -> &str {
    let after_scheme = url.split_once("://").map_or(url, |(_, r)| r);
    let path = after_scheme.find('/').map_or("/", |i| &after_scheme[i..]);
    path.split(['?', '#']).next().unwrap_or("/")
}

/// Resolves `.`/`..` segments and collapses empty ones (what a lenient origin would do).
fn resolve(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    let mut p = format!("/{}", out.join("/"));
    if path.ends_with('/') && p.len() > 1 {
        p.push('/');
    }
    p
}

/// Other readings of the request target than layers': what some proxy or origin might route on.
fn readings(target: &str) -> Vec<String> {
    let mut bases: Vec<String> = Vec::new();
    let raw_path = target.split(['?', '#']).next().unwrap_or(target);
    let raw_path = if raw_path.starts_with('/') { raw_path.to_owned() } else { url_path(raw_path).to_owned() };
    bases.push(raw_path.clone());
    if let Ok(u) = url::Url::parse(&format!("http://h{raw_path}")) {
        bases.push(u.path().to_owned());
    }
    let mut out = Vec::new();
    for base in bases {
        let once = percent_decode(base.as_bytes());
        let twice = percent_decode(&once);
        for bytes in [base.as_bytes().to_vec(), once, twice] {
            // Overlong UTF-8 for '.' and '/' (old IIS and some decoders), and NUL truncation.
            let mut s = String::from_utf8_lossy(&bytes).into_owned();
            for (from, to) in [("\u{FFFD}\u{FFFD}", "."), ("\u{2215}", "/"), ("\u{FF0F}", "/"), ("\u{FF0E}", ".")] {
                s = s.replace(from, to);
            }
            let raw_overlong = String::from_utf8_lossy(&bytes)
                .replace("%c0%ae", ".")
                .replace("%C0%AE", ".")
                .replace("%c0%af", "/")
                .replace("%C0%AF", "/");
            for v in [s.clone(), raw_overlong, s.split('\0').next().unwrap_or("").to_owned()] {
                let slashed = v.replace('\\', "/");
                let no_params: String =
                    slashed.split('/').map(|seg| seg.split(';').next().unwrap_or("")).collect::<Vec<_>>().join("/");
                let trimmed: String = slashed.split('/').map(str::trim).collect::<Vec<_>>().join("/");
                for w in [v.clone(), slashed, no_params, trimmed] {
                    // Fullwidth Latin letters fold to ASCII under NFKC.
                    let folded: String = w
                        .chars()
                        .map(|c| match c {
                            '\u{FF21}'..='\u{FF3A}' | '\u{FF41}'..='\u{FF5A}' => {
                                char::from_u32(c as u32 - 0xFEE0).unwrap_or(c)
                            }
                            c => c,
                        })
                        .collect();
                    out.push(resolve(&w));
                    out.push(resolve(&folded));
                    out.push(w);
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Request targets built from the app's own routes and the classic path tricks.
fn tricky_targets(port: &str) -> Vec<String> {
    let protected = ["/admin/x", "/admin/backup-credentials", "/api/subscribers", "/api/files/x", "/api/headers"];
    let public = ["/hello/a", "/blog/a", "/og/a", "/search", "/go", "/api/flags/a"];
    let mut t: Vec<String> = Vec::new();
    for p in protected {
        let tail = p.trim_start_matches('/');
        let (first, rest) = tail.split_once('/').unwrap_or((tail, ""));
        let rest = if rest.is_empty() { String::new() } else { format!("/{rest}") };
        let f0 = &first[..1];
        let f1 = &first[1..];
        let hex0 = format!("%{:02X}", first.as_bytes()[0]);
        let upper = first.to_ascii_uppercase();
        t.extend([
            p.to_owned(),
            format!("/{tail}/"),
            format!("//{tail}"),
            format!("/./{tail}"),
            format!("/{first}/.{rest}"),
            format!("/{first}//{}", rest.trim_start_matches('/')),
            format!("/{hex0}{f1}{rest}"),
            format!("/{}{f1}{rest}", hex0.to_ascii_lowercase()),
            format!("/{upper}{rest}"),
            format!("/{f0}{}{rest}", f1.to_ascii_uppercase()),
            format!("/{first}%2f{}", rest.trim_start_matches('/')),
            format!("/{first}%2F{}", rest.trim_start_matches('/')),
            format!("/{first}%5c{}", rest.trim_start_matches('/')),
            format!("/{first}\\{}", rest.trim_start_matches('/')),
            format!("/{first};x{rest}"),
            format!("/{first}%3b{rest}"),
            format!("/{first}%00{rest}"),
            format!("/{first}%09{rest}"),
            format!("/{first}%0a{rest}"),
            format!("/{first}%20{rest}"),
            format!("/%20{first}{rest}"),
            format!("/{first}%23{rest}"),
            format!("/{first}%3f{rest}"),
            format!("/{first}?{rest}"),
            format!("/{first}#{rest}"),
            format!("/{tail}%00"),
            format!("/{tail}%c2%85"),
            format!("/{tail}/%2e"),
            format!("/{tail}/%2e%2e"),
            format!("/{tail}/.."),
            format!("/{tail}/x/.."),
            format!("/{tail}/%252e%252e"),
            format!("/{tail}%2500"),
            format!("/%EF%BD%{:02X}{f1}{rest}", 0x81 + (first.as_bytes()[0] - b'a')),
            format!("/x/../{tail}"),
            format!("/x/%2e%2e/{tail}"),
            format!("/x/%2E%2E/{tail}"),
            format!("/x/.%2e/{tail}"),
            format!("/x/%2e./{tail}"),
            format!("/x/..%2f{tail}"),
            format!("/x/..%5c{tail}"),
            format!("/x\\..\\{}", tail.replace('/', "\\")),
            format!("/x/..;/{tail}"),
            format!("/x;/../{tail}"),
            format!("/x/%c0%ae%c0%ae/{tail}"),
            format!("/x/%c0%ae%c0%ae%c0%af{tail}"),
            format!("/x/..%00/{tail}"),
            format!("/x/%u002e%u002e/{tail}"),
            format!("/x/%252e%252e/{tail}"),
            format!("/x/%2e%2e%2f{tail}"),
            format!("http://127.0.0.1:{port}/{tail}"),
            format!("http://127.0.0.1:{port}/x/../{tail}"),
            format!("http://evil.example/{tail}"),
        ]);
        for q in public {
            t.extend([
                format!("{q}/../{tail}"),
                format!("{q}/%2e%2e/{tail}"),
                format!("{q}/..%2f{tail}"),
                format!("{q}%2f..%2f{tail}"),
                format!("{q}/..%2f..%2f{tail}"),
                format!("{q}%2f%2e%2e%2f{tail}"),
                format!("{q}\\..\\{}", tail.replace('/', "\\")),
                format!("{q}/..;/{tail}"),
                format!("{q};/../{tail}"),
                format!("{q}/%252e%252e/{tail}"),
                format!("{q}/%c0%ae%c0%ae/{tail}"),
                format!("{q}%c0%af..%c0%af{tail}"),
                format!("{q}%3f/../{tail}"),
                format!("{q}%23/../{tail}"),
                format!("{q}?x=/../{tail}"),
                format!("{q}/%2e%2e%5c{tail}"),
                format!("{q}%00/../{tail}"),
            ]);
        }
    }
    for q in public {
        t.extend([q.to_owned(), format!("{q}/"), format!("{q}%20"), format!("{q}/%E2%80%AE"), format!("{q}/%ff")]);
    }
    t.extend(["*".to_owned(), "/".to_owned(), "/%".to_owned(), "/%zz".to_owned(), format!("/{}", "a/".repeat(2100))]);
    t.sort();
    t.dedup();
    t
}

#[derive(Default)]
struct Tally {
    routed_2xx: usize,
    routed_refused: usize,
    not_found: usize,
    layers_refused: usize,
    runtime_refused: usize,
}

#[test]
#[ignore = "needs workerd: run through `cargo xtask test`"]
fn paths_runtime_and_router_agree_or_refuse() {
    let routes = get_routes();
    let every = all_patterns();
    assert!(
        routes.iter().any(|r| !r.public) && routes.iter().any(|r| r.public),
        "the app has public and protected GET routes"
    );
    let port = common::addr().rsplit(':').next().unwrap_or("0").to_owned();
    let targets = tricky_targets(&port);
    let mut tally = Tally::default();
    let mut failures: Vec<String> = Vec::new();
    let mut rows: Vec<String> = Vec::new();
    for target in &targets {
        let resp = match try_send("GET", target, &[], None) {
            Ok(r) => r,
            Err(e) => {
                // The runtime dropped the connection: nothing reached the Worker.
                tally.runtime_refused += 1;
                rows.push(format!("{target:?} → connection closed ({e})"));
                continue;
            }
        };
        let status = resp.status;
        let route = resp.header("x-layers-route").map(str::to_owned);
        rows.push(format!("{target:?} → {status} route={}", route.as_deref().unwrap_or("(runtime)")));
        let mut fail = |why: String| failures.push(format!("GET {target:?} → {status}: {why}"));
        let Some(runtime_url) = resp.header("x-layers-runtime-url") else {
            // Refused before the Worker ran: must be an error. (wrangler's local proxy answers
            // an absolute-form target or `*` with 500 "invalid URL"; that is the runtime's
            // answer, not the app's.)
            if (200..400).contains(&status) {
                fail("answered without reaching the Worker".into());
            }
            tally.runtime_refused += 1;
            continue;
        };
        if status >= 500 {
            fail("a server error from the Worker".into());
            continue;
        }
        // The header escapes `%` and bytes outside visible ASCII; undo that first.
        let runtime_url = String::from_utf8_lossy(&percent_decode(runtime_url.as_bytes())).into_owned();
        let runtime_path = url_path(&runtime_url);
        let runtime_decoded = percent_decode(runtime_path.as_bytes());
        match resp.header("x-layers-routed-path") {
            None => {
                if !matches!(status, 400 | 414) || resp.header("x-layers-path-rejected").is_none() {
                    fail("no routed path, yet not a 400/414 path refusal".into());
                }
                tally.layers_refused += 1;
            }
            Some(routed) => {
                let routed = percent_decode(routed.as_bytes());
                if routed != runtime_decoded {
                    fail(format!(
                        "router saw {:?}, runtime saw {runtime_path:?} ({:?} decoded)",
                        String::from_utf8_lossy(&routed),
                        String::from_utf8_lossy(&runtime_decoded)
                    ));
                }
                let routed = String::from_utf8_lossy(&routed).into_owned();
                let candidates: Vec<&Route> = routes.iter().filter(|r| matches(r.pattern, &routed, false)).collect();
                match route.as_deref() {
                    Some("-") | None => {
                        let other_method = every.iter().any(|(_, p)| matches(p, &routed, false));
                        if status == 404 && !candidates.is_empty() {
                            fail(format!("404, but {} matches {routed:?}", candidates[0].pattern));
                        } else if status == 405 && !other_method {
                            fail(format!("405, but no route of any method matches {routed:?}"));
                        } else if !matches!(status, 404 | 405) {
                            fail("not routed, yet not 404/405".into());
                        }
                        tally.not_found += 1;
                    }
                    Some(chosen) => {
                        let Some(r) = candidates.iter().find(|r| r.pattern == chosen) else {
                            fail(format!("routed to {chosen}, which does not match {routed:?}"));
                            continue;
                        };
                        if (200..300).contains(&status) {
                            if !r.public {
                                fail(format!("2xx from protected {chosen} without credentials"));
                            }
                            tally.routed_2xx += 1;
                        } else {
                            tally.routed_refused += 1;
                        }
                    }
                }
            }
        }
        // However else this URL could be read: a protected reading must not succeed.
        if (200..300).contains(&status) {
            for reading in readings(target) {
                if let Some(r) = routes.iter().find(|r| !r.public && matches(r.pattern, &reading, true)) {
                    fail(format!("2xx, but the reading {reading:?} names protected {}", r.pattern));
                }
            }
        }
    }
    let summary = format!(
        "{} targets: {} routed 2xx (public), {} routed and refused (no credentials), {} not found, {} refused by layers, {} refused by the runtime",
        targets.len(),
        tally.routed_2xx,
        tally.routed_refused,
        tally.not_found,
        tally.layers_refused,
        tally.runtime_refused
    );
    println!("{summary}");
    for row in &rows {
        println!("  {row}");
    }
    // The whole table, for reading after a green run (test output is captured then).
    let report = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/e2e-paths.txt");
    let _ = std::fs::write(&report, format!("{}\n{}\n", summary, rows.join("\n")));
    assert!(failures.is_empty(), "{} of {} targets failed:\n{}", failures.len(), targets.len(), failures.join("\n"));
    // The list must exercise every outcome, or it proves little.
    assert!(tally.routed_2xx >= 5, "too few public successes: {}", tally.routed_2xx);
    assert!(tally.routed_refused >= 10, "too few protected routes reached (and refused): {}", tally.routed_refused);
    assert!(tally.layers_refused >= 50, "too few paths refused by layers: {}", tally.layers_refused);
    assert!(tally.not_found >= 5, "too few 404s: {}", tally.not_found);
}

#[test]
fn paths_reference_matcher_agrees_with_known_cases() {
    assert!(matches("/admin/*", "/admin/x", false));
    assert!(matches("/admin/*", "/admin/x/y/", false));
    assert!(matches("/admin/*", "/admin/", false));
    assert!(matches("/*", "/", false));
    assert!(!matches("/admin/*", "/admin", false));
    assert!(matches("/hello/:name", "/hello/a", false));
    assert!(!matches("/hello/:name", "/hello/a/b", false));
    assert!(!matches("/hello/:name", "/hello/", false));
    assert!(matches("/", "/", false));
    assert!(!matches("/ADMIN/*", "/admin/x", false) && matches("/ADMIN/*", "/admin/x", true));
    assert_eq!(resolve("/x/../admin/./y"), "/admin/y");
    assert!(readings("/x/%2e%2e/admin/y").contains(&"/admin/y".to_owned()));
    assert!(readings("/x\\..\\admin\\y").contains(&"/admin/y".to_owned()));
    assert!(readings("/x/..;/admin/y").contains(&"/admin/y".to_owned()));
    assert!(readings("/x/%c0%ae%c0%ae/admin/y").contains(&"/admin/y".to_owned()));
    assert!(readings("/x/%252e%252e/admin/y").contains(&"/admin/y".to_owned()));
    assert_eq!(percent_decode(b"/a%2Fb%zz%"), b"/a/b%zz%".to_vec());
}
