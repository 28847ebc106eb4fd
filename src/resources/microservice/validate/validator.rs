//! The collector every check writes into: problems with their attribute
//! paths, and the duration and range checks many attributes share.

use std::time::Duration;

use crate::validation::{parse_duration, PathStep, Problem};

#[derive(Default)]
pub(super) struct Validator {
    pub(super) problems: Vec<Problem>,
}

impl Validator {
    pub(super) fn error(&mut self, path: &str, summary: &str, detail: impl Into<String>) {
        self.problems.push(Problem::at(path, summary, detail));
    }

    /// A problem about one entry of a map attribute (path step `Key`).
    pub(super) fn error_at_key(
        &mut self,
        attr: &str,
        key: &str,
        summary: &str,
        detail: impl Into<String>,
    ) {
        let mut problem = Problem::at(attr, summary, detail);
        problem.path.push(PathStep::Key(key.to_string()));
        self.problems.push(problem);
    }

    pub(super) fn duration(
        &mut self,
        path: &str,
        text: &Option<String>,
        min: Duration,
        max: Duration,
    ) -> Option<Duration> {
        let text = text.as_ref()?;
        match parse_duration(text) {
            Err(why) => {
                self.error(path, "Invalid duration", why);
                None
            }
            Ok(d) if d < min || d > max => {
                self.error(
                    path,
                    "Duration out of range",
                    format!("{text} is not between {} and {}", show(min), show(max)),
                );
                None
            }
            Ok(d) => Some(d),
        }
    }

    pub(super) fn int_range(&mut self, path: &str, value: Option<i64>, min: i64, max: i64) {
        if let Some(v) = value {
            if v < min || v > max {
                self.error(
                    path,
                    "Value out of range",
                    format!("{v} is not between {min} and {max}"),
                );
            }
        }
    }
}

pub(super) fn show(d: Duration) -> String {
    if d.subsec_millis() != 0 || d.as_secs() == 0 {
        format!("{}ms", d.as_millis())
    } else {
        format!("{}s", d.as_secs())
    }
}
