//! Tags: what every object carries, and how ownership is checked (the rule
//! itself is in [`crate::spec::ownership`]).

use std::collections::BTreeMap;

use super::error::AwsError;
use crate::spec::ownership::{decide, refusal, Ownership, OWNER_TOKEN_TAG};
use crate::spec::{Tags, AWS_TAG_PREFIX, OWNER_TAG, PROVIDER_TAG_PREFIX};

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

/// Human-readable differences between wanted and found tags. Tags are
/// authoritative, as in terraform-provider-aws: an object carries exactly
/// the wanted tags, so a key found beside them is a difference too, unless
/// AWS (`aws:`) or the provider itself (`matbakh:`, say a canary's mark on
/// a revision) put it there.
pub fn differences(wanted: &Tags, found: &BTreeMap<String, String>) -> Vec<String> {
    let mut out: Vec<String> = wanted
        .iter()
        .filter(|(k, v)| found.get(*k) != Some(*v))
        .map(|(k, v)| match found.get(k) {
            None => format!("tag {k} missing (want {v:?})"),
            Some(f) => format!("tag {k} is {f:?}, want {v:?}"),
        })
        .collect();
    out.extend(
        unwanted(wanted, found)
            .into_iter()
            .map(|k| format!("tag {k} is {:?}, want none", found[&k])),
    );
    out
}

/// The keys found on an object that its spec does not have and that are
/// neither AWS's nor the provider's own: what an update removes (a key
/// taken out of `tags` or `default_tags`, or added outside Terraform).
pub fn unwanted(wanted: &Tags, found: &BTreeMap<String, String>) -> Vec<String> {
    found
        .keys()
        .filter(|k| {
            !wanted.contains_key(*k)
                && !k.to_lowercase().starts_with(AWS_TAG_PREFIX)
                && !k.starts_with(PROVIDER_TAG_PREFIX)
        })
        .cloned()
        .collect()
}

/// UntagResource of `keys` on `arn` with `client`: the request has the same
/// shape in ECS, Cloud Map, CloudWatch, App Mesh and Application Auto
/// Scaling (`resourceArn`/`ResourceARN` and `tagKeys`/`TagKeys`), only the
/// SDK types differ. `call` names it in errors.
macro_rules! untag_resource {
    ($client:expr, $arn:expr, $keys:expr, $call:literal) => {
        $client
            .untag_resource()
            .resource_arn($arn)
            .set_tag_keys(Some($keys))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| $crate::aws::error::AwsError::sdk($call, e))
    };
}
pub(crate) use untag_resource;

/// Remove the [`unwanted`] keys of one object after its wanted tags were
/// put: `found` reads its tags, `untag` removes the keys it is given (only
/// called when there are any).
pub async fn remove_unwanted<R, U, F>(wanted: &Tags, found: R, untag: U) -> Result<(), AwsError>
where
    R: std::future::Future<Output = Result<BTreeMap<String, String>, AwsError>>,
    U: FnOnce(Vec<String>) -> F,
    F: std::future::Future<Output = Result<(), AwsError>>,
{
    let keys = unwanted(wanted, &found.await?);
    if keys.is_empty() {
        return Ok(());
    }
    untag(keys).await
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

    #[test]
    fn tags_are_authoritative_but_leave_aws_and_provider_keys_alone() {
        let wanted = tags(&[(OWNER_TAG, "matbakh/auth"), ("team", "identity")]);
        let found = tags(&[
            (OWNER_TAG, "matbakh/auth"),
            ("team", "identity"),
            ("cost-center", "42"),
            ("aws:cloudformation:stack-name", "x"),
            ("matbakh:spec-hash", "abc"),
        ]);
        assert_eq!(unwanted(&wanted, &found), vec!["cost-center".to_string()]);
        assert_eq!(
            differences(&wanted, &found),
            vec![r#"tag cost-center is "42", want none"#.to_string()]
        );
        assert!(differences(&wanted, &wanted).is_empty());
    }
}
