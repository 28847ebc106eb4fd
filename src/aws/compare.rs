//! Helpers the adapters share: readable differences between what AWS
//! reports and what the spec asks for, stable hashes for idempotency tokens
//! and change detection, and "already gone" handling.

use serde_json::Value;

use super::error::AwsError;
/// Where the adapters found it before it moved below the specs, which name
/// roles with it.
pub use crate::stable_hash::stable_hash;

/// Differences between `found` and `wanted` (both the same spec type,
/// serialised), as `"PREFIX.field is X, want Y"`. Objects are compared field
/// by field; lists and scalars as a whole.
pub fn json_differences(prefix: &str, found: &Value, wanted: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk(prefix, found, wanted, &mut out);
    out
}

fn walk(path: &str, found: &Value, wanted: &Value, out: &mut Vec<String>) {
    match (found, wanted) {
        (Value::Object(f), Value::Object(w)) => {
            for (key, w_value) in w {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                walk(&child, f.get(key).unwrap_or(&Value::Null), w_value, out);
            }
        }
        _ if numbers_equal(found, wanted) => {}
        _ if found != wanted => out.push(format!("{path} is {found}, want {wanted}")),
        _ => {}
    }
}

/// 5 and 5.0 are the same number (AWS returns doubles for some fields).
fn numbers_equal(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

/// A deterministic idempotency token for creating `what` on behalf of
/// `owner`: retrying the same create sends the same token.
pub fn idempotency_token(owner: &str, what: &str) -> String {
    format!("matbakh-{}", stable_hash(&format!("{owner}\n{what}")))
}

/// `Ok(None)` when AWS says the object does not exist.
pub fn absent_if_not_found<T>(result: Result<T, AwsError>) -> Result<Option<T>, AwsError> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Deleting what is already gone is success.
pub fn gone_is_ok(result: Result<(), AwsError>) -> Result<(), AwsError> {
    absent_if_not_found(result).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn differences_name_the_field() {
        let found = json!({"a": 1, "b": {"c": "x", "d": [1, 2]}, "e": 2.0});
        let wanted = json!({"a": 1, "b": {"c": "y", "d": [1, 2]}, "e": 2});
        assert_eq!(
            json_differences("node", &found, &wanted),
            vec![r#"node.b.c is "x", want "y""#]
        );
    }

    #[test]
    fn hashes_are_stable() {
        assert_eq!(idempotency_token("o", "n").len(), 24);
    }
}
