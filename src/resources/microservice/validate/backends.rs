//! The services this one calls: valid names, not itself, each once.

use std::collections::BTreeSet;

use super::service_name::check_service_name;
use super::validator::Validator;
use crate::resources::microservice::config::MicroserviceConfig;

impl Validator {
    pub(super) fn backends(&mut self, c: &MicroserviceConfig) {
        let Some(list) = &c.backends else { return };
        let mut seen = BTreeSet::new();
        for (i, backend) in list.iter().enumerate() {
            let Some(backend) = backend else { continue };
            let path = format!("backends.{i}");
            if let Err(why) = check_service_name(backend) {
                self.error(&path, "Invalid backend", why);
            } else if Some(backend) == c.name.as_ref() {
                self.error(
                    &path,
                    "Invalid backend",
                    "a service does not list itself as a backend; it reaches itself directly",
                );
            } else if !seen.insert(backend) {
                self.error(
                    &path,
                    "Duplicate backend",
                    format!("{backend:?} is listed twice"),
                );
            }
        }
        if list.len() > 50 {
            self.error(
                "backends",
                "Too many backends",
                "App Mesh allows at most 50 backends per virtual node",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_fixtures::*;
    use serde_json::json;

    #[test]
    fn backend_rules() {
        assert_eq!(
            paths(json!({"backends": ["auth-service"]})),
            vec!["backends.0"]
        );
        assert_eq!(
            paths(json!({"backends": ["a", "b", "a"]})),
            vec!["backends.2"]
        );
        assert_eq!(paths(json!({"backends": ["Persona"]})), vec!["backends.0"]);
    }
}
