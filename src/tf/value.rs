//! A Terraform value of any type, as it crosses the plugin protocol.
//!
//! tf-provider's own value types store numbers as i64, which loses
//! fractions (`sampling_rate = 0.25`); this type keeps numbers exactly (see
//! [`Number`]: Terraform sends `0.1` as the msgpack string `"0.1"`) and
//! represents Terraform's unknown values (msgpack extension values) so plan
//! can mark computed attributes "known after apply".
//!
//! A value does not know its type: a string at a Number-typed position is
//! only recognised as a number by [`normalized`], which the resource glue
//! applies, with the schema, to every value Terraform sends.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, SerializeTuple, Serializer};
use tf_provider::schema::{Attribute, AttributeType, Block, NestedBlock};

pub use super::number::Number;

#[derive(Clone, Debug, Default, PartialEq)]
pub enum Value {
    #[default]
    Null,
    /// Not known until apply.
    Unknown,
    Bool(bool),
    Number(Number),
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

    /// The nearest f64 of a number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(n.as_f64()),
            _ => None,
        }
    }

    pub fn as_number(&self) -> Option<&Number> {
        match self {
            Value::Number(n) => Some(n),
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
            // Typed decoding works with i64 and f64; whole numbers beyond
            // i64 become floats, so range checks still see how large they are.
            Value::Number(n) => match n.as_i64() {
                Some(i) => serde_json::Value::from(i),
                None => serde_json::Number::from_f64(n.as_f64())
                    .map(serde_json::Value::Number)
                    .unwrap_or(serde_json::Value::Null),
            },
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
            serde_json::Value::Number(n) => match (n.as_i64(), n.as_u64()) {
                (Some(i), _) => i.into(),
                (None, Some(u)) => Value::Number(Number::from_u64(u)),
                _ => n.as_f64().unwrap_or(f64::NAN).into(),
            },
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

/// The shortest decimal that reads back as `n`: `0.1` goes to Terraform as
/// exactly 0.1. NaN is no Terraform number and becomes null.
impl From<f64> for Value {
    fn from(n: f64) -> Self {
        Number::from_f64(n)
            .map(Value::Number)
            .unwrap_or(Value::Null)
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Number(Number::from_i64(n))
    }
}

impl From<Number> for Value {
    fn from(n: Number) -> Self {
        Value::Number(n)
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
            // As go-cty marshals: an int64 when the number is one, else the
            // exact decimal text, which cty parses back into the very same
            // number (a float64 would be the binary neighbour of 0.1).
            Value::Number(n) => match n.as_i64() {
                Some(i) => serializer.serialize_i64(i),
                None if n.is_infinite() => serializer.serialize_f64(n.as_f64()),
                None => serializer.serialize_str(n.text()),
            },
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
        Ok(Value::Number(Number::from_i64(n)))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::Number(Number::from_u64(n)))
    }
    /// Terraform sends a float64 only when it is the number exactly; cty
    /// reads it back with 53 bits, whose shortest decimal is ours.
    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        Ok(n.into())
    }
    /// A string may be a number Terraform sent as decimal text; only the
    /// schema can tell ([`normalized`]).
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
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

/// `value` with every Number-typed position of `block` holding a
/// [`Value::Number`]: Terraform sends numbers a float64 cannot hold exactly
/// as decimal text (msgpack strings). The glue applies this once to every
/// value entering from Terraform (config, proposed, prior, planned state)
/// so comparisons, typed decoding and validation see numbers. Text that is
/// no number is left alone for typed decoding to report at its attribute.
pub fn normalized(value: Value, block: &Block) -> Value {
    let mut value = value;
    normalize_block(&mut value, block);
    value
}

fn normalize_block(value: &mut Value, block: &Block) {
    let Value::Map(m) = value else { return };
    normalize_attributes(m, &block.attributes);
    for (name, nested) in &block.blocks {
        let Some(v) = m.get_mut(name) else { continue };
        match (nested, v) {
            (NestedBlock::Map(b), Value::Map(items)) => {
                items.values_mut().for_each(|i| normalize_block(i, b))
            }
            (
                NestedBlock::List(b) | NestedBlock::Set(b) | NestedBlock::Optional(b),
                Value::List(items),
            ) => items.iter_mut().for_each(|i| normalize_block(i, b)),
            (
                NestedBlock::Single(b)
                | NestedBlock::Group(b)
                | NestedBlock::Optional(b)
                | NestedBlock::List(b)
                | NestedBlock::Set(b),
                v,
            ) => normalize_block(v, b),
            _ => {}
        }
    }
}

fn normalize_attributes(
    values: &mut BTreeMap<String, Value>,
    attributes: &std::collections::HashMap<String, Attribute>,
) {
    for (name, attribute) in attributes {
        if let Some(v) = values.get_mut(name) {
            normalize_type(v, &attribute.attr_type);
        }
    }
}

fn normalize_type(value: &mut Value, ty: &AttributeType) {
    match (ty, &mut *value) {
        (AttributeType::Number, Value::String(text)) => {
            if let Ok(n) = Number::parse(text) {
                *value = Value::Number(n);
            }
        }
        (AttributeType::List(t) | AttributeType::Set(t), Value::List(items)) => {
            items.iter_mut().for_each(|i| normalize_type(i, t))
        }
        (AttributeType::Map(t), Value::Map(items)) => {
            items.values_mut().for_each(|i| normalize_type(i, t))
        }
        (AttributeType::Object(fields), Value::Map(items)) => {
            for (name, t) in fields {
                if let Some(v) = items.get_mut(name) {
                    normalize_type(v, t);
                }
            }
        }
        (AttributeType::Tuple(types), Value::List(items)) => items
            .iter_mut()
            .zip(types)
            .for_each(|(i, t)| normalize_type(i, t)),
        (AttributeType::AttributeSingle(attrs), Value::Map(items)) => {
            normalize_attributes(items, attrs)
        }
        (
            AttributeType::AttributeList(attrs) | AttributeType::AttributeSet(attrs),
            Value::List(items),
        ) => {
            for item in items {
                if let Value::Map(m) = item {
                    normalize_attributes(m, attrs);
                }
            }
        }
        (AttributeType::AttributeMap(attrs), Value::Map(items)) => {
            for item in items.values_mut() {
                if let Value::Map(m) = item {
                    normalize_attributes(m, attrs);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Out and back in as the glue sees it: fractions travel as decimal
    /// text, which the schema turns back into numbers.
    fn roundtrip(v: &Value) -> Value {
        use crate::tf::schema::{block, Type};
        let schema = block("t")
            .optional("sampling_rate", Type::Number, "")
            .optional("d", Type::Number, "")
            .build();
        let bytes = rmp_serde::to_vec_named(v).unwrap();
        normalized(rmp_serde::from_slice(&bytes).unwrap(), &schema)
    }

    #[test]
    fn fractions_survive_msgpack() {
        let v = Value::Map(BTreeMap::from([("sampling_rate".to_string(), 0.25.into())]));
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
                Value::List(vec![1i64.into(), Value::Null, Value::Unknown]),
            ),
            ("b".to_string(), Value::Bool(true)),
            ("c".to_string(), Value::str("x")),
            ("d".to_string(), (-3.5).into()),
        ]));
        assert_eq!(roundtrip(&v), v);
    }

    #[test]
    fn whole_numbers_are_sent_as_integers() {
        let bytes = rmp_serde::to_vec_named(&Value::from(3i64)).unwrap();
        assert_eq!(bytes, vec![0x03]);
    }

    #[test]
    fn json_view_turns_unknown_into_null() {
        let v = Value::Map(BTreeMap::from([("x".to_string(), Value::Unknown)]));
        assert_eq!(v.to_json(), serde_json::json!({"x": null}));
    }
    /// `1/3` as Terraform computes it (a 512-bit big.Float) and sends it:
    /// `Text('f', -1)`, the shortest decimal that identifies it.
    const ONE_THIRD: &str = "0.33333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333335";

    fn number_schema() -> Block {
        use crate::tf::schema::{block, Type};
        block("t")
            .optional("n", Type::Number, "n")
            .optional("s", Type::String, "s")
            .optional("l", Type::List(Box::new(Type::Number)), "l")
            .single_block("b", block("b").optional("rate", Type::Number, "rate"))
            .build()
    }

    /// Bytes of `{"n": <number as Terraform marshals it>}`.
    fn terraform_bytes(encode: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
        let mut buf = Vec::new();
        rmp::encode::write_map_len(&mut buf, 1).unwrap();
        rmp::encode::write_str(&mut buf, "n").unwrap();
        encode(&mut buf);
        buf
    }

    fn decode_normalized(bytes: &[u8]) -> Value {
        normalized(rmp_serde::from_slice(bytes).unwrap(), &number_schema())
    }

    #[test]
    fn decimal_text_from_terraform_roundtrips_byte_for_byte() {
        for text in ["0.1", "0.2", "0.3", "0.0001", "-2.5e-1", ONE_THIRD] {
            let bytes = terraform_bytes(|b| rmp::encode::write_str(b, text).unwrap());
            let v = decode_normalized(&bytes);
            let n = v.get("n").as_number().expect("a number, not a string");
            assert_eq!(n, &Number::parse(text).unwrap());
            let back = rmp_serde::to_vec_named(&v).unwrap();
            if text.contains('e') {
                // Not what Terraform sends; it comes back canonical.
                assert_eq!(n.text(), "-0.25");
            } else {
                assert_eq!(back, bytes, "{text}");
            }
        }
        let third = decode_normalized(&terraform_bytes(|b| {
            rmp::encode::write_str(b, ONE_THIRD).unwrap()
        }));
        assert_eq!(third.get("n").as_f64(), Some(1.0 / 3.0));
        assert_ne!(
            third.get("n").as_number().unwrap().text(),
            format!("{}", 1.0f64 / 3.0)
        );
    }

    #[test]
    fn integers_and_exact_floats_from_terraform_roundtrip() {
        // int64 (also beyond i32, where desired_count's range ends)
        for i in [0i64, -1, 2147483648, i64::MAX, i64::MIN] {
            let bytes = terraform_bytes(|b| {
                rmp::encode::write_sint(b, i).unwrap();
            });
            let v = decode_normalized(&bytes);
            assert_eq!(v.get("n").as_number().unwrap().as_i64(), Some(i));
            let again = decode_normalized(&rmp_serde::to_vec_named(&v).unwrap());
            assert_eq!(again, v);
        }
        // Huge integers: beyond int64 Terraform sends float64 when exact,
        // else decimal text.
        let huge = "123456789012345678901234567890";
        let v = decode_normalized(&terraform_bytes(|b| {
            rmp::encode::write_str(b, huge).unwrap()
        }));
        assert_eq!(v.get("n").as_number().unwrap().text(), huge);
        assert_eq!(
            rmp_serde::to_vec_named(&v).unwrap(),
            terraform_bytes(|b| rmp::encode::write_str(b, huge).unwrap())
        );
        let v = decode_normalized(&terraform_bytes(|b| {
            rmp::encode::write_f64(b, 1e300).unwrap()
        }));
        assert_eq!(v.get("n").as_f64(), Some(1e300));
        assert!(v.get("n").as_number().unwrap().is_whole());
        // An exact float (0.25) comes back as the same number.
        let v = decode_normalized(&terraform_bytes(|b| {
            rmp::encode::write_f64(b, 0.25).unwrap()
        }));
        assert_eq!(v.get("n").as_number().unwrap().text(), "0.25");
    }

    #[test]
    fn provider_computed_fractions_go_out_as_their_decimal() {
        let bytes = rmp_serde::to_vec_named(&Value::from(0.1)).unwrap();
        let mut expected = Vec::new();
        rmp::encode::write_str(&mut expected, "0.1").unwrap();
        assert_eq!(bytes, expected);
    }

    #[test]
    fn normalisation_follows_the_schema() {
        let mut v = Value::Null;
        v.set("n", "0.1".into());
        v.set("s", "0.1".into());
        v.set("l", Value::List(vec!["0.3".into(), 2i64.into()]));
        let mut inner = Value::Null;
        inner.set("rate", ONE_THIRD.into());
        v.set("b", Value::List(vec![inner]));
        v.set("unknown_to_schema", "0.5".into());
        let n = normalized(v, &number_schema());
        assert_eq!(n.get("n").as_number().unwrap().text(), "0.1");
        assert_eq!(n.get("s"), &Value::str("0.1"));
        assert_eq!(n.get("unknown_to_schema"), &Value::str("0.5"));
        assert_eq!(
            n.get("l"),
            &Value::List(vec![Value::Number("0.3".parse().unwrap()), 2i64.into()])
        );
        assert_eq!(
            n.block("b").get("rate").as_number().unwrap().text(),
            ONE_THIRD
        );
        // Typed decoding sees f64 and i64.
        assert_eq!(n.to_json()["n"], serde_json::json!(0.1));
        assert_eq!(n.to_json()["l"], serde_json::json!([0.3, 2]));
    }
}
