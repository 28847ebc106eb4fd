//! Validation problems and AWS failures as Terraform diagnostics.

use tf_provider::{AttributePath, Diagnostic, Diagnostics};

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
    diags.add_error(Diagnostic {
        summary: summary.into().into(),
        detail: detail.into().into(),
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
