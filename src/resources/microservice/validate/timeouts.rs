//! The create, update and delete timeouts.

use std::time::Duration;

use super::validator::Validator;
use crate::resources::microservice::config::MicroserviceConfig;

impl Validator {
    pub(super) fn timeouts(&mut self, c: &MicroserviceConfig) {
        let Some(t) = &c.timeouts else { return };
        for (field, value) in [
            ("create", &t.create),
            ("update", &t.update),
            ("delete", &t.delete),
        ] {
            self.duration(
                &format!("timeouts.0.{field}"),
                value,
                Duration::from_secs(1),
                Duration::from_secs(24 * 3600),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_fixtures::*;
    use serde_json::json;

    #[test]
    fn timeouts_rules() {
        assert_eq!(
            paths(json!({"timeouts": [{"create": "soon"}]})),
            vec!["timeouts.0.create"]
        );
    }
}
