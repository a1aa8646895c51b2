//! JSON encoding rules Mesos applies to protobuf messages (stout `protobuf.hpp`):
//!
//! * `bytes` fields travel as standard base64 strings ([`Bytes`]);
//! * an unrecognised name in an *optional* enum field is dropped (proto2 semantics), which
//!   [`lenient_enum`] reproduces; required enums and the `type` of a `Call` stay strict;
//! * [`percent_encode`] escapes a URL path segment or query value (Docker Engine API paths,
//!   registry token requests);
//! * [`from_json`] turns a request body into a message or a [`DecodeError`] whose text can go
//!   straight into a `400 Bad Request` body.

use std::fmt;
use std::ops::Deref;

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, Engine};
use serde::de::{DeserializeOwned, IntoDeserializer};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Standard alphabet; padding written on encode, optional on decode (Mesos' stout decoder
/// is equally forgiving).
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// A protobuf `bytes` value; serialised as a base64 string, as Mesos does in JSON.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Bytes(pub Vec<u8>);

impl Bytes {
    /// Wraps raw bytes.
    pub fn new(data: impl Into<Vec<u8>>) -> Self {
        Self(data.into())
    }

    /// The base64 text this value is sent as.
    pub fn to_base64(&self) -> String {
        BASE64.encode(&self.0)
    }

    /// Decodes base64 text (standard alphabet, padding optional).
    pub fn from_base64(text: &str) -> Result<Self, base64::DecodeError> {
        BASE64.decode(text.trim()).map(Self)
    }

    /// 16 random bytes (a version 4 UUID), as Mesos puts in `TaskStatus.uuid` and
    /// operation status updates.
    pub fn random_uuid() -> Self {
        Self(uuid::Uuid::new_v4().as_bytes().to_vec())
    }

    /// The canonical text form (`xxxxxxxx-xxxx-...`) if these are exactly 16 bytes, as
    /// Mesos logs status update UUIDs.
    pub fn to_uuid_string(&self) -> Option<String> {
        uuid::Uuid::from_slice(&self.0)
            .ok()
            .map(|u| u.hyphenated().to_string())
    }

    /// The raw bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }

    /// Unwraps into the raw bytes.
    pub fn into_vec(self) -> Vec<u8> {
        self.0
    }
}

impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Bytes({})", self.to_base64())
    }
}

impl Deref for Bytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl AsRef<[u8]> for Bytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(v: Vec<u8>) -> Self {
        Self(v)
    }
}

impl From<&[u8]> for Bytes {
    fn from(v: &[u8]) -> Self {
        Self(v.to_vec())
    }
}

impl From<&str> for Bytes {
    fn from(v: &str) -> Self {
        Self(v.as_bytes().to_vec())
    }
}

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_base64())
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Bytes::from_base64(&text).map_err(|e| {
            serde::de::Error::custom(format_args!("failed to base64 decode bytes field: {e}"))
        })
    }
}

/// `deserialize_with` helper for optional enum fields: a value whose name is not known
/// becomes `None` instead of an error, matching how Mesos parses proto2 optional enums.
///
/// Use together with `#[serde(default)]`.
pub fn lenient_enum<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let Some(name) = Option::<String>::deserialize(deserializer)? else {
        return Ok(None);
    };
    let de: serde::de::value::StringDeserializer<serde::de::value::Error> =
        name.into_deserializer();
    Ok(T::deserialize(de).ok())
}

/// Serialises a double as Mesos does: finite values as numbers, infinities as the strings
/// `"Infinity"` / `"-Infinity"` (NaN, which Mesos never produces, as `"NaN"`).
pub fn ser_f64<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    if value.is_finite() {
        serializer.serialize_f64(*value)
    } else if value.is_nan() {
        serializer.serialize_str("NaN")
    } else if *value > 0.0 {
        serializer.serialize_str("Infinity")
    } else {
        serializer.serialize_str("-Infinity")
    }
}

/// A double accepted as a JSON number or, as stout allows, a string holding a number or
/// `"Infinity"` / `"-Infinity"`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct LenientF64(pub f64);

impl<'de> Deserialize<'de> for LenientF64 {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = LenientF64;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number")
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<LenientF64, E> {
                Ok(LenientF64(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<LenientF64, E> {
                Ok(LenientF64(v as f64))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<LenientF64, E> {
                Ok(LenientF64(v as f64))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<LenientF64, E> {
                match v.trim() {
                    "Infinity" => Ok(LenientF64(f64::INFINITY)),
                    "-Infinity" => Ok(LenientF64(f64::NEG_INFINITY)),
                    t => t
                        .parse::<f64>()
                        .ok()
                        .filter(|x| x.is_finite())
                        .map(LenientF64)
                        .ok_or_else(|| {
                            E::custom(format_args!("failed to parse '{v}' as a number"))
                        }),
                }
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// `deserialize_with` helper for repeated enum fields: unknown names are dropped (proto2 /
/// stout behaviour) and `null` is an empty list. Use together with `#[serde(default)]`.
pub fn lenient_enum_vec<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let names = Option::<Vec<String>>::deserialize(deserializer)?.unwrap_or_default();
    Ok(names
        .into_iter()
        .filter_map(|name| {
            let de: serde::de::value::StringDeserializer<serde::de::value::Error> =
                name.into_deserializer();
            T::deserialize(de).ok()
        })
        .collect())
}

/// `deserialize_with` helper for repeated and map fields: JSON `null` counts as empty,
/// as stout treats `null` as "field not set". Use together with `#[serde(default)]`.
pub fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// `deserialize_with` for optional doubles, accepting strings like stout does (proto3 JSON
/// printers may quote numbers). Use together with `#[serde(default)]`.
pub fn lenient_f64_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Ok(Option::<LenientF64>::deserialize(d)?.map(|v| v.0))
}

/// `deserialize_with` for `int64` fields: a JSON number or a string holding one (the proto3
/// JSON mapping writes 64-bit integers as strings; stout accepts both).
pub fn lenient_i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let v = LenientInt::deserialize(d)?.0;
    i64::try_from(v).map_err(|_| serde::de::Error::custom(format_args!("{v} out of range")))
}

/// `deserialize_with` for `uint64` fields: a JSON number or a string holding one.
pub fn lenient_u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let v = LenientInt::deserialize(d)?.0;
    u64::try_from(v).map_err(|_| serde::de::Error::custom(format_args!("{v} out of range")))
}

/// An integer given as a JSON integer or a decimal string.
struct LenientInt(i128);

impl<'de> Deserialize<'de> for LenientInt {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = LenientInt;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an integer")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<LenientInt, E> {
                Ok(LenientInt(i128::from(v)))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<LenientInt, E> {
                Ok(LenientInt(i128::from(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<LenientInt, E> {
                v.trim()
                    .parse::<i128>()
                    .map(LenientInt)
                    .map_err(|_| E::custom(format_args!("failed to parse '{v}' as an integer")))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// A request body that could not be turned into the expected message.
#[derive(Debug, thiserror::Error)]
#[error("Failed to parse {what}: {source}")]
pub struct DecodeError {
    /// The message that was expected, e.g. `scheduler::Call`.
    pub what: &'static str,
    /// The underlying JSON error (position, missing field, unknown variant ...).
    #[source]
    pub source: serde_json::Error,
}

/// Parses a JSON body into `T`, naming `what` in the error (e.g. `"scheduler::Call"`), so a
/// server can answer `400` with `err.to_string()`.
pub fn from_json<T: DeserializeOwned>(what: &'static str, body: &[u8]) -> Result<T, DecodeError> {
    serde_json::from_slice(body).map_err(|source| DecodeError { what, source })
}

/// Percent-encodes a URL path segment or query value: every byte but RFC 3986's unreserved
/// characters (`A-Z a-z 0-9 - _ . ~`).
pub fn percent_encode(value: &str) -> String {
    use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
    const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    utf8_percent_encode(value, UNRESERVED).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
    enum Color {
        Red,
        Green,
    }

    #[derive(Debug, Deserialize)]
    struct Holder {
        #[serde(default, deserialize_with = "lenient_enum")]
        color: Option<Color>,
        #[serde(default)]
        data: Option<Bytes>,
    }

    #[test]
    fn bytes_round_trip_as_base64() {
        let b = Bytes::from("hello world");
        let json = serde_json::to_string(&b).unwrap();
        assert_eq!(json, r#""aGVsbG8gd29ybGQ=""#);
        let back: Bytes = serde_json::from_str(&json).unwrap();
        assert_eq!(back, b);
        // Padding is optional on input.
        let unpadded: Bytes = serde_json::from_str(r#""aGVsbG8gd29ybGQ""#).unwrap();
        assert_eq!(unpadded, b);
    }

    #[test]
    fn uuids() {
        let a = Bytes::random_uuid();
        assert_eq!(a.len(), 16);
        assert_ne!(a, Bytes::random_uuid());
        let text = a.to_uuid_string().unwrap();
        assert_eq!(text.len(), 36);
        assert_eq!(Bytes::from("short").to_uuid_string(), None);
    }

    #[test]
    fn bad_base64_is_an_error() {
        let err = serde_json::from_str::<Bytes>(r#""not base64!!""#).unwrap_err();
        assert!(err.to_string().contains("base64"), "{err}");
    }

    #[test]
    fn unknown_optional_enum_is_dropped() {
        let h: Holder = serde_json::from_str(r#"{"color":"PURPLE"}"#).unwrap();
        assert_eq!(h.color, None);
        let h: Holder = serde_json::from_str(r#"{"color":"GREEN","data":"AAE="}"#).unwrap();
        assert_eq!(h.color, Some(Color::Green));
        assert_eq!(h.data.unwrap().as_slice(), &[0, 1]);
        let h: Holder = serde_json::from_str(r#"{"color":null}"#).unwrap();
        assert_eq!(h.color, None);
    }

    #[test]
    fn numbers_as_strings() {
        #[derive(Debug, Deserialize)]
        struct N {
            #[serde(deserialize_with = "lenient_u64")]
            u: u64,
            #[serde(deserialize_with = "lenient_i64")]
            i: i64,
            #[serde(default, deserialize_with = "lenient_f64_opt")]
            f: Option<f64>,
        }
        let n: N =
            serde_json::from_str(r#"{"u":"18446744073709551615","i":"-5","f":"2.5"}"#).unwrap();
        assert_eq!((n.u, n.i, n.f), (u64::MAX, -5, Some(2.5)));
        let n: N = serde_json::from_str(r#"{"u":1,"i":2}"#).unwrap();
        assert_eq!((n.u, n.i, n.f), (1, 2, None));
        assert!(serde_json::from_str::<N>(r#"{"u":"-1","i":0}"#).is_err());
        assert!(serde_json::from_str::<N>(r#"{"u":"x","i":0}"#).is_err());
        assert!(serde_json::from_str::<N>(r#"{"u":1.5,"i":0}"#).is_err());
    }

    #[test]
    fn from_json_names_the_message() {
        let err = from_json::<Holder>("Holder", b"{").unwrap_err();
        assert!(
            err.to_string().starts_with("Failed to parse Holder:"),
            "{err}"
        );
    }

    #[test]
    fn percent_encoding_keeps_only_unreserved_characters() {
        assert_eq!(percent_encode("a b/c:{\"x\"}"), "a%20b%2Fc%3A%7B%22x%22%7D");
        assert_eq!(percent_encode("A-z_0.9~"), "A-z_0.9~");
    }
}
