use serde::Deserialize;
use serde_json::json;

use super::*;
use crate::__private::{entry, LocalBoxFuture, Route, RouteCx, RouteMeta};
use crate::identity::{AccessJwt, EmailAllowlist, Guarded, Public};
use crate::openapi::{ParamSchema, Responds};

#[derive(Deserialize, schemars::JsonSchema)]
#[allow(dead_code)]
struct PostPath {
    slug: String,
    n: u32,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[allow(dead_code)]
struct Paging {
    page: Option<u32>,
    q: String,
}

#[derive(Deserialize, serde::Serialize, schemars::JsonSchema)]
#[allow(dead_code)]
struct Flag {
    on: bool,
}

const fn described(
    method: Method,
    pattern: &'static str,
    segments: &'static [Seg<'static>],
    handler: &'static str,
) -> RouteMeta {
    RouteMeta {
        method,
        pattern,
        segments,
        identity: "?",
        identity_as_written: "?",
        handler,
        ..crate::check::tests::BLANK
    }
}

struct Show;
impl Route for Show {
    type Identity = Public;
    const META: RouteMeta = RouteMeta {
        params: &[
            ParamSchema::of::<PostPath>(ParamKind::Path, "PostPath"),
            ParamSchema::of::<Paging>(ParamKind::Query, "Paging"),
        ],
        responses: &[Responds::json::<Flag>(200)],
        ..described(Method::Get, "/posts/:slug/:n", &[Seg::Lit("posts"), Seg::Param("slug"), Seg::Param("n")], "show")
    };
    fn call<'r>(_: RouteCx<'r, Public>) -> LocalBoxFuture<'r, Result<worker::Response, crate::Error>> {
        Box::pin(async { Err(crate::Error::not_found()) })
    }
}

type Admin = Guarded<AccessJwt, EmailAllowlist>;

struct SetFlag;
impl Route for SetFlag {
    type Identity = Admin;
    const META: RouteMeta = RouteMeta {
        params: &[ParamSchema::of::<Flag>(ParamKind::Json, "Flag")],
        ..described(Method::Post, "/admin/*", &[Seg::Lit("admin"), Seg::Rest], "set_flag")
    };
    fn call<'r>(_: RouteCx<'r, Admin>) -> LocalBoxFuture<'r, Result<worker::Response, crate::Error>> {
        Box::pin(async { Err(crate::Error::not_found()) })
    }
}

struct InPath;
impl crate::identity::TokenConfig for InPath {
    const SECRET: &'static str = "SIGNING_KEY";
    const PURPOSE: &'static str = "unsubscribe";
    const SOURCE: crate::identity::TokenSource = crate::identity::TokenSource::Param("token");
}
type Unsubscribe = crate::identity::SignedToken<InPath>;

struct Unsub;
impl Route for Unsub {
    type Identity = Unsubscribe;
    const META: RouteMeta = RouteMeta {
        responses: &[Responds { status: 303, body: crate::openapi::Body::Empty }],
        ..described(Method::Any, "/u/:token", &[Seg::Lit("u"), Seg::Param("token")], "unsub")
    };
    fn call<'r>(_: RouteCx<'r, Unsubscribe>) -> LocalBoxFuture<'r, Result<worker::Response, crate::Error>> {
        Box::pin(async { Err(crate::Error::not_found()) })
    }
}

static ROUTES: [crate::__private::RouteEntry; 3] = [entry::<Show>(), entry::<SetFlag>(), entry::<Unsub>()];

fn doc() -> Value {
    let app = App::new(&ROUTES, &[], &[], &[], &["ADMIN_EMAILS"]);
    document(&app, &Info { title: "t".into(), version: "1".into(), description: None })
}

#[test]
fn paths_become_templates_with_typed_parameters() {
    let d = doc();
    assert_eq!(d["openapi"], "3.1.1");
    let show = &d["paths"]["/posts/{slug}/{n}"]["get"];
    assert_eq!(show["operationId"], "show");
    assert_eq!(show["tags"], json!(["posts"]));
    assert_eq!(show["security"], json!([]), "Public asks for nothing");
    let params = show["parameters"].as_array().unwrap();
    let by = |n: &str| params.iter().find(|p| p["name"] == n).unwrap().clone();
    assert_eq!(by("slug")["in"], "path");
    assert_eq!(by("n")["schema"]["type"], "integer");
    assert_eq!((by("q")["in"].clone(), by("q")["required"].clone()), (json!("query"), json!(true)));
    assert_eq!(by("page")["required"], false);
    assert_eq!(show["responses"]["200"]["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/Flag");
    assert!(show["responses"].get("401").is_none(), "anyone may call: no 401");
    assert_eq!(show["responses"]["400"]["$ref"], "#/components/responses/BadRequest");
    let bad = &d["components"]["responses"]["BadRequest"]["content"];
    assert_eq!(bad["application/problem+json"]["schema"]["$ref"], "#/components/schemas/Problem");
    assert!(d["components"]["schemas"]["Flag"]["properties"]["on"].is_object());
    assert_eq!(d["components"]["schemas"]["Problem"]["required"], json!(["type", "title", "status"]));
}

#[test]
fn a_guarded_wildcard_route_has_access_security_and_body_errors() {
    let d = doc();
    let op = &d["paths"]["/admin/{rest}"]["post"];
    assert_eq!(op["security"], json!([{"AccessJwtHeader": []}, {"AccessJwtCookie": []}]));
    assert_eq!(op["x-layers-identity"]["verifier"], "AccessJwt+EmailAllowlist");
    let rest = &op["parameters"][0];
    assert_eq!((rest["name"].clone(), rest["x-layers-wildcard"].clone()), (json!("rest"), json!(true)));
    assert_eq!(op["requestBody"]["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/Flag");
    for status in ["401", "403", "413", "415", "503", "2XX", "4XX"] {
        assert!(op["responses"].get(status).is_some(), "{status} documented");
    }
    assert_eq!(op["responses"]["415"]["$ref"], "#/components/responses/UnsupportedMediaType");
    let unsupported = &d["components"]["responses"]["UnsupportedMediaType"]["content"];
    assert_eq!(unsupported["application/problem+json"]["schema"]["$ref"], "#/components/schemas/Problem");
    assert!(
        d["components"]["responses"]["Unauthorized"]["content"]["text/plain"].is_object(),
        "denials are plain text"
    );
    let schemes = &d["components"]["securitySchemes"];
    assert_eq!(schemes["AccessJwtCookie"]["in"], "cookie");
}

#[test]
fn templates_and_tags() {
    assert_eq!(template(&[]).0, "/");
    assert_eq!(template(&[Seg::Lit("a"), Seg::Param("b"), Seg::Rest]).0, "/a/{b}/{rest}");
    assert_eq!(tag(&[Seg::Param("x")]), "root");
    let mut taken = vec![];
    assert_eq!((unique_id("h", &mut taken), unique_id("h", &mut taken)), ("h".into(), "h_2".into()));
}

#[test]
fn a_token_in_the_path_is_said_in_words_and_any_is_every_method() {
    let d = doc();
    let item = d["paths"]["/u/{token}"].as_object().unwrap();
    assert_eq!(item.len(), 6, "ANY: get, post, put, patch, delete, options");
    let op = &item["post"];
    assert_eq!(op["operationId"], "unsub_post");
    assert!(op.get("security").is_none(), "no scheme states a token in the path");
    let said = op["x-layers-security"][0].as_str().unwrap();
    assert!(said.contains("purpose `unsubscribe`") && said.contains("param `token`"), "{said}");
    assert!(op["responses"]["303"].get("content").is_none());
    assert!(op["responses"].get("401").is_some(), "not anonymous");
}
