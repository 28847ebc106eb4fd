//! Problems and failures reported as Terraform diagnostics.

use tf_provider::Diagnostics;

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
    for e in &outcome.errors {
        error(
            diags,
            format!(
                "{action} {type_name} {id}: component {} failed",
                e.component
            ),
            format!("{}\n\n{next}", e.message),
        );
    }
}
