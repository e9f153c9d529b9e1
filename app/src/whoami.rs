//! `GET /api/whoami`: who the caller is, a machine (API key) or a person (Cloudflare Access):
//! the `AnyOf` identity.

use layers_core::identity::{AccessJwt, AnyOf, OneOf};
use layers_core::prelude::*;

use crate::AdminAccess;

/// Machines (API key) or people (Access) may ask who they are.
#[route(GET "/api/whoami", identity = AnyOf<ApiKey, AccessJwt<AdminAccess>>)]
pub async fn whoami(who: Claims<'_, AnyOf<ApiKey, AccessJwt<AdminAccess>>>) -> Result<Response> {
    let v = match &*who {
        OneOf::First(key) => serde_json::json!({ "via": "api-key", "label": key.label }),
        OneOf::Second(access) => serde_json::json!({ "via": "access", "email": access.email() }),
    };
    Ok(Response::from_json(&v)?)
}
