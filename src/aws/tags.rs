//! Tags: what every object carries, and how ownership is checked.

use std::collections::BTreeMap;

use crate::spec::{Tags, OWNER_TAG};

/// The owner a spec's tags name (the Terraform resource id).
pub fn owner(tags: &Tags) -> &str {
    tags.get(OWNER_TAG).map(String::as_str).unwrap_or("")
}

/// Whether an existing object (with `found` tags) may be adopted by the
/// spec with `wanted` tags: it names the same owner.
pub fn may_adopt(wanted: &Tags, found: &BTreeMap<String, String>) -> bool {
    let owner = owner(wanted);
    !owner.is_empty() && found.get(OWNER_TAG).map(String::as_str) == Some(owner)
}

/// Human-readable differences between wanted and found tags, ignoring tags
/// AWS or others added (only keys we set are compared).
pub fn differences(wanted: &Tags, found: &BTreeMap<String, String>) -> Vec<String> {
    wanted
        .iter()
        .filter(|(k, v)| found.get(*k) != Some(*v))
        .map(|(k, v)| match found.get(k) {
            None => format!("tag {k} missing (want {v:?})"),
            Some(f) => format!("tag {k} is {f:?}, want {v:?}"),
        })
        .collect()
}
