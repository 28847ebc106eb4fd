//! `tags`, `tags_all` and AWS's tag limits, the same for every resource.
//!
//! Every AWS object of a resource carries `tags_all` (the provider's
//! `default_tags` with the resource's `tags` over them) plus the tags the
//! provider adds itself (`matbakh:owner`, `matbakh:owner-token`, and on
//! some kinds one more, see
//! [`PROVIDER_TAGS_PER_OBJECT`]). AWS refuses an object with more than 50
//! tags, a key over 128 or a value over 256 characters, characters outside
//! its pattern or an `aws:` key, and CloudWatch Logs or App Mesh would only
//! say so halfway through an apply: so plan says it first, naming `tags` or
//! the provider's `default_tags`.

use std::collections::BTreeMap;

use crate::spec::Tags;
use crate::tf::value::Value;
use crate::validation::{PathStep, Problem};

/// Most tags on one AWS object (ECS, App Mesh, CloudWatch Logs; Cloud Map
/// allows 200, so the smaller limit holds for every object).
pub const MAX_TAGS: usize = 50;
/// Longest key and value, in characters.
pub const MAX_KEY_LENGTH: usize = 128;
pub const MAX_VALUE_LENGTH: usize = 256;
/// Keys AWS reserves for itself, in any case.
pub const AWS_PREFIX: &str = "aws:";
/// Keys the provider writes itself; a user's tag of this prefix would be
/// overwritten (or overwrite the ownership record).
pub const PROVIDER_PREFIX: &str = "matbakh:";
/// The most tags the provider adds to one object: `matbakh:owner` and
/// `matbakh:owner-token` on every object, plus `matbakh:vpc-id` on a
/// platform's namespace and `matbakh:spec-hash` on a task definition
/// revision.
pub const PROVIDER_TAGS_PER_OBJECT: usize = 3;

/// The provider's `default_tags` with the resource's `tags` over them: what
/// every object of the resource carries besides the provider's own tags.
pub fn tags_all(default_tags: &Tags, tags: &Tags) -> Tags {
    let mut all = default_tags.clone();
    all.extend(tags.iter().map(|(k, v)| (k.clone(), v.clone())));
    all
}

/// Why AWS would refuse this tag, if it would. Lengths count characters,
/// as AWS does; the characters are those of AWS's tag pattern
/// `[\p{L}\p{Z}\p{N}_.:/=+\-@]` (letters, spaces, digits and `_.:/=+-@`).
pub fn check_tag(key: &str, value: &str) -> Result<(), String> {
    let key_length = key.chars().count();
    if key_length == 0 {
        return Err("a tag key must not be empty".into());
    }
    if key_length > MAX_KEY_LENGTH {
        return Err(format!(
            "the key {:?}… is {key_length} characters long; AWS allows at most {MAX_KEY_LENGTH}",
            key.chars().take(20).collect::<String>()
        ));
    }
    if key.to_lowercase().starts_with(AWS_PREFIX) {
        return Err(format!(
            "the key {key:?} starts with \"aws:\", which AWS reserves for its own tags"
        ));
    }
    if key.starts_with(PROVIDER_PREFIX) {
        return Err(format!(
            "the key {key:?} starts with \"matbakh:\", which the provider reserves for the tags it sets itself"
        ));
    }
    let value_length = value.chars().count();
    if value_length > MAX_VALUE_LENGTH {
        return Err(format!(
            "the value of {key:?} is {value_length} characters long; AWS allows at most {MAX_VALUE_LENGTH}"
        ));
    }
    for (what, text) in [("key", key), ("value of", value)] {
        if let Some(bad) = text.chars().find(|c| !allowed(*c)) {
            let subject = if what == "key" {
                format!("the key {key:?}")
            } else {
                format!("the value of {key:?}")
            };
            return Err(format!(
                "{subject} contains {bad:?}; AWS allows letters, digits, spaces and _ . : / = + - @"
            ));
        }
    }
    Ok(())
}

fn allowed(c: char) -> bool {
    c.is_alphabetic()
        || c.is_numeric()
        || (c.is_whitespace() && !c.is_control())
        || "_.:/=+-@".contains(c)
}

/// Problems with a tags map at `attribute` (`tags` of a resource or the
/// provider's `default_tags`): each bad entry, and more entries than fit on
/// an object beside the provider's own tags.
pub fn check_tags(attribute: &str, tags: &Tags) -> Vec<Problem> {
    let mut problems: Vec<Problem> = tags
        .iter()
        .filter_map(|(k, v)| {
            check_tag(k, v)
                .err()
                .map(|why| entry_problem(attribute, k, "Invalid tag", why))
        })
        .collect();
    let room = MAX_TAGS - PROVIDER_TAGS_PER_OBJECT;
    if tags.len() > room {
        problems.push(Problem::at(
            attribute,
            "Too many tags",
            format!(
                "{attribute} has {} tags; AWS allows {MAX_TAGS} per object and the provider adds up to {PROVIDER_TAGS_PER_OBJECT} of its own (matbakh:owner, matbakh:owner-token, …), so at most {room} fit.",
                tags.len()
            ),
        ));
    }
    problems
}

/// Problems with a resource's `tags` together with the provider's
/// `default_tags`: what `check_tags` finds in `tags`, and, when each fits on
/// its own, more tags in `tags_all` than fit on an object.
pub fn check_tag_limits(default_tags: &Tags, tags: &Tags) -> Vec<Problem> {
    let mut problems = check_tags("tags", tags);
    if !problems.is_empty() {
        return problems;
    }
    let all = tags_all(default_tags, tags);
    let room = MAX_TAGS - PROVIDER_TAGS_PER_OBJECT;
    if all.len() > room {
        let overlap = tags
            .keys()
            .filter(|k| default_tags.contains_key(*k))
            .count();
        problems.push(Problem::at(
            "tags",
            "Too many tags",
            format!(
                "tags ({}) and the provider's default_tags ({}{}) make {} tags on every object; AWS allows {MAX_TAGS} per object and the provider adds up to {PROVIDER_TAGS_PER_OBJECT} of its own (matbakh:owner, matbakh:owner-token, …), so at most {room} fit.",
                tags.len(),
                default_tags.len(),
                if overlap > 0 { format!(", {overlap} of them overridden by tags") } else { String::new() },
                all.len()
            ),
        ));
    }
    problems
}

fn entry_problem(attribute: &str, key: &str, summary: &str, detail: String) -> Problem {
    let mut p = Problem::at(attribute, summary, format!("{attribute}: {detail}."));
    p.path.push(PathStep::Key(key.to_string()));
    p
}

/// The known entries of a `map(string)` value.
pub fn known_tags(value: &Value) -> Tags {
    match value {
        Value::Map(m) => m
            .iter()
            .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
            .collect(),
        _ => BTreeMap::new(),
    }
}

/// At plan: set `tags_all` (unknown while `tags` is) and return the tag
/// problems of the planned `tags` with `default_tags`.
pub fn plan_tags(planned: &mut Value, default_tags: &Tags) -> Vec<Problem> {
    let tags_value = planned.get("tags").clone();
    let tags = known_tags(&tags_value);
    let problems = check_tag_limits(default_tags, &tags);
    set_tags_all(planned, default_tags);
    problems
}

/// Set `tags_all` from `tags` and `default_tags` (unknown while `tags` is).
pub fn set_tags_all(state: &mut Value, default_tags: &Tags) {
    let tags_value = state.get("tags").clone();
    let all = if tags_value.contains_unknown() {
        Value::Unknown
    } else {
        map_value(&tags_all(default_tags, &known_tags(&tags_value)))
    };
    state.set("tags_all", all);
}

/// The `default_tags` a state was applied with, as far as they reach its
/// objects: its `tags_all` without the keys its own `tags` set. `None` when
/// the state has no known `tags_all` (a state from before tags).
pub fn applied_default_tags(state: &Value) -> Option<Tags> {
    let all = state.get("tags_all");
    if !matches!(all, Value::Map(_)) || all.contains_unknown() {
        return None;
    }
    let own = known_tags(state.get("tags"));
    let mut applied = known_tags(all);
    applied.retain(|k, _| !own.contains_key(k));
    Some(applied)
}

pub fn map_value(tags: &Tags) -> Value {
    Value::Map(
        tags.iter()
            .map(|(k, v)| (k.clone(), Value::str(v)))
            .collect(),
    )
}

/// The resource's own `tags` among the tags found on one of its objects:
/// what is neither AWS's nor the provider's own, nor a default tag with its
/// default value. What import recovers into `tags`.
pub fn recover_tags(found: &Tags, default_tags: &Tags) -> Tags {
    found
        .iter()
        .filter(|(k, v)| {
            !k.to_lowercase().starts_with(AWS_PREFIX)
                && !k.starts_with(PROVIDER_PREFIX)
                && default_tags.get(*k) != Some(*v)
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// A map(string) attribute as tags.
pub fn string_map_value(v: &Value) -> Tags {
    match v {
        Value::Map(m) => m
            .iter()
            .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
            .collect(),
        _ => Tags::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applied_default_tags_are_tags_all_without_own_tags() {
        let mut state = Value::Null;
        state.set(
            "tags_all",
            map_value(&tags(&[("project", "matbakh"), ("team", "identity")])),
        );
        state.set("tags", map_value(&tags(&[("team", "identity")])));
        assert_eq!(
            applied_default_tags(&state),
            Some(tags(&[("project", "matbakh")]))
        );
        assert_eq!(applied_default_tags(&Value::Null), None);
    }

    fn tags(pairs: &[(&str, &str)]) -> Tags {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn many(prefix: &str, n: usize) -> Tags {
        (0..n)
            .map(|i| (format!("{prefix}{i}"), "x".into()))
            .collect()
    }

    #[test]
    fn resource_tags_win_over_default_tags() {
        let all = tags_all(
            &tags(&[("project", "matbakh"), ("team", "platform")]),
            &tags(&[("team", "identity")]),
        );
        assert_eq!(all, tags(&[("project", "matbakh"), ("team", "identity")]));
    }

    #[test]
    fn tag_limits_of_aws() {
        assert!(check_tag("team", "").is_ok());
        assert!(check_tag("Kostenstelle", "Zürich 42/a+b=c@d_e.f:g-h").is_ok());
        assert!(check_tag(&"k".repeat(128), &"v".repeat(256)).is_ok());
        let why = check_tag(&"k".repeat(129), "v").unwrap_err();
        assert!(why.contains("129 characters"), "{why}");
        let why = check_tag("team", &"v".repeat(257)).unwrap_err();
        assert!(why.contains("257 characters"), "{why}");
        for reserved in ["aws:team", "AWS:team", "Aws:x"] {
            assert!(
                check_tag(reserved, "v").unwrap_err().contains("aws:"),
                "{reserved}"
            );
        }
        assert!(check_tag("matbakh:owner", "me")
            .unwrap_err()
            .contains("reserves"));
        assert!(check_tag("", "v").is_err());
        assert!(check_tag("team!", "v").unwrap_err().contains("'!'"));
        assert!(check_tag("team", "a\tb").is_err());
        // Multi-byte characters count once.
        assert!(check_tag("ü".repeat(128).as_str(), "v").is_ok());
    }

    #[test]
    fn problems_name_the_attribute_and_the_key() {
        let p = check_tag_limits(&Tags::new(), &tags(&[("aws:x", "v")]));
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].dotted(), "tags.[\"aws:x\"]");
        let p = check_tags("default_tags", &tags(&[("ok", &"v".repeat(257))]));
        assert_eq!(p[0].dotted(), "default_tags.[\"ok\"]");
        assert!(p[0].detail.starts_with("default_tags:"), "{}", p[0].detail);
    }

    #[test]
    fn counting_includes_the_provider_tags_and_the_default_tags() {
        // 47 fit beside the provider's three.
        assert!(check_tags("tags", &many("t", 47)).is_empty());
        let p = check_tags("tags", &many("t", 48));
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].dotted(), "tags");
        // Together: 30 + 21 = 51 tags on every object.
        let p = check_tag_limits(&many("d", 30), &many("t", 21));
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].dotted(), "tags");
        assert!(p[0].detail.contains("default_tags (30)"), "{}", p[0].detail);
        assert!(p[0].detail.contains("make 51 tags"), "{}", p[0].detail);
        // Overridden keys count once.
        assert!(check_tag_limits(&many("t", 40), &many("t", 47)).is_empty());
        assert!(check_tag_limits(&many("d", 30), &many("t", 17)).is_empty());
    }

    #[test]
    fn tags_all_is_planned_from_known_tags_and_unknown_otherwise() {
        let defaults = tags(&[("project", "matbakh")]);
        let mut planned = Value::Null;
        planned.set("tags", map_value(&tags(&[("team", "identity")])));
        assert!(plan_tags(&mut planned, &defaults).is_empty());
        assert_eq!(
            planned.get("tags_all"),
            &map_value(&tags(&[("project", "matbakh"), ("team", "identity")]))
        );
        let mut no_tags = Value::Null;
        no_tags.set("tags", Value::Null);
        plan_tags(&mut no_tags, &defaults);
        assert_eq!(no_tags.get("tags_all"), &map_value(&defaults));
        let mut unknown = Value::Null;
        unknown.set(
            "tags",
            Value::Map([("team".to_string(), Value::Unknown)].into()),
        );
        plan_tags(&mut unknown, &defaults);
        assert_eq!(unknown.get("tags_all"), &Value::Unknown);
    }

    #[test]
    fn recovered_tags_leave_out_defaults_and_provider_tags() {
        let found = tags(&[
            ("project", "matbakh"),
            ("team", "identity"),
            ("matbakh:owner", "matbakh/auth-service"),
            ("aws:ecs:clusterName", "matbakh"),
            ("stage", "overridden"),
        ]);
        let defaults = tags(&[("project", "matbakh"), ("stage", "prod")]);
        assert_eq!(
            recover_tags(&found, &defaults),
            tags(&[("stage", "overridden"), ("team", "identity")])
        );
    }
}
