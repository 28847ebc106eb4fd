//! Validation problems and AWS failures as Terraform diagnostics.

use tf_provider::{AttributePath, Diagnostic, Diagnostics};

use crate::aws::access_denied::AccessDenied;

use crate::validation::{PathStep, Problem};

pub fn attribute_path(steps: &[PathStep]) -> AttributePath {
    let mut path = AttributePath::default();
    for step in steps {
        match step {
            PathStep::Attr(a) => path.add_attribute(a.clone()),
            PathStep::Index(i) => path.add_index(*i),
            PathStep::Key(k) => path.add_key(k.clone()),
        };
    }
    path
}

/// Report each problem as an error pointing at its attribute.
pub fn report(diags: &mut Diagnostics, problems: Vec<Problem>) {
    for p in problems {
        // Diagnostic::new would append a backtrace when RUST_BACKTRACE is set;
        // users want the message only.
        diags.add_error(Diagnostic {
            summary: p.summary.into(),
            detail: p.detail.into(),
            attribute: attribute_path(&p.path),
        });
    }
}

pub fn error(diags: &mut Diagnostics, summary: impl Into<String>, detail: impl Into<String>) {
    let (mut summary, mut detail) = (summary.into(), detail.into());
    // An AWS refusal for lack of permission reads as the action and the
    // resource refused, and what to grant, wherever it surfaces (a read, an
    // import, a destroy).
    if !summary.contains("access denied") {
        if let Some(refusal) = AccessDenied::find(&detail) {
            summary = format!("{summary}: {}", refusal.summary());
            detail = refusal.detail(&[]);
        }
    }
    diags.add_error(Diagnostic {
        summary: summary.into(),
        detail: detail.into(),
        attribute: AttributePath::default(),
    });
}

pub fn warning(diags: &mut Diagnostics, summary: impl Into<String>, detail: impl Into<String>) {
    diags.add_warning(Diagnostic {
        summary: summary.into().into(),
        detail: detail.into().into(),
        attribute: AttributePath::default(),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_reads_as_the_action_and_resource_refused() {
        let mut diags = Diagnostics::default();
        error(
            &mut diags,
            "Cannot read matbakh_platform matbakh",
            "ecs:DescribeClusters failed: AccessDeniedException: User: arn:aws:iam::1:user/ci \
             is not authorized to perform: ecs:DescribeClusters on resource: \
             arn:aws:ecs:eu-central-1:1:cluster/matbakh because no identity-based policy allows \
             the ecs:DescribeClusters action",
        );
        let d = &diags.errors[0];
        assert_eq!(
            d.summary,
            "Cannot read matbakh_platform matbakh: access denied to ecs:DescribeClusters"
        );
        assert!(d
            .detail
            .starts_with("AWS refused ecs:DescribeClusters on arn:aws:ecs:eu-central-1:1:cluster/matbakh to arn:aws:iam::1:user/ci"));
        error(
            &mut diags,
            "Cannot read x",
            "ecs:DescribeClusters failed: ThrottlingException: slow",
        );
        assert_eq!(diags.errors[1].summary, "Cannot read x");
    }
}
