//! What an app's secrets may be used for: no `[vars]` name that is a secret the app uses (a
//! verifier's `SECRETS`, a grant's signing secret or federation key), and no two signed-token
//! configurations sharing a secret and a purpose (a token made for one would pass for the
//! other).

use super::contains;
use crate::dispatch::route::RouteEntry;
use crate::events::{CronEntry, QueueEntry};
use crate::identity::capability::{Grant, GrantKind};
use crate::request::pattern::ConstMsg;

/// How many token configuration keys [`token_clash`] compares (more are not looked at).
const MAX_TOKEN_KEYS: usize = 256;

/// Two different signed-token configurations the app verifies or mints that share a secret and
/// a purpose: a token made for one would pass for the other.
pub(super) const fn token_clash(routes: &[RouteEntry], crons: &[CronEntry], queues: &[QueueEntry]) -> Option<ConstMsg> {
    let mut keys = [""; MAX_TOKEN_KEYS];
    let mut n = 0;
    let mut i = 0;
    while i < routes.len() {
        let m = &routes[i].meta;
        let mut k = 0;
        while k < m.tokens.len() && n < MAX_TOKEN_KEYS {
            keys[n] = m.tokens[k];
            n += 1;
            k += 1;
        }
        n = grant_keys(m.grants, &mut keys, n);
        i += 1;
    }
    let mut i = 0;
    while i < crons.len() {
        n = grant_keys(crons[i].meta.grants, &mut keys, n);
        i += 1;
    }
    let mut i = 0;
    while i < queues.len() {
        n = grant_keys(queues[i].meta.grants, &mut keys, n);
        i += 1;
    }
    let mut a = 0;
    while a < n {
        let mut b = a + 1;
        while b < n {
            let (ka, kb) = (keys[a], keys[b]);
            if !crate::request::pattern::str_eq(ka, kb)
                && crate::request::pattern::str_eq(key_field(ka, 0), key_field(kb, 0))
                && crate::request::pattern::str_eq(key_field(ka, 1), key_field(kb, 1))
            {
                return Some(
                    ConstMsg::new()
                        .push("two signed-token configurations, `")
                        .push(key_field(ka, 2))
                        .push("` and `")
                        .push(key_field(kb, 2))
                        .push("`, share secret `")
                        .push(key_field(ka, 0))
                        .push("` and purpose `")
                        .push(key_field(ka, 1))
                        .push("`: a token made for one would pass for the other. Give each configuration a purpose of its own (`TokenConfig::PURPOSE`), or a secret of its own."),
                );
            }
            b += 1;
        }
        a += 1;
    }
    None
}

const fn grant_keys(grants: &[Grant], keys: &mut [&'static str; MAX_TOKEN_KEYS], mut n: usize) -> usize {
    let mut g = 0;
    while g < grants.len() && n < MAX_TOKEN_KEYS {
        if !grants[g].token.is_empty() {
            keys[n] = grants[g].token;
            n += 1;
        }
        g += 1;
    }
    n
}

/// Field `i` of a token configuration key (`secret \0 purpose \0 name \0 source`).
const fn key_field(key: &str, i: usize) -> &str {
    let b = key.as_bytes();
    let (mut start, mut field, mut at) = (0, 0, 0);
    while at <= b.len() {
        if at == b.len() || b[at] == 0 {
            if field == i {
                let (head, _) = b.split_at(at);
                let (_, f) = head.split_at(start);
                return match std::str::from_utf8(f) {
                    Ok(s) => s,
                    Err(_) => "",
                };
            }
            field += 1;
            start = at + 1;
        }
        at += 1;
    }
    ""
}

/// Why one of `vars` is a secret the app uses, if one is: a verifier's
/// ([`Verifier::SECRETS`]) or a grant's (the signing secret of a `Mint<'_, C>`, the key of a
/// `Federation<'_, C>`). Under `[vars]` its value would sit in the repository, and every
/// handler could read it through `Vars`.
pub(super) const fn secret_in_vars(
    routes: &[RouteEntry],
    crons: &[CronEntry],
    queues: &[QueueEntry],
    vars: &[&str],
) -> Option<ConstMsg> {
    let mut i = 0;
    while i < routes.len() {
        let r = &routes[i].meta;
        let mut k = 0;
        while k < r.secrets.len() {
            if contains(vars, r.secrets[k]) {
                let who = ConstMsg::new()
                    .push("the identity of route `")
                    .push(r.method.as_str())
                    .push(" ")
                    .push(r.pattern)
                    .push("` (fn ")
                    .push(r.handler)
                    .push(")");
                return Some(secret_msg(r.secrets[k], who));
            }
            k += 1;
        }
        if let Some(m) = grant_secret_in_vars(r.grants, r.handler, vars) {
            return Some(m);
        }
        i += 1;
    }
    let mut i = 0;
    while i < crons.len() {
        if let Some(m) = grant_secret_in_vars(crons[i].meta.grants, crons[i].meta.handler, vars) {
            return Some(m);
        }
        i += 1;
    }
    let mut i = 0;
    while i < queues.len() {
        if let Some(m) = grant_secret_in_vars(queues[i].meta.grants, queues[i].meta.handler, vars) {
            return Some(m);
        }
        i += 1;
    }
    None
}

const fn grant_secret_in_vars(grants: &[Grant], handler: &str, vars: &[&str]) -> Option<ConstMsg> {
    let mut g = 0;
    while g < grants.len() {
        if contains(vars, grants[g].secret) {
            let what = match grants[g].kind {
                GrantKind::Mint => "the `Mint` of handler `",
                GrantKind::Federation => "the `Federation` of handler `",
                GrantKind::Issuer => "the `FederationIssuer` of handler `",
            };
            return Some(secret_msg(grants[g].secret, ConstMsg::new().push(what).push(handler).push("`")));
        }
        g += 1;
    }
    None
}

const fn secret_msg(name: &str, who: ConstMsg) -> ConstMsg {
    ConstMsg::new()
        .push("`")
        .push(name)
        .push("` is a secret (")
        .push(who.as_str())
        .push(" reads it), but wrangler's config lists it under `[vars]`, where its value sits in the repository and every handler can read it through `Vars`. Remove it from `[vars]` and set it with `wrangler secret put ")
        .push(name)
        .push("` (locally: in .dev.vars).")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::table_problem;
    use crate::check::tests::{entries, route};
    use crate::events::CronMeta;
    use crate::request::pattern::Method;

    #[test]
    fn token_configurations_sharing_a_secret_and_a_purpose_clash() {
        let mut a = route(Method::Get, "/a/:token");
        a.tokens = &["SIGNING_KEY\0confirm\0Confirm\0param:token"];
        let mut b = route(Method::Get, "/b/:token");
        b.tokens = &["SIGNING_KEY\0confirm\0Reset\0param:token"];
        let m = table_problem(entries(&[a, b]), &[], &[], &[]).expect("a clash");
        assert!(
            m.as_str().contains("`Confirm` and `Reset`") && m.as_str().contains("purpose `confirm`"),
            "{}",
            m.as_str()
        );
        // The same configuration twice, another purpose, or another secret: no clash.
        for other in [
            "SIGNING_KEY\0confirm\0Confirm\0param:token",
            "SIGNING_KEY\0reset\0Reset\0param:token",
            "OTHER_KEY\0confirm\0Reset\0param:token",
        ] {
            b.tokens = Box::leak(Box::new([other]));
            assert!(table_problem(entries(&[a, b]), &[], &[], &[]).is_none(), "{other}");
        }
        // A minted configuration counts too.
        let grant = Grant {
            kind: GrantKind::Mint,
            config: || "app::Reset",
            secret: "SIGNING_KEY",
            layers_default: false,
            token: "SIGNING_KEY\0confirm\0Reset\0query:t",
            vars: &[],
        };
        let cron = crate::events::CronEntry::described(CronMeta {
            cron: "0 2 * * SUN",
            storage: &[],
            handler: "digest",
            grants: Box::leak(Box::new([grant])),
            vars: &[],
            outbound: &[],
        });
        assert!(table_problem(entries(&[a]), &[cron], &[], &[]).is_some());
        assert_eq!(key_field("s\0p\0n\0src", 2), "n");
        assert_eq!(key_field("s\0p\0n\0src", 3), "src");
    }

    #[test]
    fn vars_never_name_a_secret_of_the_app() {
        let mut keyed = route(Method::Get, "/api/x");
        keyed.secrets = &["API_KEYS"];
        let routes = entries(&[keyed]);
        assert!(table_problem(routes, &[], &[], &["SITE_NAME"]).is_none());
        let m = table_problem(routes, &[], &[], &["SITE_NAME", "API_KEYS"]).expect("a secret under [vars]");
        assert!(m.as_str().contains("`API_KEYS` is a secret") && m.as_str().contains("wrangler secret put API_KEYS"));
        // A grant's secret counts too, for routes and for event handlers.
        let grant = Grant {
            kind: GrantKind::Mint,
            config: || "app::Confirm",
            secret: "SIGNING_KEY",
            layers_default: false,
            token: "",
            vars: &[],
        };
        let mut minting = route(Method::Post, "/api/subscribe");
        minting.grants = Box::leak(Box::new([grant]));
        assert!(table_problem(entries(&[minting]), &[], &[], &["SIGNING_KEY"]).is_some());
        let cron = crate::events::CronEntry::described(CronMeta {
            cron: "0 2 * * SUN",
            storage: &[],
            handler: "digest",
            grants: Box::leak(Box::new([grant])),
            vars: &[],
            outbound: &[],
        });
        let m = table_problem(&[], &[cron], &[], &["SIGNING_KEY"]).expect("a cron's grant");
        assert!(m.as_str().contains("handler `digest`"), "{}", m.as_str());
    }
}
