//! The prior state merged with what AWS holds, argument by argument.

use std::collections::BTreeMap;

use crate::tf::value::Value;

/// The prior state's arguments, each replaced by the value AWS has where
/// that means something else.
///
/// `recovered` holds every argument as recovered from AWS. For each
/// top-level argument AWS holds (`held`), the recovered value replaces the
/// prior one when the state with it expands differently (`means`): a value
/// that only writes out a default the configuration left out keeps the
/// configuration's shape, so a plan shows only what really changed. Blocks
/// (lists of one object) are merged field by field the same way.
pub fn merge_recovered<H, M, G>(prior: &Value, recovered: &Value, held: H, means: M) -> Value
where
    H: Fn(&str) -> bool,
    M: Fn(&Value) -> Option<G>,
    G: PartialEq,
{
    let Value::Map(found) = recovered else {
        return prior.clone();
    };
    let mut current = prior.clone();
    for (key, value) in found {
        if !held(key) || prior.get(key) == value || prior.get(key).contains_unknown() {
            continue;
        }
        let baseline = means(&current);
        let differs = |candidate: &Value| means(candidate) != baseline;
        match (block_fields(prior.get(key)), block_fields(value)) {
            (Some(old), Some(new)) => {
                for (field, v) in new {
                    if old.get(field) == Some(v) {
                        continue;
                    }
                    let mut candidate = current.clone();
                    let mut block = old.clone();
                    block.insert(field.clone(), v.clone());
                    candidate.set(key, Value::List(vec![Value::Map(block)]));
                    if differs(&candidate) {
                        current = candidate;
                    }
                }
            }
            _ => {
                let mut candidate = current.clone();
                candidate.set(key, value.clone());
                if differs(&candidate) {
                    current = candidate;
                }
            }
        }
    }
    current
}

/// The fields of a block stored as a list of one object.
pub(super) fn block_fields(value: &Value) -> Option<&BTreeMap<String, Value>> {
    match value {
        Value::List(items) if items.len() == 1 => match &items[0] {
            Value::Map(m) => Some(m),
            _ => None,
        },
        _ => None,
    }
}
