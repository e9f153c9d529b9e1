//! The pipeline's parse and check stages on their own: what each kind of handler's parameters
//! become, and what each kind refuses.

use proc_macro2::TokenStream;
use quote::quote;

use super::item::Item;
use super::{attr, params, Grant, Handler, HandlerKind, Role};
use crate::ctxt::Ctxt;
use layers_spec::storage::StorageKind;

/// Parses and checks a handler: the checked handler, or every message recorded.
fn check(kind: HandlerKind, attr: TokenStream, item: TokenStream) -> Result<Handler, Vec<String>> {
    let mut cx = Ctxt::default();
    let item = Item::parse(kind, item, &mut cx);
    let attr = attr::parse(kind, attr, &mut cx);
    let item = item.ok_or_else(|| cx.messages())?;
    params::check(kind, attr, item, &mut cx).ok_or_else(|| cx.messages())
}

fn roles(h: &Handler) -> Vec<Role> {
    h.params.iter().map(|p| p.role).collect()
}

fn errors(kind: HandlerKind, attr: TokenStream, item: TokenStream) -> Vec<String> {
    match check(kind, attr, item) {
        Ok(_) => panic!("expected the check to fail"),
        Err(messages) => messages,
    }
}

#[test]
fn a_route_classifies_each_parameter_and_runs_extractors_before_the_request() {
    let h = check(
        HandlerKind::Route,
        quote!(GET "/posts/:id", identity = Public, storage(D1, KV = "CACHE")),
        quote!(
            async fn h(
                req: Request,
                who: Claims<'_, Public>,
                db: D1<'_>,
                p: Path<Id>,
                kv: Kv,
                m: Mint<'_, C>,
            ) -> Response {
                Response::empty()
            }
        ),
    )
    .unwrap();
    assert_eq!(
        roles(&h),
        [
            Role::Request,
            Role::Claims,
            Role::Storage(StorageKind::D1),
            Role::Part,
            Role::Storage(StorageKind::Kv),
            Role::Grant(Grant::Mint)
        ]
    );
    assert_eq!(h.attr.storage.iter().map(|s| s.binding.as_str()).collect::<Vec<_>>(), ["DB", "CACHE"]);
    let (lets, args) = crate::expand::arguments(&h);
    assert_eq!(args.len(), 6);
    // The `Path` extractor (parameter 3) runs first; the `Request` (parameter 0) after it.
    let lets: Vec<String> = lets.iter().map(ToString::to_string).collect();
    assert!(lets[0].contains("__arg3") && lets[0].contains("parts"), "{lets:?}");
    let request_at = lets.iter().position(|l| l.contains("request")).unwrap();
    assert!(request_at > 0);
}

#[test]
fn a_queue_handler_takes_its_batch_and_runs_as_system() {
    let h = check(
        HandlerKind::Queue,
        quote!("reindex", storage(D1), vars(SITE_NAME)),
        quote!(
            async fn q(batch: Batch<'_, Job>, who: Claims<'_, System>, db: D1<'_>, vars: Vars) {}
        ),
    )
    .unwrap();
    assert_eq!(roles(&h), [Role::Batch, Role::Claims, Role::Storage(StorageKind::D1), Role::Vars]);
    assert_eq!(h.attr.source.as_deref(), Some("reindex"));
    assert_eq!(h.attr.vars, ["SITE_NAME"]);
    let (lets, _) = crate::expand::arguments(&h);
    let claims = lets.iter().map(ToString::to_string).find(|l| l.contains("ClaimsFor")).unwrap();
    assert!(claims.contains("System"), "{claims}");
}

#[test]
fn a_durable_object_takes_any_other_type_as_its_message() {
    let h = check(
        HandlerKind::DurableObject,
        quote!(storage(KV)),
        quote!(impl Counter {
            async fn call(&self, hit: Hit, who: Claims<'_, DurableCaller>, store: ObjectStorage<'_>, kv: Kv<'_>) -> Result<u32> { Ok(hit.0) }
        }),
    )
    .unwrap();
    assert_eq!(h.name().to_string(), "Counter");
    assert_eq!(roles(&h), [Role::Message, Role::Claims, Role::ObjectStorage, Role::Storage(StorageKind::Kv)]);
}

#[test]
fn each_kind_refuses_what_it_is_not_given() {
    let cron = errors(
        HandlerKind::Cron,
        quote!("0 2 * * SUN"),
        quote!(
            async fn c(who: Claims<'_, System>, req: Request, b: Batch<'_, J>, e: Env) {}
        ),
    );
    assert!(cron.iter().any(|m| m.starts_with("a cron handler does not receive `Request`")), "{cron:?}");
    assert!(cron.iter().any(|m| m.starts_with("only a `#[queue(\"name\")]` handler receives a `Batch`")), "{cron:?}");
    assert!(cron.iter().any(|m| m.contains("does not receive `Env` (it would reach storage")), "{cron:?}");

    let route = errors(
        HandlerKind::Route,
        quote!(GET "/", identity = Public),
        quote!(
            async fn r(who: Claims<'_, Public>, b: Batch<'_, J>, e: Env, db: D1<'_>) {}
        ),
    );
    assert!(route.iter().any(|m| m.starts_with("`Batch` is not something a handler can receive")), "{route:?}");
    assert!(route.iter().any(|m| m.starts_with("handlers never receive the raw `Env`")), "{route:?}");
    assert!(route.iter().any(|m| m.contains("does not declare that storage: add `storage(D1)`")), "{route:?}");

    let object = errors(
        HandlerKind::DurableObject,
        quote!(),
        quote!(impl O { async fn call(&self, m: M, who: Claims<'_, DurableCaller>, v: Vars) -> Result<()> { Ok(()) } }),
    );
    assert!(object.iter().any(|m| m.contains("does not receive `Vars` (it acts as `DurableCaller`")), "{object:?}");
}

#[test]
fn each_kind_requires_its_claims_and_its_own_parameters() {
    let queue = errors(
        HandlerKind::Queue,
        quote!("reindex"),
        quote!(
            async fn q() {}
        ),
    );
    assert!(queue.iter().any(|m| m.starts_with("this queue handler takes no `Claims`")), "{queue:?}");
    assert!(queue.iter().any(|m| m.starts_with("this queue handler takes no messages")), "{queue:?}");

    let object = errors(HandlerKind::DurableObject, quote!(), quote!(impl O { fn call(&mut self) -> u32 { 0 } }));
    for expected in [
        "Durable Object handlers must be `async fn`",
        "a Durable Object handler takes `&self`",
        "this handler takes no `Claims`",
        "a Durable Object handler takes exactly one message parameter",
        "a Durable Object handler returns `Result<Reply>`",
    ] {
        assert!(object.iter().any(|m| m.starts_with(expected)), "{expected}: {object:?}");
    }
}

#[test]
fn a_role_taken_twice_is_reported_with_the_first() {
    let route = errors(
        HandlerKind::Route,
        quote!(POST "/", identity = Public),
        quote!(
            async fn r(who: Claims<'_, Public>, a: Json<A>, b: Form<B>, again: Claims<'_, Public>) {}
        ),
    );
    assert!(route.iter().any(|m| m.starts_with("a handler reads the request body once, and `Json` already reads it")));
    assert!(route.iter().any(|m| m == "the body is read here"));
    assert!(route.iter().any(|m| m.starts_with("a handler takes its `Claims` once")));
}

/// The parameters each kind's messages list are the ones its table accepts.
#[test]
fn what_each_kind_says_it_accepts_is_what_it_accepts() {
    let named = [
        ("`Request`", Role::Request),
        ("`Claims<", Role::Claims),
        ("`Vars`", Role::Vars),
        ("`Outbound`", Role::Outbound),
        ("`After`", Role::After),
        ("`Mint<", Role::Grant(Grant::Mint)),
        ("`Federation<", Role::Grant(Grant::Federation)),
        ("`FederationIssuer<", Role::Grant(Grant::Issuer)),
        ("`Path<T>`", Role::Part),
        ("`Json<T>`", Role::Body),
        ("`Batch<", Role::Batch),
        ("its message", Role::Message),
        ("`ObjectStorage<", Role::ObjectStorage),
        ("`D1<'_>`", Role::Storage(StorageKind::D1)),
    ];
    for kind in [HandlerKind::Route, HandlerKind::Cron, HandlerKind::Queue, HandlerKind::DurableObject] {
        for (text, role) in named {
            assert_eq!(kind.accepted().contains(text), kind.accepts(role), "{kind:?} and {role:?}");
        }
    }
}

#[test]
fn platform_events_refuse_cache_and_a_declared_identity() {
    let cron = errors(
        HandlerKind::Cron,
        quote!("0 2 * * SUN", identity = AccessJwt, storage(Cache)),
        quote!(
            async fn c(who: Claims<'_, System>) {}
        ),
    );
    assert!(cron.iter().any(|m| m.starts_with("a cron handler always runs as `System`")), "{cron:?}");
    assert!(cron.iter().any(|m| m.starts_with("a cron handler cannot use `Cache`")), "{cron:?}");
    let object = errors(HandlerKind::DurableObject, quote!(storage(Cache)), quote!(impl O {}));
    assert!(object.iter().any(|m| m.starts_with("a Durable Object cannot use `Cache`")), "{object:?}");
}
