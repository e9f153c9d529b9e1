//! A verifier's [`Security`] as OpenAPI 3.1 security scheme objects and requirements.

use serde_json::{json, Map, Value};

use crate::identity::{Scheme, SchemeKind, Security};

/// The Security Scheme Object of `scheme` (`None` for [`SchemeKind::Undeclared`], which no
/// OpenAPI type describes).
#[must_use]
pub fn scheme_object(scheme: &Scheme) -> Option<Value> {
    let mut obj = match scheme.kind {
        SchemeKind::ApiKey { name, location } => json!({"type": "apiKey", "name": name, "in": location.as_str()}),
        SchemeKind::Bearer { format: Some(f) } => json!({"type": "http", "scheme": "bearer", "bearerFormat": f}),
        SchemeKind::Bearer { format: None } => json!({"type": "http", "scheme": "bearer"}),
        SchemeKind::MutualTls => json!({"type": "mutualTLS"}),
        SchemeKind::Undeclared => return None,
    };
    let map = obj.as_object_mut()?;
    map.insert("description".into(), Value::String(scheme.description.clone()));
    for (name, value) in &scheme.extensions {
        map.insert((*name).to_owned(), Value::String(value.clone()));
    }
    Some(obj)
}

/// The operation's `security` (its requirement alternatives; `None` when nothing can be said
/// in OpenAPI's terms — anonymous routes get `Some([])`), adding the schemes it names to
/// `schemes` (`components.securitySchemes`). A scheme whose id is taken by a different
/// definition gets the id with `_2`, `_3`… appended.
#[must_use]
pub fn requirement_and_schemes(security: &Security, schemes: &mut Map<String, Value>) -> Option<Vec<Value>> {
    if security.is_anonymous() {
        return Some(Vec::new());
    }
    let mut requirements = Vec::new();
    for alternative in security.alternatives() {
        let mut requirement = Map::new();
        let mut expressible = true;
        for scheme in alternative {
            let Some(object) = scheme_object(scheme) else {
                expressible = false;
                break;
            };
            let id = free_id(&scheme.id, &object, schemes);
            schemes.insert(id.clone(), object);
            requirement.insert(id, json!([]));
        }
        if expressible {
            requirements.push(Value::Object(requirement));
        }
    }
    // An alternative OpenAPI cannot state would make the rest read as "only these".
    let all = requirements.len() == security.alternatives().len();
    all.then_some(requirements)
}

fn free_id(id: &str, object: &Value, schemes: &Map<String, Value>) -> String {
    let clean: String =
        id.chars().map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '_' }).collect();
    let mut candidate = clean.clone();
    let mut n = 1;
    while let Some(existing) = schemes.get(&candidate) {
        if existing == object {
            break;
        }
        n += 1;
        candidate = format!("{clean}_{n}");
    }
    candidate
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::{AccessJwt, AnyOf, ApiKey, Location, Mtls, Public, Verifier};

    #[test]
    fn access_is_a_header_or_a_cookie_and_schemes_are_shared() {
        let mut schemes = Map::new();
        let access = requirement_and_schemes(&<AccessJwt>::openapi_security(), &mut schemes).unwrap();
        assert_eq!(access, vec![json!({"AccessJwtHeader": []}), json!({"AccessJwtCookie": []})]);
        assert_eq!(schemes["AccessJwtHeader"]["in"], "header");
        assert_eq!(schemes["AccessJwtHeader"]["name"], "Cf-Access-Jwt-Assertion");
        assert_eq!(schemes["AccessJwtCookie"]["in"], "cookie");
        assert_eq!(schemes["AccessJwtCookie"]["name"], "CF_Authorization");
        let any = requirement_and_schemes(&<AnyOf<AccessJwt, ApiKey>>::openapi_security(), &mut schemes).unwrap();
        assert_eq!(any.len(), 3);
        assert_eq!(schemes.len(), 3, "the Access schemes are not added twice");
        let _ = requirement_and_schemes(&<Mtls>::openapi_security(), &mut schemes).unwrap();
        assert_eq!(schemes["Mtls"], json!({"type": "mutualTLS", "description": schemes["Mtls"]["description"]}));
        assert_eq!(requirement_and_schemes(&Public::openapi_security(), &mut schemes), Some(vec![]));
    }

    #[test]
    fn a_clashing_id_gets_a_suffix_and_undeclared_schemes_no_requirement() {
        let mut schemes = Map::new();
        let a = Security::one(Scheme::new("Key", SchemeKind::ApiKey { name: "x-a", location: Location::Header }, "a"));
        let b = Security::one(Scheme::new("Key", SchemeKind::ApiKey { name: "x-b", location: Location::Query }, "b"));
        assert_eq!(requirement_and_schemes(&a, &mut schemes).unwrap(), vec![json!({"Key": []})]);
        assert_eq!(requirement_and_schemes(&b, &mut schemes).unwrap(), vec![json!({"Key_2": []})]);
        assert_eq!(requirement_and_schemes(&Security::undeclared("Probe"), &mut schemes), None);
        assert_eq!(requirement_and_schemes(&a.or(Security::undeclared("Probe")), &mut schemes), None);
    }
}
