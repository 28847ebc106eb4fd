//! A Terraform value of any type, as it crosses the plugin protocol.
//!
//! tf-provider's own value types store numbers as i64, which loses
//! fractions (`sampling_rate = 0.25`); this type keeps numbers as f64 and
//! represents Terraform's unknown values (msgpack extension values) so plan
//! can mark computed attributes "known after apply".

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, SerializeTuple, Serializer};

#[derive(Clone, Debug, Default, PartialEq)]
pub enum Value {
    #[default]
    Null,
    /// Not known until apply.
    Unknown,
    Bool(bool),
    Number(f64),
    String(String),
    /// Lists, sets and tuples, and nested blocks.
    List(Vec<Value>),
    /// Maps and objects.
    Map(BTreeMap<String, Value>),
}

impl Value {
    pub fn str(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown)
    }

    /// An attribute of an object; Null when absent or when self is no object.
    pub fn get(&self, key: &str) -> &Value {
        static NULL: Value = Value::Null;
        match self {
            Value::Map(m) => m.get(key).unwrap_or(&NULL),
            _ => &NULL,
        }
    }

    /// Set an attribute of an object (turning Null into an empty object).
    pub fn set(&mut self, key: &str, value: Value) {
        if !matches!(self, Value::Map(_)) {
            *self = Value::Map(BTreeMap::new());
        }
        if let Value::Map(m) = self {
            m.insert(key.to_string(), value);
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The single element of an optional nested block (a list of 0..1).
    pub fn block(&self, key: &str) -> &Value {
        static NULL: Value = Value::Null;
        match self.get(key) {
            Value::List(items) => items.first().unwrap_or(&NULL),
            _ => &NULL,
        }
    }

    /// Whether this value or anything inside it is unknown.
    pub fn contains_unknown(&self) -> bool {
        match self {
            Value::Unknown => true,
            Value::List(items) => items.iter().any(Value::contains_unknown),
            Value::Map(m) => m.values().any(Value::contains_unknown),
            _ => false,
        }
    }

    /// As JSON, with unknown values as null: for deserialising
    /// configuration into typed structs where "not known yet" and "not set"
    /// are both "no value to check".
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null | Value::Unknown => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => {
                if n.fract() == 0.0 && n.abs() < 9.0e15 {
                    serde_json::Value::from(*n as i64)
                } else {
                    serde_json::Number::from_f64(*n)
                        .map(serde_json::Value::Number)
                        .unwrap_or(serde_json::Value::Null)
                }
            }
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::List(items) => {
                serde_json::Value::Array(items.iter().map(Value::to_json).collect())
            }
            Value::Map(m) => {
                serde_json::Value::Object(m.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
            }
        }
    }

    pub fn from_json(json: &serde_json::Value) -> Value {
        match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::Number(n.as_f64().unwrap_or(0.0)),
            serde_json::Value::String(s) => Value::String(s.clone()),
            serde_json::Value::Array(a) => Value::List(a.iter().map(Value::from_json).collect()),
            serde_json::Value::Object(o) => Value::Map(
                o.iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v)))
                    .collect(),
            ),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<f64> for Value {
    fn from(n: f64) -> Self {
        Value::Number(n)
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Number(n as f64)
    }
}

impl<V: Into<Value>> From<Option<V>> for Value {
    fn from(v: Option<V>) -> Self {
        v.map(Into::into).unwrap_or(Value::Null)
    }
}

/// The payload of msgpack's extension type, which rmp-serde writes for a
/// newtype struct with this magic name. Terraform reads any extension value
/// as "unknown".
const MSGPACK_EXT_STRUCT_NAME: &str = "_ExtStruct";

struct UnknownExt;

impl Serialize for UnknownExt {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct EmptyBytes;
        impl Serialize for EmptyBytes {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_bytes(&[])
            }
        }
        let mut tuple = serializer.serialize_tuple(2)?;
        tuple.serialize_element(&0i8)?;
        tuple.serialize_element(&EmptyBytes)?;
        tuple.end()
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => serializer.serialize_unit(),
            Value::Unknown => {
                serializer.serialize_newtype_struct(MSGPACK_EXT_STRUCT_NAME, &UnknownExt)
            }
            Value::Bool(b) => serializer.serialize_bool(*b),
            // Whole numbers go out as integers: Terraform compares numbers
            // by value, and integers keep state files readable.
            Value::Number(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => {
                serializer.serialize_i64(*n as i64)
            }
            Value::Number(n) => serializer.serialize_f64(*n),
            Value::String(s) => serializer.serialize_str(s),
            Value::List(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Value::Map(m) => {
                let mut map = serializer.serialize_map(Some(m.len()))?;
                for (k, v) in m {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Terraform value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Number(n as f64))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::Number(n as f64))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        Ok(Value::Number(n))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
        // Terraform sends numbers too large for float64 as strings; we have
        // no such numbers, so a string is a string.
        Ok(Value::String(s.to_string()))
    }
    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }
    fn visit_bytes<E: de::Error>(self, b: &[u8]) -> Result<Value, E> {
        String::from_utf8(b.to_vec())
            .map(Value::String)
            .map_err(|_| E::custom("binary data is not a Terraform value"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::List(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut m = BTreeMap::new();
        while let Some((k, v)) = map.next_entry::<String, Value>()? {
            m.insert(k, v);
        }
        Ok(Value::Map(m))
    }
    /// rmp-serde presents msgpack extension values (Terraform's unknown) as
    /// a newtype struct; nothing else does.
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        de::IgnoredAny::deserialize(d)?;
        Ok(Value::Unknown)
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(v: &Value) -> Value {
        let bytes = rmp_serde::to_vec_named(v).unwrap();
        rmp_serde::from_slice(&bytes).unwrap()
    }

    #[test]
    fn fractions_survive_msgpack() {
        let v = Value::Map(BTreeMap::from([(
            "sampling_rate".to_string(),
            Value::Number(0.25),
        )]));
        assert_eq!(roundtrip(&v), v);
    }

    #[test]
    fn unknown_is_a_msgpack_extension_and_roundtrips() {
        let bytes = rmp_serde::to_vec_named(&Value::Unknown).unwrap();
        // 0xd4..0xd8 fixext or 0xc7 ext8: an extension marker either way.
        assert!(matches!(bytes[0], 0xc7 | 0xd4..=0xd8), "{bytes:x?}");
        let back: Value = rmp_serde::from_slice(&bytes).unwrap();
        assert_eq!(back, Value::Unknown);
    }

    #[test]
    fn nested_values_roundtrip() {
        let v = Value::Map(BTreeMap::from([
            (
                "a".to_string(),
                Value::List(vec![Value::Number(1.0), Value::Null, Value::Unknown]),
            ),
            ("b".to_string(), Value::Bool(true)),
            ("c".to_string(), Value::str("x")),
            ("d".to_string(), Value::Number(-3.5)),
        ]));
        assert_eq!(roundtrip(&v), v);
    }

    #[test]
    fn whole_numbers_are_sent_as_integers() {
        let bytes = rmp_serde::to_vec_named(&Value::Number(3.0)).unwrap();
        assert_eq!(bytes, vec![0x03]);
    }

    #[test]
    fn json_view_turns_unknown_into_null() {
        let v = Value::Map(BTreeMap::from([("x".to_string(), Value::Unknown)]));
        assert_eq!(v.to_json(), serde_json::json!({"x": null}));
    }
}
