//! Where a canary stands (the `status` attribute), and the candidate's
//! weight that goes with it: shared by both backends.

use super::config::CanarySettings;

/// Where a canary stands: the `status` attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Progressing,
    Succeeded,
    RolledBack,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Progressing => "progressing",
            Status::Succeeded => "succeeded",
            Status::RolledBack => "rolled_back",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        [Status::Progressing, Status::Succeeded, Status::RolledBack]
            .into_iter()
            .find(|s| s.name() == text)
    }
}

/// The candidate's weight once a walk has ended with `status`; `None` while
/// it is in progress (any weight of the walk is right).
pub fn expected_weight(settings: &CanarySettings, status: Status) -> Option<i64> {
    match status {
        Status::Progressing => None,
        Status::Succeeded => settings.weights().last().copied(),
        Status::RolledBack => Some(0),
    }
}

#[cfg(test)]
mod tests {
    use super::super::config::CanaryConfig;
    use super::*;

    fn settings() -> CanarySettings {
        let value = serde_json::json!({
            "microservice": "matbakh/auth-service",
            "image": "registry.example/auth:1.5.0",
            "steps": [10, 50, 100],
        });
        CanarySettings::resolve(&CanaryConfig::from_value(&value).unwrap()).unwrap()
    }

    #[test]
    fn every_status_reads_back_from_its_name() {
        for s in [Status::Progressing, Status::Succeeded, Status::RolledBack] {
            assert_eq!(Status::parse(s.name()), Some(s));
        }
        assert_eq!(Status::parse("rolled-back"), None);
    }

    #[test]
    fn a_finished_walk_fixes_the_weight_a_walk_in_progress_does_not() {
        let s = settings();
        assert_eq!(expected_weight(&s, Status::Succeeded), Some(100));
        assert_eq!(expected_weight(&s, Status::RolledBack), Some(0));
        assert_eq!(expected_weight(&s, Status::Progressing), None);
    }
}
