//! Getting credentials: from the KV cache while they have time left, otherwise by one exchange
//! with the STS — one per role at a time in an isolate, the requests that miss meanwhile waiting
//! for its answer — whose credentials are then cached.

use std::rc::Rc;

use serde::{Deserialize, Serialize};

use super::assertion::{sign_assertion, AssertionClaims};
use super::sts_response::{parse_sts_response, valid_access_key_id, valid_secret_value};
use super::{
    Federation, FederationConfig, FederationKey, TempCredentials, DEFAULT_STS_AUDIENCE, DEFAULT_STS_URL,
    MAX_STS_RESPONSE_LEN,
};
use crate::error::Error;
use crate::identity::single_flight::{Entry, Flights, NoAnswer};
use crate::outbound::{check_https_or_loopback, form_encode, OutboundRequest};
use crate::storage::kv::MIN_TTL_SECS;
use crate::storage::Kv;

/// What is kept in KV (the same fields, without `from_cache`).
#[derive(Serialize, Deserialize)]
struct CacheEntry {
    access_key_id: String,
    secret_access_key: String,
    session_token: String,
    expiration: u64,
}

impl CacheEntry {
    fn from_json(text: &str) -> Option<TempCredentials> {
        let e: CacheEntry = serde_json::from_str(text).ok()?;
        let ok = valid_access_key_id(&e.access_key_id)
            && valid_secret_value(&e.secret_access_key, 256)
            && valid_secret_value(&e.session_token, MAX_STS_RESPONSE_LEN);
        ok.then_some(TempCredentials {
            access_key_id: e.access_key_id,
            secret_access_key: e.secret_access_key,
            session_token: e.session_token,
            expiration: e.expiration,
            from_cache: true,
        })
    }

    fn to_json(c: &TempCredentials) -> Result<String, Error> {
        let e = CacheEntry {
            access_key_id: c.access_key_id.clone(),
            secret_access_key: c.secret_access_key.clone(),
            session_token: c.session_token.clone(),
            expiration: c.expiration,
        };
        serde_json::to_string(&e).map_err(|_| Error::internal("federation: cannot serialize credentials"))
    }
}

/// How often a request waiting for another's STS exchange looks for its answer (ms).
const STS_WAIT_STEP_MS: u32 = 25;

/// The answer of one STS exchange, shared with the requests that waited for it.
type Exchanged = Result<TempCredentials, Error>;

thread_local! {
    // The isolate's STS exchanges in flight, by cache key (config and role): a request that
    // misses the cache while another exchanges for the same role waits for that answer.
    // Only dispatch makes a `Federation`, with the Worker's real fetcher, so only real
    // exchanges put answers here, and only their waiters take them.
    static STS_FLIGHTS: Rc<Flights<Exchanged>> = Rc::default();
}

/// Validated settings for one exchange.
struct Settings {
    key: String,
    issuer: String,
    audience: String,
    sts_url: String,
    role: String,
}

/// Where credentials are cached: KV in a Worker, a map in tests.
trait CredentialCache {
    /// The cached text, `None` when absent or unreadable (a failed read is logged by the
    /// storage layer and treated as a miss).
    async fn load(&self, key: &str) -> Option<String>;
    /// Stores `value` for `ttl_secs`; a failed write is logged by the storage layer and does
    /// not fail the request (the credentials are good either way).
    async fn store(&self, key: &str, value: &str, ttl_secs: u64);
}

impl CredentialCache for Kv<'_> {
    // Under `layers:`, which a handler's own `Kv` can neither read nor write.
    async fn load(&self, key: &str) -> Option<String> {
        self.get_any(key).await.ok().flatten()
    }
    async fn store(&self, key: &str, value: &str, ttl_secs: u64) {
        let _ = self.put_any_with_ttl(key, value, ttl_secs).await;
    }
}

fn unavailable(detail: String) -> Error {
    Error::new(503, "service unavailable").with_detail(detail)
}

fn bad_gateway(detail: String) -> Error {
    Error::new(502, "bad gateway").with_detail(detail)
}

fn valid_session_name(s: &str) -> bool {
    (2..=64).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'=' | b',' | b'.' | b'@' | b'_' | b'-'))
}

impl<C: FederationConfig> Federation<'_, C> {
    fn settings(&self) -> Result<Settings, Error> {
        let name = C::NAME;
        if !valid_session_name(C::SESSION_NAME) {
            return Err(Error::internal(format!("{name}: SESSION_NAME must be 2-64 of A-Z a-z 0-9 + = , . @ _ -")));
        }
        if !(900..=43_200).contains(&C::DURATION_SECS) {
            return Err(Error::internal(format!("{name}: DURATION_SECS must be 900-43200")));
        }
        if !(1..=3600).contains(&C::ASSERTION_TTL_SECS) {
            return Err(Error::internal(format!("{name}: ASSERTION_TTL_SECS must be 1-3600")));
        }
        let key =
            self.key.clone().ok_or_else(|| unavailable(format!("{name}: secret {} is not set", C::KEY_SECRET)))?;
        let issuer =
            self.issuer.clone().ok_or_else(|| unavailable(format!("{name}: var {} is not set", C::ISSUER_VAR)))?;
        let issuer_ok = issuer.strip_prefix("https://").is_some_and(|h| !h.is_empty() && !h.starts_with('/'))
            && issuer.len() <= 2048
            && issuer.bytes().all(|b| b.is_ascii_graphic());
        if !issuer_ok {
            return Err(unavailable(format!("{name}: var {} is not an https:// URL", C::ISSUER_VAR)));
        }
        let role = self.role.clone().ok_or_else(|| unavailable(format!("{name}: var {} is not set", C::ROLE_VAR)))?;
        if !role.starts_with("arn:") || role.len() > 2048 || !role.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(unavailable(format!("{name}: var {} is not a role ARN", C::ROLE_VAR)));
        }
        let audience = self.audience.clone().unwrap_or_else(|| DEFAULT_STS_AUDIENCE.to_owned());
        if audience.len() > 256 || !audience.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(unavailable(format!("{name}: var {} is not a plain audience", C::AUDIENCE_VAR)));
        }
        let sts_url = self.sts_url.clone().unwrap_or_else(|| DEFAULT_STS_URL.to_owned());
        check_https_or_loopback(&sts_url, &format!("var {}", C::STS_URL_VAR))
            .map_err(|e| unavailable(format!("{name}: {e}")))?;
        Ok(Settings { key, issuer, audience, sts_url, role })
    }

    /// Temporary credentials for the configured role: from the KV `cache` while they have
    /// more than [`FederationConfig::REFRESH_BEFORE_SECS`] left, otherwise by a fresh
    /// exchange —
    ///
    /// 1. sign an RS256 assertion (`sign_assertion`) valid for
    ///    [`FederationConfig::ASSERTION_TTL_SECS`],
    /// 2. `POST` it form-encoded to the STS (`Action=AssumeRoleWithWebIdentity`,
    ///    `Version=2011-06-15`, `RoleArn`, `RoleSessionName`, `WebIdentityToken`,
    ///    `DurationSeconds`),
    /// 3. read the answer (`parse_sts_response`),
    /// 4. cache it under [`cache_key`](Self::cache_key) for its lifetime less the refresh
    ///    margin (at least 60 s, KV's minimum).
    ///
    /// One exchange per role at a time in an isolate: a request that misses the cache while
    /// another is exchanging for the same role waits for that exchange (on its own timer, up
    /// to the outbound timeout) and gets its answer — the same credentials, or the same error
    /// — instead of calling the STS too.
    ///
    /// A failed KV read counts as a miss and a failed KV write does not fail the call (both
    /// are logged by the storage layer). Neither the assertion, nor the secret key, nor the
    /// session token is ever logged or put in an error.
    ///
    /// # Errors
    /// * 503 when the key secret, the issuer or role var is unset or unusable, or the STS is
    ///   unreachable;
    /// * 502 when the STS refuses the exchange (its error `Code` goes to the log) or answers
    ///   garbage or credentials that are already expired;
    /// * 500 when the config's constants are out of range.
    pub async fn credentials(&self, cache: &Kv<'_>) -> Result<TempCredentials, Error> {
        self.credentials_in(cache).await
    }

    async fn credentials_in(&self, cache: &impl CredentialCache) -> Result<TempCredentials, Error> {
        let name = C::NAME;
        let s = self.settings()?;
        let cache_key = Self::cache_key(&s.role);
        let now = (self.clock)();
        if let Some(hit) = cache.load(&cache_key).await.as_deref().and_then(CacheEntry::from_json) {
            if hit.expiration.saturating_sub(now) > C::REFRESH_BEFORE_SECS {
                return Ok(hit);
            }
        }
        let turn = match STS_FLIGHTS.with(Rc::clone).enter(&cache_key) {
            Entry::Lead(turn) => turn,
            Entry::Follow(wait) => {
                let max = crate::outbound::DEFAULT_TIMEOUT_MS + STS_WAIT_STEP_MS;
                return match wait.answer(&self.pause, STS_WAIT_STEP_MS, max).await {
                    Ok(answer) => answer,
                    Err(NoAnswer::Abandoned) => {
                        Err(unavailable(format!("{name}: the STS exchange another request started was abandoned")))
                    }
                    Err(NoAnswer::TimedOut) => {
                        Err(unavailable(format!("{name}: the STS exchange another request started did not end")))
                    }
                };
            }
        };
        let answer = self.exchange(&s, &cache_key, now, cache).await;
        turn.finish(answer.clone());
        answer
    }

    /// One exchange with the STS (see [`credentials`](Self::credentials)), its answer cached.
    async fn exchange(
        &self,
        s: &Settings,
        cache_key: &str,
        now: u64,
        cache: &impl CredentialCache,
    ) -> Result<TempCredentials, Error> {
        let name = C::NAME;
        let key = FederationKey::parse(&s.key)
            .map_err(|e| unavailable(format!("{name}: secret {} is unusable: {e}", C::KEY_SECRET)))?;
        let claims = AssertionClaims {
            issuer: &s.issuer,
            subject: C::SUBJECT,
            audience: &s.audience,
            ttl_secs: C::ASSERTION_TTL_SECS,
        };
        let assertion = sign_assertion(&key, C::KEY_ID, &claims, now)
            .map_err(|e| Error::internal(format!("{name}: cannot sign the assertion: {e}")))?;
        let duration = C::DURATION_SECS.to_string();
        let form = form_encode(&[
            ("Action", "AssumeRoleWithWebIdentity"),
            ("Version", "2011-06-15"),
            ("RoleArn", &s.role),
            ("RoleSessionName", C::SESSION_NAME),
            ("WebIdentityToken", &assertion),
            ("DurationSeconds", &duration),
        ]);
        drop(assertion);
        let mut req = OutboundRequest::post(&s.sts_url, "application/x-www-form-urlencoded", form.into_bytes());
        // A config URL: never follow a redirect, never read more than an answer can be.
        req.redirect = crate::outbound::RedirectMode::Manual;
        req.max_body = Some(MAX_STS_RESPONSE_LEN + 1);
        let resp = (self.fetcher)(req)
            .await
            .map_err(|e| unavailable(format!("{name}: STS {} unreachable: {e}", s.sts_url)))?;
        let creds = parse_sts_response(resp.status, &resp.body)
            .map_err(|e| bad_gateway(format!("{name}: exchange for {}: {e}", s.role)))?;
        let now = (self.clock)().max(now);
        if creds.expiration <= now {
            return Err(bad_gateway(format!("{name}: STS returned credentials that already expired")));
        }
        let ttl = creds.expiration.saturating_sub(now).saturating_sub(C::REFRESH_BEFORE_SECS).max(MIN_TTL_SECS);
        cache.store(cache_key, &CacheEntry::to_json(&creds)?, ttl).await;
        Ok(creds)
    }
}

#[cfg(test)]
mod tests {
    use std::cell::{Cell, RefCell};
    use std::collections::HashMap;
    use std::rc::Rc;

    use super::*;
    use crate::outbound::{FetchFuture, Fetcher, OutboundResponse};

    const KEY_A: &str = include_str!("../../../../tests/fixtures/access/key-a.pem");
    const ROLE: &str = "arn:aws:iam::123456789012:role/layers-backup";

    thread_local! {
        static NOW: Cell<u64> = const { Cell::new(1_800_000_000) };
    }

    fn clock() -> u64 {
        NOW.with(Cell::get)
    }

    #[derive(Default)]
    struct MapCache(RefCell<HashMap<String, (String, u64)>>);

    impl CredentialCache for MapCache {
        async fn load(&self, key: &str) -> Option<String> {
            self.0.borrow().get(key).map(|(v, _)| v.clone())
        }
        async fn store(&self, key: &str, value: &str, ttl_secs: u64) {
            self.0.borrow_mut().insert(key.to_owned(), (value.to_owned(), ttl_secs));
        }
    }

    struct Sts {
        calls: Rc<RefCell<Vec<OutboundRequest>>>,
        fetcher: Fetcher,
    }

    fn sts(status: u16, body: impl Fn() -> String + 'static) -> Sts {
        let calls = Rc::new(RefCell::new(Vec::new()));
        let seen = Rc::clone(&calls);
        let fetcher: Fetcher = Rc::new(move |r: OutboundRequest| -> FetchFuture {
            seen.borrow_mut().push(r);
            let body = body().into_bytes();
            Box::pin(async move { Ok(OutboundResponse { status, headers: Vec::new(), body }) })
        });
        Sts { calls, fetcher }
    }

    fn xml_ok() -> String {
        xml_expiring(clock() + 3600)
    }

    fn xml_expiring(exp: u64) -> String {
        let expiration = crate::time::iso8601(i64::try_from(exp).unwrap());
        format!(
            "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
             <AssumeRoleWithWebIdentityResult><Credentials>\
             <AccessKeyId>ASIA0000000000000001</AccessKeyId>\
             <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY</SecretAccessKey>\
             <SessionToken>FwoGZXIvYXdzEBYaDHVzLWVhc3QtMSJHMEUCIQ</SessionToken>\
             <Expiration>{expiration}</Expiration>\
             </Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>"
        )
    }

    struct Role;
    impl FederationConfig for Role {
        const NAME: &'static str = "TestRole";
        const KEY_ID: &'static str = "kid-a";
        const SUBJECT: &'static str = "worker:test";
        const SESSION_NAME: &'static str = "layers-test";
    }

    fn federation(fetcher: Fetcher, key: Option<&str>, vars: &[(&str, &str)]) -> Federation<'static, Role> {
        let key = key.map(str::to_owned);
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        let secret = move |n: &str| if n == "FEDERATION_KEY" { key.clone() } else { None };
        let var = move |n: &str| vars.get(n).cloned();
        Federation::new(&secret, &var, fetcher, clock, crate::identity::cx::yield_once())
    }

    const VARS: [(&str, &str); 3] =
        [("FEDERATION_ISSUER", "https://layers.test"), ("STS_ROLE_ARN", ROLE), ("STS_URL", "http://127.0.0.1:9/sts")];

    fn form_field(body: &[u8], name: &str) -> Option<String> {
        let body = std::str::from_utf8(body).ok()?;
        crate::request::parse_query(body).into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    #[test]
    fn exchanges_once_then_serves_from_the_cache_until_the_refresh_margin() {
        NOW.with(|n| n.set(1_800_000_000));
        let s = sts(200, xml_ok);
        let f = federation(Rc::clone(&s.fetcher), Some(KEY_A), &VARS);
        let cache = MapCache::default();

        let first = futures::executor::block_on(f.credentials_in(&cache)).expect("exchange");
        assert!(!first.from_cache);
        assert_eq!(first.access_key_id, "ASIA0000000000000001");
        assert_eq!(first.expiration, clock() + 3600);
        assert_eq!(s.calls.borrow().len(), 1);

        // What went to the STS.
        let req = s.calls.borrow()[0].clone();
        assert_eq!(req.redirect, crate::outbound::RedirectMode::Manual, "a config URL never redirects");
        assert_eq!(req.max_body, Some(MAX_STS_RESPONSE_LEN + 1), "a bounded answer");
        assert_eq!(req.method, "POST");
        assert_eq!(req.url, "http://127.0.0.1:9/sts");
        assert!(req.headers.contains(&("content-type".into(), "application/x-www-form-urlencoded".into())));
        let body = req.body.expect("form body");
        assert_eq!(form_field(&body, "Action").as_deref(), Some("AssumeRoleWithWebIdentity"));
        assert_eq!(form_field(&body, "Version").as_deref(), Some("2011-06-15"));
        assert_eq!(form_field(&body, "RoleArn").as_deref(), Some(ROLE));
        assert_eq!(form_field(&body, "RoleSessionName").as_deref(), Some("layers-test"));
        assert_eq!(form_field(&body, "DurationSeconds").as_deref(), Some("3600"));
        assert!(std::str::from_utf8(&body).unwrap().contains("RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2F"));
        let token = form_field(&body, "WebIdentityToken").expect("token");
        let public = FederationKey::parse(KEY_A).unwrap().public_key();
        let claims = crate::identity::access_jwt::verify_rs256(&token, &public).expect("signature verifies");
        assert_eq!(claims["iss"], "https://layers.test");
        assert_eq!(claims["sub"], "worker:test");
        assert_eq!(claims["aud"], DEFAULT_STS_AUDIENCE);
        assert_eq!(claims["exp"], clock() + 300);

        // Cached with the lifetime less the refresh margin.
        let key = Federation::<Role>::cache_key(ROLE);
        assert_eq!(key, format!("layers:federation:TestRole:{ROLE}"));
        let (stored, ttl) = cache.0.borrow().get(&key).cloned().expect("cached");
        assert_eq!(ttl, 3600 - 300);
        assert!(stored.contains("ASIA0000000000000001"));

        let second = futures::executor::block_on(f.credentials_in(&cache)).expect("cached");
        assert!(second.from_cache);
        assert_eq!(second.access_key_id, first.access_key_id);
        assert_eq!(second.secret_access_key, first.secret_access_key);
        assert_eq!(s.calls.borrow().len(), 1, "a cache hit makes no STS call");

        // Inside the refresh margin: exchange again.
        NOW.with(|n| n.set(1_800_000_000 + 3600 - 300));
        let third = futures::executor::block_on(f.credentials_in(&cache)).expect("refresh");
        assert!(!third.from_cache);
        assert_eq!(s.calls.borrow().len(), 2);
    }

    /// An STS that answers after giving way `turns` times (a slow exchange, natively).
    fn slow_sts(turns: usize, status: u16) -> Sts {
        let calls = Rc::new(RefCell::new(Vec::new()));
        let seen = Rc::clone(&calls);
        let fetcher: Fetcher = Rc::new(move |r: OutboundRequest| -> FetchFuture {
            seen.borrow_mut().push(r);
            let body = xml_ok().into_bytes();
            Box::pin(async move {
                for _ in 0..turns {
                    crate::identity::cx::yield_once()(0).await;
                }
                Ok(OutboundResponse { status, headers: Vec::new(), body })
            })
        });
        Sts { calls, fetcher }
    }

    #[test]
    fn concurrent_misses_make_one_exchange_per_role() {
        NOW.with(|n| n.set(1_800_000_000));
        let s = slow_sts(5, 200);
        let f = federation(Rc::clone(&s.fetcher), Some(KEY_A), &VARS);
        let cache = MapCache::default();
        let all = futures::executor::block_on(futures::future::join_all((0..50).map(|_| f.credentials_in(&cache))));
        assert_eq!(s.calls.borrow().len(), 1, "50 concurrent misses, one STS call");
        for c in &all {
            let c = c.as_ref().expect("every request gets the credentials");
            assert_eq!(c.access_key_id, "ASIA0000000000000001");
            assert!(!c.from_cache);
        }
        assert_eq!(STS_FLIGHTS.with(|f| f.slots()), 0, "nothing is kept once the waiters have their answer");

        // Another role is another exchange, at the same time.
        let other_vars = [VARS[0], ("STS_ROLE_ARN", "arn:aws:iam::123456789012:role/other"), VARS[2]];
        let s = slow_sts(5, 200);
        let (a, b) = (
            federation(Rc::clone(&s.fetcher), Some(KEY_A), &VARS),
            federation(Rc::clone(&s.fetcher), Some(KEY_A), &other_vars),
        );
        let cache = MapCache::default();
        let both = futures::executor::block_on(futures::future::join_all((0..10).map(|i| {
            if i % 2 == 0 {
                a.credentials_in(&cache)
            } else {
                b.credentials_in(&cache)
            }
        })));
        assert!(both.iter().all(Result::is_ok));
        assert_eq!(s.calls.borrow().len(), 2, "one exchange per role");
    }

    #[test]
    fn concurrent_misses_share_a_failed_exchange() {
        NOW.with(|n| n.set(1_800_000_000));
        let s = slow_sts(3, 500);
        let f = federation(Rc::clone(&s.fetcher), Some(KEY_A), &VARS);
        let cache = MapCache::default();
        let all = futures::executor::block_on(futures::future::join_all((0..20).map(|_| f.credentials_in(&cache))));
        assert_eq!(s.calls.borrow().len(), 1, "a failing STS is asked once, not once per request");
        for r in &all {
            assert_eq!(r.as_ref().expect_err("fails closed").status(), 502);
        }
        assert!(cache.0.borrow().is_empty(), "nothing cached");
        // The failure is not remembered: the next request exchanges again.
        let again = futures::executor::block_on(f.credentials_in(&cache));
        assert!(again.is_err());
        assert_eq!(s.calls.borrow().len(), 2);
        assert_eq!(STS_FLIGHTS.with(|f| f.slots()), 0);
    }

    #[test]
    fn unusable_cache_entries_are_misses() {
        NOW.with(|n| n.set(1_800_000_000));
        let s = sts(200, xml_ok);
        let f = federation(Rc::clone(&s.fetcher), Some(KEY_A), &VARS);
        let cache = MapCache::default();
        let key = Federation::<Role>::cache_key(ROLE);
        for garbage in [
            "not json",
            "{}",
            r#"{"access_key_id":"","secret_access_key":"x","session_token":"y","expiration":9999999999}"#,
        ] {
            cache.0.borrow_mut().insert(key.clone(), (garbage.to_owned(), 60));
            let c = futures::executor::block_on(f.credentials_in(&cache)).expect("exchange");
            assert!(!c.from_cache, "{garbage}");
        }
        assert_eq!(s.calls.borrow().len(), 3);
    }

    #[test]
    fn missing_configuration_is_503_without_an_sts_call() {
        NOW.with(|n| n.set(1_800_000_000));
        let s = sts(200, xml_ok);
        let cache = MapCache::default();
        let run = |key: Option<&str>, vars: &[(&str, &str)]| {
            futures::executor::block_on(federation(Rc::clone(&s.fetcher), key, vars).credentials_in(&cache))
                .expect_err("must fail")
        };
        let e = run(None, &VARS);
        assert_eq!(e.status(), 503);
        assert!(e.detail().unwrap().contains("FEDERATION_KEY"), "{e:?}");
        let e = run(Some(KEY_A), &VARS[1..]);
        assert_eq!(e.status(), 503);
        assert!(e.detail().unwrap().contains("FEDERATION_ISSUER"));
        let e = run(Some(KEY_A), &[VARS[0], VARS[2]]);
        assert!(e.detail().unwrap().contains("STS_ROLE_ARN"));
        let e = run(Some(KEY_A), &[VARS[0], VARS[1], ("STS_URL", "http://sts.example.com/")]);
        assert_eq!(e.status(), 503);
        assert!(e.detail().unwrap().contains("off loopback"), "{e:?}");
        let e = run(Some(KEY_A), &[("FEDERATION_ISSUER", "http://layers.test"), VARS[1], VARS[2]]);
        assert_eq!(e.status(), 503);
        let e = run(Some("not a key"), &VARS);
        assert_eq!(e.status(), 503);
        assert!(!e.detail().unwrap().contains("not a key"));
        assert!(s.calls.borrow().is_empty());
    }

    #[test]
    fn sts_refusal_is_502_with_the_code_and_never_the_token() {
        NOW.with(|n| n.set(1_800_000_000));
        let s = sts(400, || {
            "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code>\
             <Message>bad token</Message></Error></ErrorResponse>"
                .to_owned()
        });
        let f = federation(Rc::clone(&s.fetcher), Some(KEY_A), &VARS);
        let cache = MapCache::default();
        let e = futures::executor::block_on(f.credentials_in(&cache)).expect_err("refused");
        assert_eq!(e.status(), 502);
        let detail = e.detail().unwrap();
        assert!(detail.contains("InvalidIdentityToken"), "{detail}");
        let body = s.calls.borrow()[0].body.clone().unwrap();
        let token = form_field(&body, "WebIdentityToken").unwrap();
        assert!(!detail.contains(&token));
        assert!(!format!("{e:?}").contains(&token[..20]));
        assert!(cache.0.borrow().is_empty(), "nothing cached on failure");
    }

    #[test]
    fn unreachable_sts_is_503_and_expired_credentials_are_502() {
        NOW.with(|n| n.set(1_800_000_000));
        let down: Fetcher =
            Rc::new(|_r: OutboundRequest| -> FetchFuture { Box::pin(async { Err("connection refused".to_owned()) }) });
        let cache = MapCache::default();
        let e = futures::executor::block_on(federation(down, Some(KEY_A), &VARS).credentials_in(&cache)).unwrap_err();
        assert_eq!(e.status(), 503);
        let stale = sts(200, || xml_expiring(clock() - 10));
        let e = futures::executor::block_on(federation(stale.fetcher, Some(KEY_A), &VARS).credentials_in(&cache))
            .unwrap_err();
        assert_eq!(e.status(), 502, "{e:?}");
        assert!(e.detail().unwrap().contains("already expired"), "{e:?}");
        assert!(cache.0.borrow().is_empty());
    }

    #[test]
    fn debug_output_holds_no_secret() {
        let f = federation(sts(200, xml_ok).fetcher, Some(KEY_A), &VARS);
        let d = format!("{f:?}");
        assert!(d.contains("TestRole") && d.contains(ROLE));
        assert!(!d.contains("PRIVATE KEY"));
        let k = FederationKey::parse(KEY_A).unwrap();
        assert_eq!(format!("{k:?}"), "FederationKey { bits: 2048, .. }");
    }
}
