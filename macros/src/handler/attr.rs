//! Parsing a handler's attribute: `#[route(METHOD "pattern", identity = Type,
//! storage(KIND [= "BINDING"] [because(Reason, …, "note")], …), shadows("pattern", …),
//! responds(STATUS [Json<T>|Html|Text], …))]` (`responds`: see [`super::responds`]), `#[scheduled("cron", storage(…))]`,
//! `#[queue("name", storage(…))]`, `#[durable_object(storage(…))]`.

use layers_spec::reasons::Reason;
use layers_spec::storage::{StorageKind, KINDS};
use proc_macro2::{Span, TokenStream};
use syn::parse::{ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Ident, LitStr, Token, Type};

use super::HandlerKind;
use crate::ctxt::Ctxt;
use layers_spec::method::Method;
use layers_spec::pattern::{self, Seg};

/// One entry of `storage(…)`: a kind, its binding (the kind's default when not given) and
/// why (`because(…)`: the decision tree's reasons, and a note).
#[derive(Clone)]
pub(crate) struct StorageItem {
    pub(crate) kind: StorageKind,
    pub(crate) binding: String,
    pub(crate) span: Span,
    pub(crate) reasons: Vec<Reason>,
    pub(crate) note: String,
}

/// `because(Reason, …, "note")`, as written.
struct Because {
    reasons: Vec<Ident>,
    note: Option<LitStr>,
    span: Span,
}

fn parse_because(c: ParseStream<'_>) -> syn::Result<Option<Because>> {
    if !(c.peek(Ident) && c.fork().parse::<Ident>().is_ok_and(|i| i == "because")) {
        return Ok(None);
    }
    let key: Ident = c.parse()?;
    let inner;
    syn::parenthesized!(inner in c);
    let mut reasons = Vec::new();
    let mut note = None;
    while !inner.is_empty() {
        if inner.peek(LitStr) {
            let lit: LitStr = inner.parse()?;
            if note.is_some() {
                return Err(syn::Error::new(lit.span(), "`because(…)` takes one note: join the texts"));
            }
            note = Some(lit);
        } else {
            reasons.push(inner.parse::<Ident>()?);
        }
        if inner.is_empty() {
            break;
        }
        inner.parse::<Token![,]>()?;
    }
    Ok(Some(Because { reasons, note, span: key.span() }))
}

/// Checks `because(…)` for `kind` against the decision tree, recording problems in `cx`.
fn check_because(kind: StorageKind, because: Because, cx: &mut Ctxt) -> (Vec<Reason>, String) {
    let attr = kind.spec().attr;
    let mut out = Vec::new();
    for ident in &because.reasons {
        let name = ident.to_string();
        let Some(reason) = Reason::from_name(&name) else {
            cx.error_spanned(
                ident,
                format!(
                    "unknown reason `{name}`; the decision tree's reasons for {attr} are {} (a note of your own goes in a string: `because({}, \"…\")`)",
                    Reason::names_for(kind),
                    Reason::names_for(kind).split(", ").next().unwrap_or("…"),
                ),
            );
            continue;
        };
        if let Some(advice) = reason.advice(kind) {
            cx.error_spanned(
                ident,
                format!(
                    "`{name}` is not a reason for {attr}: {advice}. The tree's reasons for {attr}: {}",
                    Reason::names_for(kind)
                ),
            );
            continue;
        }
        if out.contains(&reason) {
            cx.error_spanned(ident, format!("`{name}` is given twice"));
            continue;
        }
        out.push(reason);
    }
    if because.reasons.is_empty() {
        cx.push(syn::Error::new(
            because.span,
            format!(
                "`because(…)` needs at least one of the decision tree's reasons for {attr} ({}); a note may follow",
                Reason::names_for(kind)
            ),
        ));
    }
    let note = because.note.map(|l| l.value()).unwrap_or_default();
    (out, note)
}

/// A handler's attribute, parsed: one vocabulary for every kind (what a kind does not take
/// stays empty).
pub(crate) struct HandlerAttr {
    /// A route's method.
    pub(crate) method: Option<(Method, Span)>,
    /// The pattern as written (it parsed without a problem; see [`segments`]).
    pub(crate) pattern: Option<(String, LitStr)>,
    /// A route's `identity = V`.
    pub(crate) identity: Option<Type>,
    /// `storage(…)`: the handles the handler may open (every kind).
    pub(crate) storage: Vec<StorageItem>,
    /// `shadows("…", …)`: the less specific patterns this route takes requests from although
    /// their identity differs (checked against the app's routes by `app!`).
    pub(crate) shadows: Vec<(String, LitStr)>,
    /// What calls a platform-event handler: a cron's expression, a queue's name.
    pub(crate) source: Option<String>,
    /// `vars(NAME, …)`: the `[vars]` the handler reads through its `Vars` (routes, crons and
    /// queue consumers), with the span of `vars`.
    pub(crate) vars: Vec<String>,
    pub(crate) vars_span: Option<Span>,
    /// `outbound(VAR, public, public(allow = VAR))`: the outbound HTTP the handler makes
    /// through its `Outbound` (routes, crons and queue consumers), with the span of `outbound`.
    pub(crate) outbound: Vec<OutboundItem>,
    pub(crate) outbound_span: Option<Span>,
    /// `responds(STATUS [BODY], …)`: a route's declared success responses (for OpenAPI).
    pub(crate) responds: Vec<super::responds::RespondsItem>,
}

/// One entry of `outbound(…)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum OutboundItem {
    /// `VAR`: the service at the URL the var holds.
    Configured(String),
    /// `public` or `public(allow = VAR)`: user-supplied URLs through the URL guard.
    Public(Option<String>),
}

/// Skips the value of an unknown key (`= expr` or `(…)`), so parsing can go on and report
/// every other problem too.
pub(crate) fn skip_value(input: ParseStream<'_>) -> syn::Result<()> {
    if input.peek(Token![=]) {
        input.parse::<Token![=]>()?;
        let _: syn::Expr = input.parse()?;
    } else if input.peek(syn::token::Paren) {
        let _content;
        syn::parenthesized!(_content in input);
    }
    Ok(())
}

/// Parses a handler's attribute, recording every problem in `cx`. Structural syntax errors end
/// the parse (there is nothing sensible to continue from); semantic ones are accumulated.
///
/// One grammar for every kind: a head (a route's `METHOD "pattern"`, a cron's expression, a
/// queue's name; nothing for a Durable Object), then `, key …` entries — `storage(…)` for
/// every kind, `identity = …` and `shadows(…)` for routes.
pub(crate) fn parse(kind: HandlerKind, tokens: TokenStream, cx: &mut Ctxt) -> HandlerAttr {
    let mut out = HandlerAttr {
        method: None,
        pattern: None,
        identity: None,
        storage: Vec::new(),
        shadows: Vec::new(),
        source: None,
        vars: Vec::new(),
        vars_span: None,
        outbound: Vec::new(),
        outbound_span: None,
        responds: Vec::new(),
    };
    let parser = |input: ParseStream<'_>| -> syn::Result<()> {
        let has_head = match kind {
            HandlerKind::Route => {
                parse_route_head(input, &mut out, cx)?;
                true
            }
            HandlerKind::Cron | HandlerKind::Queue => {
                parse_event_head(kind, input, &mut out, cx)?;
                true
            }
            HandlerKind::DurableObject => false,
        };
        // , key …
        let mut seen: Vec<(String, Span)> = Vec::new();
        let mut first = !has_head;
        while !input.is_empty() {
            if !first {
                input.parse::<Token![,]>()?;
                if input.is_empty() {
                    break;
                }
            }
            first = false;
            let key: Ident = input.parse()?;
            let k = key.to_string();
            if let Some((_, first)) = seen.iter().find(|(s, _)| *s == k) {
                let msg = if k == "storage" {
                    "`storage` is given twice; list every kind in one `storage(…)`".to_owned()
                } else {
                    format!("`{k}` is given twice; a route has one `{k}`")
                };
                let mut e = syn::Error::new(key.span(), msg);
                e.combine(syn::Error::new(*first, format!("first `{k}` here")));
                cx.push(e);
            }
            seen.push((k.clone(), key.span()));
            match (k.as_str(), kind) {
                ("storage", _) => {
                    parse_storage(input, &mut out.storage, cx)?;
                    if kind != HandlerKind::Route {
                        refuse_request_storage(kind, &mut out.storage, cx);
                    }
                }
                ("identity", HandlerKind::Route) => {
                    input.parse::<Token![=]>()?;
                    let ty: Type = input.parse()?;
                    if out.identity.is_none() {
                        out.identity = Some(ty);
                    }
                }
                ("identity", _) => {
                    let identity = kind.fixed_identity().unwrap_or("System");
                    cx.error_spanned(
                        &key,
                        format!("a {} always runs as `{identity}`, the platform's identity: remove `identity = …` and take `who: Claims<'_, {identity}>`", kind.what()),
                    );
                    if input.peek(Token![=]) {
                        input.parse::<Token![=]>()?;
                        let _: Type = input.parse()?;
                    }
                }
                ("shadows", HandlerKind::Route) => parse_shadows(input, &mut out, cx)?,
                ("responds", HandlerKind::Route) => super::responds::parse_responds(input, &mut out.responds, cx)?,
                ("vars", HandlerKind::Route | HandlerKind::Cron | HandlerKind::Queue) => {
                    out.vars_span = Some(key.span());
                    parse_vars(input, &mut out.vars, cx)?;
                }
                ("outbound", HandlerKind::Route | HandlerKind::Cron | HandlerKind::Queue) => {
                    out.outbound_span = Some(key.span());
                    parse_outbound(input, &mut out.outbound, cx)?;
                }
                (other, HandlerKind::Route) => {
                    let hint = match other {
                        "id" | "ident" | "identify" | "auth" | "verifier" => " — did you mean `identity`?",
                        "store" | "stores" | "bindings" => " — did you mean `storage(…)`?",
                        "shadow" | "overrides" | "overlaps" | "takes_from" => " — did you mean `shadows(…)`?",
                        "response" | "responses" | "returns" | "respond" => " — did you mean `responds(…)`?",
                        _ => "",
                    };
                    cx.error_spanned(
                        &key,
                        format!(
                            "unknown key `{other}`{hint}; a route takes `identity = …`, `storage(…)`, `vars(…)`, `outbound(…)`, `shadows(\"/pattern\", …)` and `responds(STATUS [Json<T>|Html|Text], …)`"
                        ),
                    );
                    skip_value(input)?;
                }
                (other, _) => {
                    cx.error_spanned(
                        &key,
                        format!(
                            "unknown key `{other}`; a {} takes only `storage(…)`{}: `{}`",
                            kind.what(),
                            if kind == HandlerKind::DurableObject { "" } else { ", `vars(…)` and `outbound(…)`" },
                            kind.example()
                        ),
                    );
                    skip_value(input)?;
                }
            }
        }
        Ok(())
    };
    if let Err(e) = parser.parse2(tokens) {
        cx.push(e);
        return out;
    }
    if kind == HandlerKind::Route && out.identity.is_none() {
        cx.error_at(
            Span::call_site(),
            "this route declares no identity. Every route must say who may call it: add `identity = Public` for an open route, or a verifier such as `identity = ApiKey`",
        );
    }
    out
}

/// A route's `METHOD "pattern"`.
fn parse_route_head(input: ParseStream<'_>, out: &mut HandlerAttr, cx: &mut Ctxt) -> syn::Result<()> {
    if input.is_empty() {
        return Err(syn::Error::new(
            Span::call_site(),
            "a route needs a method, a path and an identity: `#[route(GET \"/path\", identity = Public)]`",
        ));
    }
    // METHOD
    let method: Ident = input.parse().map_err(|e| {
        syn::Error::new(
            e.span(),
            "expected an HTTP method first: one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, ANY",
        )
    })?;
    let m = method.to_string();
    if let Some(known) = Method::from_attr(&m) {
        out.method = Some((known, method.span()));
    } else if Method::from_attr(&m.to_ascii_uppercase()).is_some() {
        cx.error_spanned(&method, format!("HTTP methods are written in capitals here: `{}`", m.to_ascii_uppercase()));
    } else {
        cx.error_spanned(
            &method,
            format!("unknown HTTP method `{m}`: use one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, or ANY"),
        );
    }
    // "pattern"
    let lit: LitStr = input.parse().map_err(|e| {
        syn::Error::new(
            e.span(),
            "expected the route's path pattern as a string after the method, e.g. `GET \"/blog/:slug\"`",
        )
    })?;
    let text = lit.value();
    let errs = pattern::parse(&text).1;
    for e in &errs {
        cx.error_spanned(&lit, format!("invalid route pattern: {}", e.render(&text)));
    }
    if errs.is_empty() {
        out.pattern = Some((text, lit));
    }
    Ok(())
}

/// A cron's expression (checked by Cloudflare's own parser) or a queue's name.
fn parse_event_head(
    kind: HandlerKind,
    input: ParseStream<'_>,
    out: &mut HandlerAttr,
    cx: &mut Ctxt,
) -> syn::Result<()> {
    let first = match kind {
        HandlerKind::Cron => "a cron handler needs its cron expression first: `#[scheduled(\"0 2 * * SUN\")]`",
        _ => "a queue handler needs the queue's name first: `#[queue(\"reindex\")]`",
    };
    if input.is_empty() {
        return Err(syn::Error::new(Span::call_site(), first));
    }
    let lit: LitStr = input.parse().map_err(|e| syn::Error::new(e.span(), first))?;
    let text = lit.value();
    if kind == HandlerKind::Cron {
        match layers_spec::cron::validate(&text) {
            Ok(()) => out.source = Some(text),
            Err(e) => cx.error_spanned(&lit, format!("invalid cron: {}", e.render(&text))),
        }
    } else {
        match queue_name_problem(&text) {
            None => out.source = Some(text),
            Some(p) => cx.error_spanned(&lit, format!("invalid queue name \"{text}\": {p}")),
        }
    }
    Ok(())
}

/// A queue name as Cloudflare allows it: lowercase letters, digits and `-`, at most 63.
fn queue_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() || name.len() > 63 {
        return Some("a queue name is 1 to 63 characters");
    }
    if !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
        return Some("a queue name has only lowercase letters, digits and `-`");
    }
    None
}

/// Outside a request (a platform event, a Durable Object call) there is no origin to key a
/// cache under and no request to serve a static file to: storage kinds that need one are
/// reported and dropped.
fn refuse_request_storage(kind: HandlerKind, storage: &mut Vec<StorageItem>, cx: &mut Ctxt) {
    if let Some(c) = storage.iter().find(|s| !s.kind.spec().outside_requests) {
        let (who, none) = match kind {
            HandlerKind::DurableObject => {
                ("a Durable Object".to_owned(), "a request being served, and an object call has none")
            }
            _ => (format!("a {}", kind.what()), "the request being served, and a platform event has none"),
        };
        cx.push(syn::Error::new(
            c.span,
            if c.kind == StorageKind::Assets {
                format!("{who} cannot use `{}`: static assets answer {none}", c.kind.as_str())
            } else {
                format!("{who} cannot use `{}`: cache keys live under the origin of {none}", c.kind.as_str())
            },
        ));
        storage.retain(|s| s.kind.spec().outside_requests);
    }
}

/// The segments of a pattern the attribute accepted (it parses without a problem).
pub(crate) fn segments(pattern: &str) -> Vec<Seg<'_>> {
    pattern::parse(pattern).0
}

/// Parses `shadows("PATTERN", …)` after the `shadows` key: each pattern parsed like the route's
/// own, given once, and not the route's own pattern.
fn parse_shadows(input: ParseStream<'_>, out: &mut HandlerAttr, cx: &mut Ctxt) -> syn::Result<()> {
    if !input.peek(syn::token::Paren) {
        return Err(syn::Error::new(
            input.span(),
            "`shadows` takes its patterns in parentheses: `shadows(\"/admin/*\")`",
        ));
    }
    let content;
    let paren = syn::parenthesized!(content in input);
    let items = Punctuated::<LitStr, Token![,]>::parse_terminated(&content).map_err(|e| {
        syn::Error::new(e.span(), "`shadows(…)` lists route patterns as strings: `shadows(\"/admin/*\")`")
    })?;
    if items.is_empty() {
        cx.error_at(
            paren.span.join(),
            "`shadows()` names no pattern: list the less specific routes this one takes requests from, e.g. `shadows(\"/admin/*\")`, or drop it",
        );
    }
    for lit in items {
        let text = lit.value();
        let errs = pattern::parse(&text).1;
        for e in &errs {
            cx.error_spanned(&lit, format!("invalid pattern in `shadows(…)`: {}", e.render(&text)));
        }
        if !errs.is_empty() {
            continue;
        }
        if let Some((_, first)) = out.shadows.iter().find(|(t, _)| *t == text) {
            let mut e = syn::Error::new(lit.span(), format!("`shadows(\"{text}\")` is given twice"));
            e.combine(syn::Error::new(first.span(), "first given here"));
            cx.push(e);
            continue;
        }
        if out.pattern.as_ref().is_some_and(|(own, ..)| *own == text) {
            cx.error_spanned(
                &lit,
                "a route does not shadow its own pattern: name the less specific route whose requests this one takes",
            );
            continue;
        }
        out.shadows.push((text, lit));
    }
    Ok(())
}

/// Parses `vars(NAME, …)` after the `vars` key, appending the names to `vars`: identifiers
/// (what `[vars]` keys are), each once.
fn parse_vars(input: ParseStream<'_>, vars: &mut Vec<String>, cx: &mut Ctxt) -> syn::Result<()> {
    let content;
    syn::parenthesized!(content in input);
    let names = Punctuated::<Ident, Token![,]>::parse_terminated(&content)?;
    for name in names {
        let n = name.to_string();
        if vars.contains(&n) {
            cx.error_spanned(&name, format!("var `{n}` is listed twice"));
            continue;
        }
        vars.push(n);
    }
    Ok(())
}

/// Parses `outbound(VAR, public, public(allow = VAR))` after the `outbound` key, appending to
/// `outbound`: vars are identifiers (what `[vars]` keys are), each once; `public` at most once.
fn parse_outbound(input: ParseStream<'_>, outbound: &mut Vec<OutboundItem>, cx: &mut Ctxt) -> syn::Result<()> {
    let content;
    syn::parenthesized!(content in input);
    while !content.is_empty() {
        let name: Ident = content.parse()?;
        let item = if name == "public" {
            let allow = if content.peek(syn::token::Paren) {
                let inner;
                syn::parenthesized!(inner in content);
                let key: Ident = inner.parse()?;
                if key != "allow" {
                    return Err(syn::Error::new(
                        key.span(),
                        format!(
                            "unknown key `{key}`: `public(allow = VAR)` names the var listing extra allowed origins"
                        ),
                    ));
                }
                inner.parse::<Token![=]>()?;
                let var: Ident = inner.parse()?;
                Some(var.to_string())
            } else {
                None
            };
            if outbound.iter().any(|o| matches!(o, OutboundItem::Public(_))) {
                cx.error_spanned(&name, "`public` is listed twice in `outbound(…)`");
            }
            OutboundItem::Public(allow)
        } else {
            let n = name.to_string();
            if !n.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_') {
                cx.error_spanned(
                    &name,
                    format!("`{n}` is not a var name: `outbound(…)` takes the `[vars]` names whose URLs the handler calls (e.g. `outbound(MAIL_URL)`) and `public` for URLs that came from users"),
                );
            }
            OutboundItem::Configured(n)
        };
        let public_again =
            matches!(item, OutboundItem::Public(_)) && outbound.iter().any(|o| matches!(o, OutboundItem::Public(_)));
        if outbound.contains(&item) && !public_again {
            cx.error_spanned(&name, format!("`{name}` is listed twice in `outbound(…)`"));
        } else if !public_again {
            outbound.push(item);
        }
        if content.is_empty() {
            break;
        }
        content.parse::<Token![,]>()?;
    }
    if outbound.is_empty() {
        return Err(input.error("`outbound()` is empty: list the vars whose URLs the handler calls, or `public`"));
    }
    Ok(())
}

impl OutboundItem {
    /// The `OutboundDecl` it stands for.
    pub(crate) fn decl_tokens(&self) -> proc_macro2::TokenStream {
        let private = crate::paths::private();
        match self {
            OutboundItem::Configured(v) => quote::quote!(#private::OutboundDecl::Configured(#v)),
            OutboundItem::Public(None) => quote::quote!(#private::OutboundDecl::Public { allow: None }),
            OutboundItem::Public(Some(v)) => quote::quote!(#private::OutboundDecl::Public { allow: Some(#v) }),
        }
    }
}

/// Parses `storage(KIND [= "BINDING"] [because(…)], …)` after the `storage` key, appending to
/// `storage`.
pub(crate) fn parse_storage(input: ParseStream<'_>, storage: &mut Vec<StorageItem>, cx: &mut Ctxt) -> syn::Result<()> {
    let content;
    syn::parenthesized!(content in input);
    let items =
        Punctuated::<(Ident, Option<LitStr>, Option<Because>), Token![,]>::parse_terminated_with(&content, |c| {
            let kind: Ident = c.parse()?;
            let binding = if c.peek(Token![=]) {
                c.parse::<Token![=]>()?;
                Some(c.parse::<LitStr>()?)
            } else {
                None
            };
            let because = parse_because(c)?;
            Ok((kind, binding, because))
        })?;
    for (kind, binding, because) in items {
        let name = kind.to_string();
        let Some(k) = StorageKind::from_attr(&name) else {
            let hint = KINDS
                .iter()
                .find(|k| k.attr.eq_ignore_ascii_case(&name) || k.handle.eq_ignore_ascii_case(&name))
                .map(|k| format!(" — did you mean `{}`?", k.attr))
                .unwrap_or_default();
            cx.error_spanned(
                &kind,
                format!("unknown storage kind `{name}`{hint}; this version of layers offers {}", StorageKind::list()),
            );
            continue;
        };
        if let Some(prev) = storage.iter().find(|s| s.kind == k) {
            let mut e = syn::Error::new(
                kind.span(),
                format!("storage `{}` is declared twice; declare each kind once per route", k.as_str()),
            );
            e.combine(syn::Error::new(prev.span, "first declared here"));
            cx.push(e);
            continue;
        }
        let b = match &binding {
            Some(l) => {
                let v = l.value();
                if !layers_spec::text::is_ident(&v) {
                    cx.error_spanned(
                        l,
                        format!("`{v}` is not a binding name: bindings are identifiers like \"DB\" or \"SUBSCRIBERS\""),
                    );
                }
                v
            }
            None => k.spec().default_binding.to_owned(),
        };
        let (reasons, note) = match because {
            Some(because) => check_because(k, because, cx),
            None => (Vec::new(), String::new()),
        };
        storage.push(StorageItem { kind: k, binding: b, span: kind.span(), reasons, note });
    }
    Ok(())
}
