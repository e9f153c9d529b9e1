//! AI summaries of posts, written by a model on Amazon Bedrock that the Worker reaches with no
//! long-lived AWS key (the seed's "Bedrock call: OIDC federation → AWS STS"):
//!
//! 1. `POST /admin/posts/:slug/summary` (Admin) takes a [`Federation<'_, SummaryRole>`]: the
//!    Worker signs an assertion with `FEDERATION_KEY` and exchanges it at the STS for temporary
//!    credentials of the role in `BEDROCK_ROLE_ARN` (cached in KV until shortly before they
//!    expire).
//! 2. It calls Bedrock's `InvokeModel` (`BEDROCK_URL`, model `BEDROCK_MODEL`, Anthropic's
//!    Messages format) with a request signed by those credentials (AWS Signature Version 4,
//!    [`layers_core::outbound::sigv4`]).
//! 3. The answer is cached in D1 `ai_summaries` (with a hash of the text it summarizes) and shown
//!    on the post's page; calling the route again regenerates it.
//!
//! For AWS to accept the assertion, the Worker publishes what an OIDC provider publishes
//! ([`FederationIssuer`]): `GET /.well-known/openid-configuration` and `GET
//! /.well-known/jwks.json` (the public half of `FEDERATION_KEY`, kid [`FEDERATION_KID`]), both
//! Public. Register `FEDERATION_ISSUER` as an IAM OIDC identity provider with audience
//! `sts.amazonaws.com`, and trust it in the role's policy for subject `layers-app:summaries`.

use layers_core::identity::FederationConfig;
use layers_core::outbound::{GuardedError, OutboundRequest};
use layers_core::prelude::*;
use serde::Deserialize;
use sha2::{Digest as _, Sha256};

use crate::admin::{admin_email, require_json};
use crate::{Admin, BackupRole};

/// The `kid` of `FEDERATION_KEY` in the published JWKS, shared by every federation role of the
/// app (they sign with the same key).
pub const FEDERATION_KID: &str = "layers-federation-1";

/// Default Bedrock region (`BEDROCK_REGION` overrides).
pub const DEFAULT_REGION: &str = "us-east-1";

/// The most characters of a post the model is given.
pub const MAX_INPUT_CHARS: usize = 20_000;

/// The most tokens the model may answer with.
pub const MAX_TOKENS: u32 = 300;

/// The IAM role the summaries are written with: `BEDROCK_ROLE_ARN`, allowed
/// `bedrock:InvokeModel` on the summary model only.
pub struct SummaryRole;

impl FederationConfig for SummaryRole {
    const KEY_ID: &'static str = FEDERATION_KID;
    const SUBJECT: &'static str = "layers-app:summaries";
    const ROLE_VAR: &'static str = "BEDROCK_ROLE_ARN";
    const SESSION_NAME: &'static str = "layers-summaries";
    const NAME: &'static str = "SummaryRole";
}

// Admins may have summaries written (and so use the role).
impl MayFederate<Admin> for SummaryRole {}

fn public_json(v: &serde_json::Value) -> Result<Response> {
    let resp = Response::from_json(v)?;
    resp.headers().set("cache-control", "public, max-age=3600")?;
    Ok(resp)
}

/// The OIDC discovery document of the Worker as an issuer (what AWS STS reads first).
#[route(GET "/.well-known/openid-configuration", identity = Public)]
pub async fn openid_configuration(
    _who: Claims<'_, Public>,
    issuer: FederationIssuer<'_, BackupRole>,
) -> Result<Response> {
    public_json(&issuer.openid_configuration()?)
}

/// The issuer's JWKS: the public half of `FEDERATION_KEY` (what AWS STS checks assertions with).
#[route(GET "/.well-known/jwks.json", identity = Public)]
pub async fn jwks(_who: Claims<'_, Public>, issuer: FederationIssuer<'_, BackupRole>) -> Result<Response> {
    public_json(&issuer.jwks()?)
}

#[derive(Debug, Deserialize)]
struct Post {
    title: String,
    body: String,
}

/// The first `max` characters of `s`.
fn clip(s: &str, max: usize) -> &str {
    s.char_indices().nth(max).map_or(s, |(i, _)| &s[..i])
}

/// What identifies the text a summary was written from: hex SHA-256 of title and body.
#[must_use]
pub fn source_hash(title: &str, body: &str) -> String {
    let mut h = Sha256::new();
    h.update(title.as_bytes());
    h.update([0]);
    h.update(body.as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The `InvokeModel` body for `post`: Anthropic's Messages format on Bedrock.
#[must_use]
pub fn invoke_body(title: &str, body: &str) -> serde_json::Value {
    serde_json::json!({
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": MAX_TOKENS,
        "system": "You summarize blog posts in two sentences of plain text, without preamble.",
        "messages": [{
            "role": "user",
            "content": [{ "type": "text", "text": format!("Title: {}\n\n{}", title, clip(body, MAX_INPUT_CHARS)) }],
        }],
    })
}

/// The model's text from an `InvokeModel` answer (`content[].text` of the `text` blocks).
#[must_use]
pub fn answer_text(answer: &serde_json::Value) -> Option<String> {
    let text: String = answer["content"]
        .as_array()?
        .iter()
        .filter(|b| b["type"] == "text")
        .filter_map(|b| b["text"].as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let text = text.trim();
    (!text.is_empty()).then(|| clip(text, 2000).to_owned())
}

/// `model` as one path segment (every byte but `A-Z a-z 0-9 - . _ ~` percent-encoded: a model
/// id's `:` travels as `%3A`, as AWS's SDKs send it).
#[must_use]
pub fn model_segment(model: &str) -> String {
    layers_core::outbound::percent_encode(model)
}

fn bad_gateway(detail: String) -> Error {
    Error::new(502, "the model call failed").with_detail(detail)
}

/// Writes (or rewrites) the AI summary of post `slug` with Bedrock and caches it in D1. Answers
/// `{"slug", "summary", "model", "credentials_from_cache"}`; 404 for an unknown post, 415
/// unless the request is `application/json`, 502 when STS or Bedrock refuse or fail.
#[route(POST "/admin/posts/:slug/summary", identity = Admin, storage(D1 because(FixedSchema, "posts and their cached AI summaries"), KV because(Sessions, "cached short-lived AWS credentials")), vars(BEDROCK_REGION, BEDROCK_MODEL), outbound(BEDROCK_URL))]
pub async fn summarize_post(
    req: Request,
    who: Claims<'_, Admin>,
    db: D1<'_>,
    kv: Kv<'_>,
    aws: Federation<'_, SummaryRole>,
    vars: Vars<'_>,
    out: Outbound<'_>,
) -> Result<Response> {
    require_json(req.header("content-type").as_deref())?;
    let slug = req.param("slug").unwrap_or_default().to_owned();
    let post: Option<Post> = db.prepare("SELECT title, body FROM posts WHERE slug = ?1").bind(&[&slug]).first().await?;
    let Some(post) = post else {
        return Err(Error::problem(404, "no such post"));
    };
    let model = vars
        .get("BEDROCK_MODEL")
        .filter(|m| !m.trim().is_empty())
        .ok_or_else(|| Error::new(503, "the model is not configured").with_detail("var BEDROCK_MODEL is unset"))?;
    let region =
        vars.get("BEDROCK_REGION").filter(|r| !r.trim().is_empty()).unwrap_or_else(|| DEFAULT_REGION.to_owned());
    let base = out.url("BEDROCK_URL")?;
    let creds = aws.credentials(&kv).await?;
    let body = serde_json::to_vec(&invoke_body(&post.title, &post.body)).map_err(|e| Error::internal(e.to_string()))?;
    let mut call = OutboundRequest::post(
        &format!("{}/model/{}/invoke", base.trim_end_matches('/'), model_segment(model.trim())),
        "application/json",
        body,
    );
    call.headers.push(("accept".into(), "application/json".into()));
    let now = layers_core::log::now_ms() / 1000;
    creds.sign(&mut call, region.trim(), "bedrock", now).map_err(|e| Error::internal(format!("SigV4: {e}")))?;
    let answer = match out.send(call).await {
        Ok(r) if r.status == 200 => r,
        Ok(r) => {
            let kind =
                r.headers.iter().find(|(k, _)| k == "x-amzn-errortype").map(|(_, v)| v.clone()).unwrap_or_default();
            return Err(bad_gateway(format!("Bedrock answered {} {kind}", r.status)));
        }
        Err(GuardedError::Refused(r)) => return Err(bad_gateway(format!("refused: {}", r.reason()))),
        Err(e) => return Err(bad_gateway(format!("Bedrock: {}", e.reason()))),
    };
    let summary = serde_json::from_slice::<serde_json::Value>(&answer.body)
        .ok()
        .as_ref()
        .and_then(answer_text)
        .ok_or_else(|| bad_gateway("Bedrock's answer has no text".into()))?;
    #[allow(clippy::cast_possible_wrap)] // seconds since the epoch
    let now = now as i64;
    db.batch(vec![
        db.prepare(
            "INSERT INTO ai_summaries (slug, summary, model, source_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (slug) DO UPDATE SET summary = excluded.summary, model = excluded.model, \
             source_hash = excluded.source_hash, created_at = excluded.created_at",
        )
        .bind(&[&slug, &summary, &model.trim(), &source_hash(&post.title, &post.body), &now]),
        db.prepare("INSERT INTO admin_audit (actor, action, created_at) VALUES (?1, ?2, ?3)").bind(&[
            &admin_email(&who),
            &format!("summarize {slug}"),
            &now,
        ]),
    ])
    .await?;
    let resp = Response::from_json(&serde_json::json!({
        "slug": slug,
        "summary": summary,
        "model": model.trim(),
        "credentials_from_cache": creds.from_cache,
    }))?;
    resp.headers().set("cache-control", "no-store")?;
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_ids_are_one_encoded_segment() {
        assert_eq!(
            model_segment("anthropic.claude-opus-4-1-20250805-v1:0"),
            "anthropic.claude-opus-4-1-20250805-v1%3A0"
        );
        assert_eq!(model_segment("us.a/b c"), "us.a%2Fb%20c");
    }

    #[test]
    fn the_request_and_the_answer() {
        let long = "x".repeat(MAX_INPUT_CHARS + 10);
        let body = invoke_body("T", &long);
        let text = body["messages"][0]["content"][0]["text"].as_str().unwrap();
        assert!(text.starts_with("Title: T\n\n") && text.chars().count() == MAX_INPUT_CHARS + "Title: T\n\n".len());
        assert_eq!(body["anthropic_version"], "bedrock-2023-05-31");
        let answer =
            serde_json::json!({"content": [{"type": "text", "text": " Two sentences. "}, {"type": "tool_use"}]});
        assert_eq!(answer_text(&answer).as_deref(), Some("Two sentences."));
        assert_eq!(answer_text(&serde_json::json!({"content": []})), None);
        assert_eq!(answer_text(&serde_json::json!({"message": "no"})), None);
    }

    #[test]
    fn source_hashes_separate_title_and_body() {
        assert_ne!(source_hash("ab", "c"), source_hash("a", "bc"));
        assert_eq!(source_hash("a", "b").len(), 64);
    }
}
