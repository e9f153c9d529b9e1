//! The parts of an Access JWT that [`AccessJwt`](super::AccessJwt) reads itself, in one pass
//! each: strict base64url, and the payload's claims (the time claims as jwt-compact reads them,
//! everything else as a strict JSON object) from a single JSON parse.
//!
//! jwt-compact's `UntrustedToken` decodes every segment with a constant-time base64 codec and
//! its `Claims` parse buffers every unknown claim; the strict payload parse then decoded and
//! parsed the payload a second time. That was most of the CPU an uncached token cost in
//! Workers. The token is not secret from the client that sends it, so its decoding need not be
//! constant-time. What is refused stays exactly what was refused before; the unit tests below
//! compare both parsers with jwt-compact's and base64ct's on hostile inputs.

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

// ---- base64url -----------------------------------------------------------------------------------

/// Marks a byte that is not in the base64url alphabet.
const NOT_B64: u8 = 0xff;

/// base64url alphabet value of each byte, [`NOT_B64`] for the rest.
const B64URL: [u8; 256] = {
    let mut t = [NOT_B64; 256];
    let mut i = 0;
    while i < 26 {
        t[b'A' as usize + i] = i as u8;
        t[b'a' as usize + i] = 26 + i as u8;
        i += 1;
    }
    let mut d = 0;
    while d < 10 {
        t[b'0' as usize + d] = 52 + d as u8;
        d += 1;
    }
    t[b'-' as usize] = 62;
    t[b'_' as usize] = 63;
    t
};

/// Decodes unpadded base64url as strictly as base64ct's `Base64UrlUnpadded` (which
/// jwt-compact decodes tokens with): only `A–Z a–z 0–9 - _`, no padding, no whitespace, no
/// length of the form 4k + 1, and the unused low bits of the last character zero (one
/// encoding per byte string). `None` for anything else.
pub(super) fn b64url_decode(s: &str) -> Option<Vec<u8>> {
    let src = s.as_bytes();
    if src.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(src.len() / 4 * 3 + 2);
    let mut quads = src.chunks_exact(4);
    for q in &mut quads {
        let (a, b, c, d) = (
            B64URL[usize::from(q[0])],
            B64URL[usize::from(q[1])],
            B64URL[usize::from(q[2])],
            B64URL[usize::from(q[3])],
        );
        if (a | b | c | d) & 0xc0 != 0 {
            return None;
        }
        out.extend_from_slice(&[a << 2 | b >> 4, b << 4 | c >> 2, c << 6 | d]);
    }
    match *quads.remainder() {
        [] => {}
        [a, b] => {
            let (a, b) = (B64URL[usize::from(a)], B64URL[usize::from(b)]);
            if (a | b) & 0xc0 != 0 || b & 0x0f != 0 {
                return None;
            }
            out.push(a << 2 | b >> 4);
        }
        [a, b, c] => {
            let (a, b, c) = (B64URL[usize::from(a)], B64URL[usize::from(b)], B64URL[usize::from(c)]);
            if (a | b | c) & 0xc0 != 0 || c & 0x03 != 0 {
                return None;
            }
            out.extend_from_slice(&[a << 2 | b >> 4, b << 4 | c >> 2]);
        }
        _ => return None,
    }
    Some(out)
}

// ---- the payload ---------------------------------------------------------------------------------

/// Earliest Unix second jwt-compact (chrono's `DateTime<Utc>`) accepts in a time claim.
const MIN_TIMESTAMP: i64 = -8_334_601_228_800;
/// Latest Unix second jwt-compact accepts in a time claim.
const MAX_TIMESTAMP: i64 = 8_210_266_876_799;

/// A token's payload, read in one JSON pass.
pub(super) struct Payload {
    /// Every claim but `exp`, `nbf` and `iat`.
    pub(super) claims: Map<String, Value>,
    pub(super) exp: Option<i64>,
    pub(super) nbf: Option<i64>,
    pub(super) iat: Option<i64>,
    /// Some object (at any depth) repeats a name. The claims are readable, but the payload is
    /// refused once its signature verified (as the strict parse after the signature did).
    pub(super) duplicate: bool,
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Payload").field("duplicate", &self.duplicate).finish_non_exhaustive()
    }
}

/// Reads a payload as jwt-compact's `Claims` parse and the strict parse together did: `Err`
/// exactly when jwt-compact refuses the claims (not JSON, not an object, `exp`/`nbf`/`iat`
/// not a number of seconds chrono can hold, or one of them repeated); a name repeated
/// anywhere else only sets [`Payload::duplicate`].
pub(super) fn parse_payload(raw: &[u8]) -> Result<Payload, ()> {
    let duplicate = Cell::new(false);
    let mut de = serde_json::Deserializer::from_slice(raw);
    let (claims, [exp, nbf, iat]) = de.deserialize_map(TopVisitor { duplicate: &duplicate }).map_err(|_| ())?;
    de.end().map_err(|_| ())?;
    Ok(Payload { claims, exp, nbf, iat, duplicate: duplicate.get() })
}

/// The payload object: the time claims apart, the rest into a map.
struct TopVisitor<'a> {
    duplicate: &'a Cell<bool>,
}

type Top = (Map<String, Value>, [Option<i64>; 3]);

impl<'de> Visitor<'de> for TopVisitor<'_> {
    type Value = Top;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Top, A::Error> {
        let mut claims = Map::new();
        let mut times = [None; 3];
        while let Some(k) = map.next_key::<String>()? {
            let slot = match k.as_str() {
                "exp" => Some(0),
                "nbf" => Some(1),
                "iat" => Some(2),
                _ => None,
            };
            if let Some(i) = slot {
                // jwt-compact's derived parse refuses a repeated field.
                if times[i].is_some() {
                    return Err(de::Error::custom("duplicate time claim"));
                }
                times[i] = Some(map.next_value_seed(TimeSeed)?);
                continue;
            }
            let v = map.next_value_seed(AnySeed { on_duplicate: OnDuplicate::Record(self.duplicate) })?;
            if claims.insert(k, v).is_some() {
                self.duplicate.set(true);
            }
        }
        Ok((claims, times))
    }
}

/// A time claim as jwt-compact's `serde_timestamp` reads it: an integer, or a float truncated
/// towards zero, within chrono's range.
struct TimeSeed;

impl<'de> DeserializeSeed<'de> for TimeSeed {
    type Value = i64;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<i64, D::Error> {
        d.deserialize_i64(TimeVisitor)
    }
}

struct TimeVisitor;

fn in_range<E: de::Error>(t: i64) -> Result<i64, E> {
    if (MIN_TIMESTAMP..=MAX_TIMESTAMP).contains(&t) {
        Ok(t)
    } else {
        Err(E::custom("UTC timestamp overflow"))
    }
}

impl Visitor<'_> for TimeVisitor {
    type Value = i64;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UTC timestamp")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
        in_range(v)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
        in_range(i64::try_from(v).map_err(E::custom)?)
    }
    #[allow(clippy::cast_possible_truncation)]
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
        // As jwt-compact: `as` saturates, and a saturated value is out of range.
        in_range(v as i64)
    }
}

// ---- strict JSON: objects with unique names ------------------------------------------------------

/// Parses `bytes` as one JSON object, refusing duplicate names at any depth (serde_json
/// would silently keep the last one).
pub(super) fn strict_json_object(bytes: &[u8]) -> Result<Map<String, Value>, &'static str> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed = AnySeed { on_duplicate: OnDuplicate::Refuse }.deserialize(&mut de).and_then(|v| de.end().map(|()| v));
    match parsed {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err("not a JSON object"),
        Err(e) if e.to_string().starts_with(DUPLICATE) => Err("duplicate name in JSON object"),
        Err(_) => Err("not valid JSON"),
    }
}

const DUPLICATE: &str = "duplicate name";

/// What a repeated name in an object does.
#[derive(Clone, Copy)]
enum OnDuplicate<'a> {
    /// Sets the flag, and parsing goes on (the payload: refused after the signature).
    Record(&'a Cell<bool>),
    /// Ends the parse with a [`DUPLICATE`] error, before the repeated name's value is read.
    Refuse,
}

/// Any JSON value, objects' repeated names handled as `on_duplicate` says.
#[derive(Clone, Copy)]
struct AnySeed<'a> {
    on_duplicate: OnDuplicate<'a>,
}

impl<'de> DeserializeSeed<'de> for AnySeed<'_> {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for AnySeed<'_> {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(self)? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(k) = map.next_key::<String>()? {
            let repeated = out.contains_key(&k);
            match self.on_duplicate {
                OnDuplicate::Refuse if repeated => return Err(de::Error::custom(DUPLICATE)),
                OnDuplicate::Record(flag) if repeated => flag.set(true),
                _ => {}
            }
            let v = map.next_value_seed(self)?;
            out.insert(k, v);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests;
