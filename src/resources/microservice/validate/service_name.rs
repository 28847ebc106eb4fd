//! The microservice's name, which becomes a Cloud Map service name and so
//! a DNS label; backends are named by the same rules.

use super::super::names::MAX_NAME_LEN;
use super::validator::Validator;
use crate::resources::microservice::config::MicroserviceConfig;

impl Validator {
    pub(super) fn name(&mut self, c: &MicroserviceConfig) {
        if let Some(name) = &c.name {
            if let Err(why) = check_service_name(name) {
                self.error("name", "Invalid microservice name", why);
            }
        }
    }
}

/// A microservice (or backend) name: a DNS label, since it becomes the
/// Cloud Map service name, at most [`MAX_NAME_LEN`] long.
pub fn check_service_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("the name is empty".into());
    }
    if name.len() > MAX_NAME_LEN {
        return Err(format!("{name:?} has {} characters; at most {MAX_NAME_LEN} (it becomes a DNS label, also with a -canary suffix)", name.len()));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(format!("{name:?} may contain only lowercase letters, digits and hyphens (it becomes a DNS name)"));
    }
    if name.starts_with('-') || name.ends_with('-') {
        return Err(format!(
            "{name:?} must start and end with a letter or digit"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::test_fixtures::*;
    use serde_json::json;

    #[test]
    fn name_rules() {
        for bad in [
            "",
            "Auth",
            "auth_service",
            "-auth",
            "auth-",
            "auth.service",
            &"a".repeat(57),
        ] {
            assert_eq!(paths(json!({"name": bad})), vec!["name"], "{bad:?}");
        }
        assert!(paths(json!({"name": "a".repeat(56)})).is_empty());
        assert!(paths(json!({"name": "9lives"})).is_empty());
    }
}
