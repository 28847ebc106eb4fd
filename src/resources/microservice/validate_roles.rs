//! Plan-time checks of the arguments that shape the roles the provider
//! makes (`secrets_kms_key_arns`, `task_policy_json`, `task_policy_arns`):
//! each problem names its attribute, before any AWS call.

use serde_json::Value;

use super::config::MicroserviceConfig;
use crate::validation::Problem;

/// IAM's limit on a role's inline policies together (characters, spaces
/// not counted): the IAM quotas page, "Role policy size".
pub const MAX_ROLE_POLICY_CHARS: usize = 10_240;

pub fn validate(c: &MicroserviceConfig) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut each =
        |attr: &str, list: &Option<Vec<Option<String>>>, ok: fn(&str) -> bool, what: &str| {
            for (i, arn) in list.iter().flatten().enumerate() {
                if let Some(arn) = arn {
                    if !ok(arn) {
                        problems.push(Problem::at(
                            &format!("{attr}.{i}"),
                            format!("Invalid {what} ARN"),
                            format!("{arn:?} is not a {what} ARN"),
                        ));
                    }
                }
            }
        };
    each(
        "secrets_kms_key_arns",
        &c.secrets_kms_key_arns,
        is_kms_key_arn,
        "KMS key",
    );
    each(
        "task_policy_arns",
        &c.task_policy_arns,
        is_policy_arn,
        "IAM managed policy",
    );
    let given = |attr: &str, role: &str, problems: &mut Vec<Problem>| {
        problems.push(Problem::at(
            attr,
            "Conflicting arguments",
            format!("{attr} shapes the role the provider makes; with {role} given, nothing is made: put these permissions in that role instead"),
        ))
    };
    if c.execution_role_arn.is_some()
        && c.secrets_kms_key_arns
            .as_ref()
            .is_some_and(|l| !l.is_empty())
    {
        given("secrets_kms_key_arns", "execution_role_arn", &mut problems);
    }
    if c.task_role_arn.is_some() {
        if c.task_policy_json.is_some() {
            given("task_policy_json", "task_role_arn", &mut problems);
        }
        if c.task_policy_arns.as_ref().is_some_and(|l| !l.is_empty()) {
            given("task_policy_arns", "task_role_arn", &mut problems);
        }
    }
    if let Some(text) = &c.task_policy_json {
        if let Err(why) = check_policy_document(text) {
            problems.push(Problem::at(
                "task_policy_json",
                "Invalid IAM policy document",
                why,
            ));
        }
    }
    problems
}

/// `arn:PARTITION:kms:REGION:ACCOUNT:key/ID`.
pub fn is_kms_key_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    matches!(parts.as_slice(), ["arn", p, "kms", region, account, resource]
        if !p.is_empty() && !region.is_empty() && is_account(account)
            && resource.strip_prefix("key/").is_some_and(|id| !id.is_empty() && !id.contains('/')))
}

/// `arn:PARTITION:iam::ACCOUNT:policy/[PATH/]NAME`, AWS managed (`aws`) or
/// the account's.
pub fn is_policy_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    matches!(parts.as_slice(), ["arn", p, "iam", "", account, resource]
        if !p.is_empty() && (is_account(account) || *account == "aws")
            && resource.strip_prefix("policy/").is_some_and(|r| !r.is_empty() && !r.ends_with('/')))
}

fn is_account(account: &str) -> bool {
    account.len() == 12 && account.chars().all(|c| c.is_ascii_digit())
}

/// An identity-based policy document as IAM takes one (IAM JSON policy
/// reference): an object with `Version` 2012-10-17 and `Statement`, one
/// statement or a list; each with `Effect` Allow or Deny, `Action` or
/// `NotAction`, `Resource` or `NotResource`, and no `Principal` (an
/// identity policy names none). The error says where.
pub fn check_policy_document(text: &str) -> Result<(), String> {
    let doc: Value = serde_json::from_str(text)
        .map_err(|e| format!("not JSON: {e} (line {}, column {})", e.line(), e.column()))?;
    let Value::Object(doc) = doc else {
        return Err("a policy document is a JSON object".into());
    };
    match doc.get("Version").and_then(Value::as_str) {
        Some("2012-10-17") => {}
        Some(other) => return Err(format!("Version is {other:?}: use \"2012-10-17\"")),
        None => return Err("Version missing: use \"2012-10-17\"".into()),
    }
    let statements = match doc.get("Statement") {
        Some(Value::Array(list)) if !list.is_empty() => list.clone(),
        Some(one @ Value::Object(_)) => vec![one.clone()],
        _ => return Err("Statement missing: one statement or a list of them".into()),
    };
    for (i, s) in statements.iter().enumerate() {
        let at = format!("Statement[{i}]");
        let Value::Object(s) = s else {
            return Err(format!("{at} is not an object"));
        };
        match s.get("Effect").and_then(Value::as_str) {
            Some("Allow" | "Deny") => {}
            _ => return Err(format!("{at}.Effect must be \"Allow\" or \"Deny\"")),
        }
        if s.contains_key("Principal") || s.contains_key("NotPrincipal") {
            return Err(format!(
                "{at} names a Principal: a role's own policy names none"
            ));
        }
        for (one, not) in [("Action", "NotAction"), ("Resource", "NotResource")] {
            let field = match (s.get(one), s.get(not)) {
                (Some(v), None) => (one, v),
                (None, Some(v)) => (not, v),
                _ => return Err(format!("{at} needs exactly one of {one} and {not}")),
            };
            let ok = match field.1 {
                Value::String(v) => !v.is_empty(),
                Value::Array(list) => {
                    !list.is_empty()
                        && list
                            .iter()
                            .all(|v| v.as_str().is_some_and(|v| !v.is_empty()))
                }
                _ => false,
            };
            if !ok {
                return Err(format!(
                    "{at}.{} must be a string or a list of strings",
                    field.0
                ));
            }
        }
    }
    let size = text.chars().filter(|c| !c.is_whitespace()).count();
    if size > MAX_ROLE_POLICY_CHARS {
        return Err(format!(
            "{size} characters without spaces: IAM takes at most {MAX_ROLE_POLICY_CHARS} for a role's inline policies"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_documents_are_checked_and_the_error_says_where() {
        let good = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#;
        assert_eq!(check_policy_document(good), Ok(()));
        let e =
            check_policy_document("{\"Version\": \"2012-10-17\",\n \"Statement\": [").unwrap_err();
        assert!(e.contains("line 2"), "{e}");
        let e = check_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject"}]}"#,
        )
        .unwrap_err();
        assert!(e.contains("Statement[0]") && e.contains("Resource"), "{e}");
        let e = check_policy_document(r#"{"Version":"2012-10-17","Statement":{"Effect":"Permit","Action":"a:b","Resource":"*"}}"#).unwrap_err();
        assert!(e.contains("Statement[0].Effect"), "{e}");
        assert!(check_policy_document(r#"{"Statement":[]}"#)
            .unwrap_err()
            .contains("Version"));
    }

    #[test]
    fn arns_of_keys_and_policies() {
        assert!(is_kms_key_arn(
            "arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab"
        ));
        assert!(!is_kms_key_arn(
            "arn:aws:kms:eu-central-1:123456789012:alias/x"
        ));
        assert!(!is_kms_key_arn("1234abcd"));
        assert!(is_policy_arn("arn:aws:iam::123456789012:policy/auth-app"));
        assert!(is_policy_arn(
            "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
        ));
        assert!(!is_policy_arn("arn:aws:iam::123456789012:role/auth"));
    }

    #[test]
    fn arguments_for_a_made_role_conflict_with_a_given_one() {
        let c = MicroserviceConfig::from_value(&serde_json::json!({
            "task_role_arn": "arn:aws:iam::123456789012:role/x",
            "task_policy_json": "{}",
            "task_policy_arns": ["arn:aws:iam::123456789012:role/x"],
        }))
        .unwrap();
        let paths: Vec<String> = validate(&c).iter().map(|p| p.dotted()).collect();
        assert!(
            paths.contains(&"task_policy_arns.0".to_string()),
            "{paths:?}"
        );
        assert!(paths.contains(&"task_policy_json".to_string()), "{paths:?}");
        assert!(paths.contains(&"task_policy_arns".to_string()), "{paths:?}");
    }
}
