//! Tags: what every object carries, and how ownership is checked (the rule
//! itself is in [`crate::spec::ownership`]).

use std::collections::BTreeMap;

use super::AwsError;
use crate::spec::ownership::{decide, refusal, Ownership, OWNER_TOKEN_TAG};
use crate::spec::{Tags, OWNER_TAG};

/// The owner a spec's tags name (the Terraform resource id).
pub fn owner(tags: &Tags) -> &str {
    tags.get(OWNER_TAG).map(String::as_str).unwrap_or("")
}

/// The ownership token a spec's tags carry (its resource's), if any.
pub fn owner_token(tags: &Tags) -> Option<&str> {
    tags.get(OWNER_TOKEN_TAG).map(String::as_str)
}

/// Whose an existing object (with `found` tags) is, seen from the spec with
/// `wanted` tags.
pub fn ownership(wanted: &Tags, found: &BTreeMap<String, String>) -> Ownership {
    decide(found, owner(wanted), owner_token(wanted))
}

/// Whether an existing object (with `found` tags) may be adopted by the
/// spec with `wanted` tags: it names the same owner and carries the same
/// ownership token, so this resource created it.
pub fn may_adopt(wanted: &Tags, found: &BTreeMap<String, String>) -> bool {
    ownership(wanted, found) == Ownership::Mine
}

/// `Ok` when a create that met an existing object (`what` `name`, with
/// `found` tags) may adopt it; otherwise the "already exists" error for
/// `call`, saying whose the object is and how to adopt it deliberately.
pub fn claim(
    call: &str,
    what: &str,
    name: &str,
    wanted: &Tags,
    found: &BTreeMap<String, String>,
) -> Result<(), AwsError> {
    match ownership(wanted, found) {
        Ownership::Mine => Ok(()),
        other => Err(AwsError::new(
            call,
            refusal(what, name, owner(wanted), &other),
        )),
    }
}

/// A create's idempotency token (Cloud Map's CreatorRequestId, App Mesh's
/// clientToken) for `what`: the same on every retry of this resource's
/// create, and different for another resource of the same name, whose
/// ownership token differs, so AWS never hands one resource the other's
/// object as "the result of your earlier request".
pub fn request_token(wanted: &Tags, what: &str) -> String {
    let claimant = format!("{}\n{}", owner(wanted), owner_token(wanted).unwrap_or(""));
    super::compare::idempotency_token(&claimant, what)
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

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "00112233445566778899aabbccddeeff";

    fn tags(pairs: &[(&str, &str)]) -> Tags {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn claim_adopts_only_with_the_same_token() {
        let wanted = tags(&[(OWNER_TAG, "matbakh/auth"), (OWNER_TOKEN_TAG, TOKEN)]);
        assert!(claim("ecs:CreateService", "ECS service", "auth", &wanted, &wanted).is_ok());
        let theirs = tags(&[
            (OWNER_TAG, "matbakh/auth"),
            (OWNER_TOKEN_TAG, &"1".repeat(32)),
        ]);
        let e = claim("ecs:CreateService", "ECS service", "auth", &wanted, &theirs).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("ecs:CreateService"), "{text}");
        assert!(text.contains("ECS service auth already exists"), "{text}");
        assert!(
            text.contains("terraform import <resource address> matbakh/auth"),
            "{text}"
        );
        assert!(!may_adopt(&wanted, &theirs));
        // A spec without a token (a plan that carried none) proves nothing.
        let no_token = tags(&[(OWNER_TAG, "matbakh/auth")]);
        assert!(!may_adopt(&no_token, &no_token));
    }
}
