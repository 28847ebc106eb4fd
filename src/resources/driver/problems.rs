//! Problems and failures reported as Terraform diagnostics.

use tf_provider::Diagnostics;

use crate::aws::access_denied::AccessDenied;
use crate::engine::Outcome;
use crate::tf::diagnostics::{error, report};
use crate::tf::value::Value;
use crate::validation::Problem;

/// A problem for every required attribute of `block` (and of its nested
/// blocks that are present) that is null in `value`.
pub(super) fn required_but_null(
    block: &tf_provider::schema::Block,
    value: &Value,
    prefix: &str,
) -> Vec<Problem> {
    use tf_provider::schema::AttributeConstraint;
    let mut problems = Vec::new();
    for (name, attribute) in &block.attributes {
        if matches!(attribute.constraint, AttributeConstraint::Required)
            && value.get(name).is_null()
        {
            problems.push(Problem::at(
                &format!("{prefix}{name}"),
                format!("Missing value for {prefix}{name}"),
                format!(
                    "{prefix}{name} is required. It was unknown at plan and is null now, \
                     so nothing was created or changed."
                ),
            ));
        }
    }
    for (name, nested) in &block.blocks {
        let inner = match nested {
            tf_provider::schema::NestedBlock::Optional(b) => b,
            _ => continue,
        };
        if let Value::List(items) = value.get(name) {
            for (i, item) in items.iter().enumerate() {
                problems.extend(required_but_null(
                    inner,
                    item,
                    &format!("{prefix}{name}.{i}."),
                ));
            }
        }
    }
    problems
}

/// Report `problems` as errors; `None` when there were any.
pub(super) fn report_problems(diags: &mut Diagnostics, problems: Vec<Problem>) -> Option<()> {
    let ok = problems.is_empty();
    report(diags, problems);
    ok.then_some(())
}

/// One error per failed component, naming it, and what the user can do.
pub fn report_failures(
    diags: &mut Diagnostics,
    type_name: &str,
    id: &str,
    action: &str,
    outcome: &Outcome,
) {
    let next = if action == "creating" {
        "Every object created so far is recorded in the state (attribute `components`). \
         Terraform marks the resource tainted after a failed create, so the next apply \
         would destroy and recreate all of it; run `terraform untaint` on it first to have \
         the next apply continue in place from what exists."
    } else {
        "Every object created so far is recorded in the state (attribute `components`); \
         the next apply or destroy continues from there."
    };
    // AWS refusing an action is one diagnostic per action, naming every
    // object it was refused on: the components refused for the same
    // missing permission have one cause and one remedy.
    let mut denied: Vec<(AccessDenied, Vec<String>)> = Vec::new();
    for e in &outcome.errors {
        if let Some(refusal) = AccessDenied::find(&e.message) {
            let object = format!(
                "{} (component {} of {type_name} {id})",
                refusal.resource.as_deref().unwrap_or("its resource"),
                e.component
            );
            match denied.iter_mut().find(|(d, _)| d.action == refusal.action) {
                Some((_, objects)) => objects.push(object),
                None => denied.push((refusal, vec![object])),
            }
            continue;
        }
        error(
            diags,
            format!(
                "{action} {type_name} {id}: component {} failed",
                e.component
            ),
            format!("{}\n\n{next}", e.message),
        );
    }
    for (refusal, objects) in denied {
        error(
            diags,
            format!("{action} {type_name} {id}: {}", refusal.summary()),
            format!("{}\n\n{next}", refusal.detail(&objects)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::StepError;

    fn refused(component: &str, resource: &str) -> StepError {
        StepError {
            component: component.into(),
            message: format!(
                "iam:CreateRole failed: AccessDenied: User: arn:aws:iam::1:user/ci is not \
                 authorized to perform: iam:CreateRole on resource: {resource} because no \
                 identity-based policy allows the iam:CreateRole action"
            ),
        }
    }

    #[test]
    fn components_refused_the_same_action_are_one_diagnostic_naming_each_object() {
        let outcome = Outcome {
            errors: vec![
                refused("execution_role", "arn:aws:iam::1:role/m-auth-r-exec"),
                refused("task_role", "arn:aws:iam::1:role/m-auth-r-task"),
                StepError {
                    component: "log_group".into(),
                    message: "logs:CreateLogGroup failed: LimitExceededException: too many".into(),
                },
            ],
            ..Outcome::default()
        };
        let mut diags = Diagnostics::default();
        report_failures(
            &mut diags,
            "matbakh_microservice",
            "m/auth",
            "creating",
            &outcome,
        );
        assert_eq!(diags.errors.len(), 2, "{:?}", diags.errors);
        let denied = diags
            .errors
            .iter()
            .find(|d| d.summary.contains("access denied"))
            .unwrap();
        assert_eq!(
            denied.summary,
            "creating matbakh_microservice m/auth: access denied to iam:CreateRole"
        );
        for role in [
            "role/m-auth-r-exec (component execution_role",
            "role/m-auth-r-task (component task_role",
        ] {
            assert!(denied.detail.contains(role), "{}", denied.detail);
        }
        assert!(denied.detail.contains("matbakh_deployer_policy"));
        assert!(
            !denied.detail.contains("identity-based"),
            "AWS's wrapping is gone"
        );
    }
}
