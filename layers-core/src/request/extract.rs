//! Typed extractors a handler takes as parameters: [`Path`], [`Query`], [`Json`], [`Form`] and
//! [`Cf`]. A failure becomes a 4xx RFC 9457 `application/problem+json` response naming the
//! field at fault, never the client's value.

use std::collections::HashMap;
use std::future::Future;

use serde::de::value::{MapDeserializer, SeqDeserializer};
use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};

use super::{Request, DEFAULT_BODY_LIMIT};
use crate::error::Error;

/// Something made from the request's head (path, query, `cf`), before the body is read.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be taken from the request head",
    note = "extractors are `Path<T>`, `Query<T>`, `Cf`, `Headers`, `Cookies` (head) and `Json<T>`, `Form<T>` (body)",
    note = "for the request's headers take `layers_core::Headers` (read-only); the handler never gets the raw `worker::Request` or its `worker::Headers`"
)]
pub trait FromRequestParts: Sized {
    /// The extraction.
    ///
    /// # Errors
    /// A 4xx problem naming what is wrong.
    fn from_parts(req: &Request) -> Result<Self, Error>;
}

/// Something made by reading the request's body (at most one per handler).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be taken from the request body",
    note = "body extractors are `Json<T>` and `Form<T>`"
)]
pub trait FromBody: Sized {
    /// The extraction.
    ///
    /// # Errors
    /// A 4xx problem naming what is wrong.
    fn from_body(req: &mut Request) -> impl Future<Output = Result<Self, Error>>;
}

/// The route's `:name` parameters: a struct with those names, a tuple in pattern order, or a
/// single value (`Path<String>`, `Path<u64>`) when the pattern has one parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path<T>(pub T);

/// The query string, deserialized (`?page=2&tag=rust` into a struct).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query<T>(pub T);

/// A JSON body (`application/json` or `*+json`, at most 1 MiB).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Json<T>(pub T);

/// An `application/x-www-form-urlencoded` body (at most 1 MiB).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form<T>(pub T);

impl<T: DeserializeOwned> FromRequestParts for Path<T> {
    fn from_parts(req: &Request) -> Result<Self, Error> {
        from_params(&req.params).map(Path)
    }
}

impl<T: DeserializeOwned> FromRequestParts for Query<T> {
    fn from_parts(req: &Request) -> Result<Self, Error> {
        from_urlencoded(&req.query, "query").map(Query)
    }
}

impl<T: DeserializeOwned> FromBody for Json<T> {
    async fn from_body(req: &mut Request) -> Result<Self, Error> {
        let ct = req.header("content-type").unwrap_or_default();
        if !is_json(&ct) {
            return Err(Error::problem(415, "expected content-type: application/json"));
        }
        let body = req.bytes_limited(DEFAULT_BODY_LIMIT).await.map_err(Error::into_problem)?;
        from_json(&body).map(Json)
    }
}

impl<T: DeserializeOwned> FromBody for Form<T> {
    async fn from_body(req: &mut Request) -> Result<Self, Error> {
        let ct = req.header("content-type").unwrap_or_default();
        if mime(&ct) != "application/x-www-form-urlencoded" {
            return Err(Error::problem(415, "expected content-type: application/x-www-form-urlencoded"));
        }
        let body = req.bytes_limited(DEFAULT_BODY_LIMIT).await.map_err(Error::into_problem)?;
        let text = std::str::from_utf8(&body).map_err(|_| Error::problem(400, "form body is not UTF-8"))?;
        from_urlencoded(text, "form body").map(Form)
    }
}

/// The typed `request.cf`: where the request came from, as Cloudflare's edge saw it. Every
/// field is `None` when the edge did not set it (e.g. `bot_score` without Bot Management).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cf {
    /// ISO 3166-1 alpha-2 country code (`cf.country`).
    pub country: Option<String>,
    /// The data center's IATA code (`cf.colo`).
    pub colo: Option<String>,
    /// The client's autonomous system number (`cf.asn`).
    pub asn: Option<u32>,
    /// The client's city (`cf.city`).
    pub city: Option<String>,
    /// Bot Management score 1–99 (`cf.botManagement.score`).
    pub bot_score: Option<u32>,
    /// The TLS version, e.g. `TLSv1.3` (`cf.tlsVersion`).
    pub tls_version: Option<String>,
    /// mTLS details (`cf.tlsClientAuth`), as strings.
    pub tls_client_auth: Option<HashMap<String, String>>,
}

impl FromRequestParts for Cf {
    fn from_parts(req: &Request) -> Result<Self, Error> {
        Ok(req.cf())
    }
}

fn mime(ct: &str) -> String {
    ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase()
}

fn is_json(ct: &str) -> bool {
    let m = mime(ct);
    m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
}

/// Parses a JSON body into `T`, with a problem detail that never quotes the body.
pub(crate) fn from_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
    serde_json::from_slice(body).map_err(|e| {
        let at = format!("(line {}, column {})", e.line(), e.column());
        let detail = match e.classify() {
            serde_json::error::Category::Data => format!("JSON body: {} {at}", safe_detail(&e.to_string())),
            serde_json::error::Category::Eof => format!("JSON body ends too early {at}"),
            _ => format!("JSON body is not valid JSON {at}"),
        };
        Error::problem(400, detail)
    })
}

/// Parses urlencoded text (a query or a form body) into `T`.
pub(crate) fn from_urlencoded<T: DeserializeOwned>(text: &str, what: &str) -> Result<T, Error> {
    serde_urlencoded::from_str(text.trim_start_matches('?'))
        .map_err(|e| Error::problem(400, format!("{what}: {}", safe_detail(&e.to_string()))))
}

/// Deserializes the route's parameters into `T`.
pub(crate) fn from_params<T: DeserializeOwned>(params: &[(&'static str, String)]) -> Result<T, Error> {
    T::deserialize(ParamsDe(params))
        .map_err(|e: de::value::Error| Error::problem(400, format!("path: {}", safe_detail(&e.to_string()))))
}

/// What a deserialization error says, without anything it quotes from the input: the field a
/// struct is missing, or what was expected. serde's messages can carry the client's value
/// (`invalid type: string "jane@…"`, ``unknown field `x` ``), which must not be echoed.
///
/// The detail is built from parts the server controls only: a fixed category from the start of
/// the message (which the input cannot reach), the field name of a `missing field` (from the
/// Rust type), and what follows the *last* `", expected "` — serde appends the type's
/// expectation after the value it quotes, so an input value holding `", expected "` (or
/// `" at line "`) is always before it. The `" at line L column C"` serde_json adds is removed
/// only as that exact suffix.
pub(crate) fn safe_detail(msg: &str) -> String {
    let msg = strip_position(msg);
    for known in ["missing field `", "duplicate field `"] {
        if let Some(rest) = msg.strip_prefix(known) {
            // The whole rest must be one field name: no room for anything quoted from input.
            if let Some(name) = rest.strip_suffix('`').filter(|n| is_field_name(n)) {
                return format!("{known}{name}`");
            }
        }
    }
    let head = if msg.starts_with("unknown field") {
        "unknown field"
    } else if msg.starts_with("unknown variant") {
        "unknown variant"
    } else if msg.starts_with("invalid length") {
        "wrong number of values"
    } else if msg.starts_with("invalid type") {
        "invalid type"
    } else {
        "invalid value"
    };
    // `expected …` comes from the target type (its `Visitor::expecting`), after the value.
    match msg.rfind(", expected ") {
        Some(i) if !msg[i + 2..].contains('"') => format!("{head}, {}", &msg[i + 2..]),
        // serde_json's syntax errors (`expected `,` or `}``, `expected value`) are its own words.
        None if msg.starts_with("expected ") && !msg.contains('"') => format!("{head}, {msg}"),
        _ => head.to_owned(),
    }
}

/// `msg` without serde_json's `" at line L column C"` suffix (only when it is exactly that).
fn strip_position(msg: &str) -> &str {
    let Some(i) = msg.rfind(" at line ") else { return msg };
    let tail = &msg[i + " at line ".len()..];
    let ok = tail.split_once(" column ").is_some_and(|(l, c)| {
        !l.is_empty() && !c.is_empty() && l.bytes().all(|b| b.is_ascii_digit()) && c.bytes().all(|b| b.is_ascii_digit())
    });
    if ok {
        &msg[..i]
    } else {
        msg
    }
}

/// A Rust field name as serde reports it (letters, digits, `_`), not input text.
fn is_field_name(n: &str) -> bool {
    !n.is_empty() && n.len() <= 64 && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// A deserializer over the route's parameters: a map for structs, a sequence for tuples, the
/// only value for a scalar.
struct ParamsDe<'a>(&'a [(&'static str, String)]);

impl ParamsDe<'_> {
    fn single(&self) -> Result<Value<'_>, de::value::Error> {
        match self.0 {
            [(_, v)] => Ok(Value(v)),
            _ => Err(de::Error::custom(format!(
                "invalid length {}, expected a struct or tuple for several path parameters",
                self.0.len()
            ))),
        }
    }
    fn values(&self) -> SeqDeserializer<impl Iterator<Item = Value<'_>>, de::value::Error> {
        SeqDeserializer::new(self.0.iter().map(|(_, v)| Value(v)))
    }
}

macro_rules! single {
    ($($m:ident)*) => {$(
        fn $m<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Self::Error> {
            self.single()?.$m(v)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for ParamsDe<'_> {
    type Error = de::value::Error;
    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Self::Error> {
        v.visit_map(MapDeserializer::new(self.0.iter().map(|(k, val)| (*k, Value(val)))))
    }
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Self::Error> {
        self.deserialize_any(v)
    }
    fn deserialize_map<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Self::Error> {
        self.deserialize_any(v)
    }
    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Self::Error> {
        v.visit_seq(self.values())
    }
    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, v: V) -> Result<V::Value, Self::Error> {
        v.visit_seq(self.values())
    }
    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: usize,
        v: V,
    ) -> Result<V::Value, Self::Error> {
        v.visit_seq(self.values())
    }
    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _: &'static str, v: V) -> Result<V::Value, Self::Error> {
        v.visit_newtype_struct(self)
    }
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        n: &'static str,
        vs: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Self::Error> {
        self.single()?.deserialize_enum(n, vs, v)
    }
    single!(deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_i128
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_u128 deserialize_f32
        deserialize_f64 deserialize_char deserialize_str deserialize_string deserialize_bytes
        deserialize_byte_buf deserialize_option deserialize_identifier);
    serde::forward_to_deserialize_any! { unit unit_struct ignored_any }
}

/// One decoded parameter value: parsed as the visitor asks (numbers, bools) or given as text.
struct Value<'a>(&'a str);

impl<'de> IntoDeserializer<'de> for Value<'_> {
    type Deserializer = Self;
    fn into_deserializer(self) -> Self {
        self
    }
}

macro_rules! parsed {
    ($($m:ident $visit:ident $t:ty, $what:literal;)*) => {$(
        fn $m<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Self::Error> {
            match self.0.parse::<$t>() {
                Ok(n) => v.$visit(n),
                Err(_) => Err(de::Error::custom(concat!("invalid value, expected ", $what))),
            }
        }
    )*};
}

impl<'de> de::Deserializer<'de> for Value<'_> {
    type Error = de::value::Error;
    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Self::Error> {
        v.visit_str(self.0)
    }
    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Self::Error> {
        v.visit_some(self)
    }
    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _: &'static str, v: V) -> Result<V::Value, Self::Error> {
        v.visit_newtype_struct(self)
    }
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Self::Error> {
        v.visit_enum(self.0.into_deserializer())
    }
    parsed! {
        deserialize_bool visit_bool bool, "a boolean";
        deserialize_i8 visit_i8 i8, "an integer";
        deserialize_i16 visit_i16 i16, "an integer";
        deserialize_i32 visit_i32 i32, "an integer";
        deserialize_i64 visit_i64 i64, "an integer";
        deserialize_i128 visit_i128 i128, "an integer";
        deserialize_u8 visit_u8 u8, "a non-negative integer";
        deserialize_u16 visit_u16 u16, "a non-negative integer";
        deserialize_u32 visit_u32 u32, "a non-negative integer";
        deserialize_u64 visit_u64 u64, "a non-negative integer";
        deserialize_u128 visit_u128 u128, "a non-negative integer";
        deserialize_f32 visit_f32 f32, "a number";
        deserialize_f64 visit_f64 f64, "a number";
        deserialize_char visit_char char, "a single character";
    }
    serde::forward_to_deserialize_any! {
        str string bytes byte_buf unit unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Sub {
        email: String,
        age: u32,
    }

    fn params(p: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
        p.iter().map(|(k, v)| (*k, (*v).to_owned())).collect()
    }

    #[test]
    fn path_into_struct_tuple_and_single_values() {
        #[derive(Debug, Deserialize, PartialEq)]
        struct P {
            slug: String,
            id: u64,
        }
        let p = params(&[("slug", "hello"), ("id", "42")]);
        assert_eq!(from_params::<P>(&p).unwrap(), P { slug: "hello".into(), id: 42 });
        assert_eq!(from_params::<(String, u64)>(&p).unwrap(), ("hello".into(), 42));
        assert_eq!(from_params::<String>(&params(&[("slug", "a b")])).unwrap(), "a b");
        assert_eq!(from_params::<u32>(&params(&[("id", "7")])).unwrap(), 7);
        assert_eq!(from_params::<Option<i64>>(&params(&[("id", "-7")])).unwrap(), Some(-7));
    }

    #[test]
    fn path_errors_name_the_field_not_the_value() {
        let e = from_params::<u32>(&params(&[("id", "secret-value")])).unwrap_err();
        assert_eq!(e.status(), 400);
        assert!(e.is_problem());
        assert!(!e.public_message().contains("secret-value"), "{e:?}");
        assert!(e.public_message().contains("expected a non-negative integer"), "{e:?}");
        let e = from_params::<Sub>(&params(&[("email", "x")])).unwrap_err();
        assert_eq!(e.public_message(), "path: missing field `age`");
        let e = from_params::<String>(&params(&[("a", "x"), ("b", "y")])).unwrap_err();
        assert!(e.public_message().starts_with("path: wrong number of values"), "{e:?}");
    }

    #[test]
    fn query_and_form_values() {
        let q: Sub = from_urlencoded("?email=a%40b.c&age=3", "query").unwrap();
        assert_eq!(q, Sub { email: "a@b.c".into(), age: 3 });
        let e = from_urlencoded::<Sub>("email=jane%40example.com", "query").unwrap_err();
        assert_eq!((e.status(), e.public_message()), (400, "query: missing field `age`"));
        let e = from_urlencoded::<Sub>("email=jane&age=jane-secret", "form body").unwrap_err();
        assert!(!e.public_message().contains("jane"), "{e:?}");
    }

    #[test]
    fn json_errors_never_quote_the_body() {
        let ok: Sub = from_json(br#"{"email":"a@b.c","age":1}"#).unwrap();
        assert_eq!(ok.age, 1);
        let e = from_json::<Sub>(br#"{"email":"jane@example.com"}"#).unwrap_err();
        assert!(e.public_message().starts_with("JSON body: missing field `age`"), "{e:?}");
        for body in [
            &br#"{"email":"jane@example.com","age":"jane@example.com"}"#[..],
            br#"{"email":5,"age":1}"#,
            br#"{"email":"jane@example.com"#,
            br#"jane@example.com"#,
        ] {
            let e = from_json::<Sub>(body).unwrap_err();
            assert_eq!(e.status(), 400);
            assert!(!e.public_message().contains("jane"), "{e:?}");
            assert!(!e.public_message().contains("`5`"), "{e:?}");
        }
    }

    #[test]
    fn unknown_fields_are_not_named_back() {
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Strict {
            email: String,
        }
        let e = from_json::<Strict>(br#"{"email":"a","jane@example.com":1}"#).unwrap_err();
        assert!(e.public_message().starts_with("JSON body: unknown field, expected `email`"), "{e:?}");
    }

    #[test]
    fn safe_detail_keeps_field_names_and_expectations_only() {
        assert_eq!(safe_detail("missing field `email` at line 1 column 2"), "missing field `email`");
        assert_eq!(
            safe_detail("invalid type: string \"jane\", expected u32 at line 1 column 9"),
            "invalid type, expected u32"
        );
        assert_eq!(
            safe_detail("unknown variant `jane`, expected one of `a`, `b`"),
            "unknown variant, expected one of `a`, `b`"
        );
        assert_eq!(safe_detail("unknown field `jane`, expected `email`"), "unknown field, expected `email`");
        assert_eq!(safe_detail("invalid digit found in string"), "invalid value");
    }

    #[test]
    fn safe_detail_never_echoes_a_value_that_imitates_serde() {
        // The client's value holds serde's own markers: the detail keeps only what follows the
        // last `, expected ` (the type's), and the real position suffix.
        let hostile = [
            r#"invalid type: string "x, expected SECRET-1", expected u32 at line 1 column 30"#,
            r#"invalid type: string "x, expected SECRET-2 at line 5", expected u32 at line 1 column 40"#,
            r#"unknown variant `a, expected SECRET-3`, expected one of `weekly`, `daily`"#,
            r#"invalid value: string "SECRET-4 at line 1 column 2""#,
            "missing field `email` SECRET-5`",
            r#"invalid type: string "", expected SECRET-6"", expected u32"#,
        ];
        for m in hostile {
            let d = safe_detail(m);
            assert!(!d.contains("SECRET"), "{m} -> {d}");
        }
        assert_eq!(safe_detail(hostile[0]), "invalid type, expected u32");
        assert_eq!(safe_detail(hostile[2]), "unknown variant, expected one of `weekly`, `daily`");
        assert_eq!(safe_detail(hostile[4]), "invalid value");
    }

    #[test]
    fn content_types() {
        assert!(is_json("application/json; charset=utf-8"));
        assert!(is_json("Application/Problem+JSON"));
        assert!(!is_json("text/plain"));
        assert!(!is_json("text/json+json"));
    }
}
