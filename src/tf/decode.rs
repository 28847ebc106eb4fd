//! Typed decoding of a Terraform object into a config struct, with errors
//! that name the attribute they are about.
//!
//! Config structs deserialise from [`Value::to_json`] (numbers as i64 or
//! f64, unknown as null). serde alone reports "1.5 is not a whole number"
//! with no idea where; [`typed`] tracks the path (serde_path_to_error), so
//! the error points at `desired_count` or `tracing.0.sampling_rate`, as every
//! other plan-time error does.

use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use crate::tf::value::Value;
use crate::validation::{PathStep, Problem};

/// Decode `value` into `T`; a failure becomes a [`Problem`] at the
/// attribute that caused it. `what` names the object ("the
/// matbakh_microservice configuration") for the summary.
pub fn typed<T: DeserializeOwned>(value: &Value, what: &str) -> Result<T, Problem> {
    typed_json(&value.to_json(), what)
}

/// [`typed`] from the JSON view of a value.
pub fn typed_json<T: DeserializeOwned>(json: &serde_json::Value, what: &str) -> Result<T, Problem> {
    serde_path_to_error::deserialize::<_, T>(json).map_err(|e| {
        let path: Vec<PathStep> = e
            .path()
            .iter()
            .filter_map(|segment| match segment {
                serde_path_to_error::Segment::Map { key } => Some(PathStep::Attr(key.clone())),
                serde_path_to_error::Segment::Seq { index } => Some(PathStep::Index(*index as i64)),
                _ => None,
            })
            .collect();
        let summary = match path.last() {
            Some(PathStep::Attr(a)) => format!("Invalid {a}"),
            _ => format!("Invalid {what}"),
        };
        Problem {
            path,
            summary,
            detail: format!("reading {what}: {}", e.inner()),
        }
    })
}

/// The dotted path and message of a decoding failure, for callers that
/// report text.
pub fn typed_or_text<T: DeserializeOwned>(
    json: &serde_json::Value,
    what: &str,
) -> Result<T, String> {
    typed_json(json, what).map_err(|p| {
        if p.path.is_empty() {
            p.detail
        } else {
            format!("{}: {}", p.dotted(), p.detail)
        }
    })
}

/// The largest number AWS's `Integer` shapes hold: every whole-number
/// argument ends up in one.
pub const MAX_INT: i64 = i32::MAX as i64;

/// A whole number AWS can hold (a 32-bit integer), as `Option<i64>`.
/// Fractions and numbers out of range are errors here, at decoding, so they
/// never reach AWS truncated.
pub fn int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match Option::<serde_json::Number>::deserialize(d)? {
        None => Ok(None),
        Some(n) => whole_in_range(&n).map(Some).map_err(de::Error::custom),
    }
}

/// `n` as an i64 when it is a whole number a 32-bit integer holds, else why
/// not.
pub fn whole_in_range(n: &serde_json::Number) -> Result<i64, String> {
    let i = whole(n).ok_or_else(|| format!("{n} is not a whole number"))?;
    if i.abs() > MAX_INT {
        return Err(format!(
            "{n} is out of range: AWS takes whole numbers from {} to {MAX_INT}",
            -MAX_INT - 1
        ));
    }
    Ok(i)
}

/// `n` as an i64 when it is a whole number (an integer or an integral
/// float); numbers beyond i64 saturate, which every range check rejects.
pub fn whole(n: &serde_json::Number) -> Option<i64> {
    n.as_i64().or_else(|| {
        n.as_f64()
            .filter(|f| f.is_finite() && f.fract() == 0.0)
            .map(|f| f.clamp(i64::MIN as f64, i64::MAX as f64) as i64)
    })
}

/// A nested block: `null`, `[]`, `[{...}]` or (leniently) `{...}`. Errors
/// inside the block keep their message and path (an untagged enum would
/// say only "data did not match any variant").
pub fn block<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct BlockVisitor<T>(std::marker::PhantomData<T>);

    impl<'de, T: Deserialize<'de>> Visitor<'de> for BlockVisitor<T> {
        type Value = Option<T>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a nested block")
        }
        fn visit_unit<E>(self) -> Result<Option<T>, E> {
            Ok(None)
        }
        fn visit_none<E>(self) -> Result<Option<T>, E> {
            Ok(None)
        }
        fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Option<T>, D2::Error> {
            d.deserialize_any(self)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Option<T>, A::Error> {
            let first = seq.next_element::<T>()?;
            while seq.next_element::<de::IgnoredAny>()?.is_some() {}
            Ok(first)
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Option<T>, A::Error> {
            T::deserialize(de::value::MapAccessDeserializer::new(map)).map(Some)
        }
    }

    d.deserialize_any(BlockVisitor(std::marker::PhantomData))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(default)]
    struct Inner {
        rate: Option<f64>,
        #[serde(deserialize_with = "int")]
        count: Option<i64>,
    }

    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(default)]
    struct Outer {
        #[serde(deserialize_with = "int")]
        desired_count: Option<i64>,
        #[serde(deserialize_with = "block")]
        tracing: Option<Inner>,
    }

    fn decode(json: serde_json::Value) -> Result<Outer, Problem> {
        typed(&Value::from_json(&json), "the test configuration")
    }

    #[test]
    fn fractions_and_out_of_range_numbers_name_their_attribute() {
        let p = decode(serde_json::json!({"desired_count": 1.5})).unwrap_err();
        assert_eq!(p.dotted(), "desired_count");
        assert!(
            p.detail.contains("1.5 is not a whole number"),
            "{}",
            p.detail
        );

        let p = decode(serde_json::json!({"desired_count": 2147483648u64})).unwrap_err();
        assert_eq!(p.dotted(), "desired_count");
        assert!(p.detail.contains("out of range"), "{}", p.detail);

        let p = decode(serde_json::json!({"desired_count": 1e30})).unwrap_err();
        assert!(p.detail.contains("out of range"), "{}", p.detail);

        let p = decode(serde_json::json!({"tracing": [{"count": 0.5}]})).unwrap_err();
        assert_eq!(p.dotted(), "tracing.0.count");
    }

    #[test]
    fn blocks_decode_in_every_shape() {
        let want = Outer {
            desired_count: Some(2147483647),
            tracing: Some(Inner {
                rate: Some(0.1),
                count: None,
            }),
        };
        let t = serde_json::json!({"rate": 0.1});
        assert_eq!(
            decode(serde_json::json!({"desired_count": 2147483647, "tracing": [t]})).unwrap(),
            want
        );
        assert_eq!(
            decode(serde_json::json!({"desired_count": 2147483647, "tracing": t})).unwrap(),
            want
        );
        assert_eq!(
            decode(serde_json::json!({"tracing": []})).unwrap(),
            Outer::default()
        );
        assert_eq!(
            decode(serde_json::json!({"tracing": null})).unwrap(),
            Outer::default()
        );
    }

    #[test]
    fn a_string_where_a_number_belongs_names_the_attribute() {
        // What an un-normalised "0.1" from Terraform looked like.
        let p = decode(serde_json::json!({"tracing": [{"rate": "0.1"}]})).unwrap_err();
        assert_eq!(p.dotted(), "tracing.0.rate");
        assert!(!p.detail.contains("untagged"), "{}", p.detail);
    }
}
