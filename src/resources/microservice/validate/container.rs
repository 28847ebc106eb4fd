//! The app container's image and port.

use super::validator::Validator;
use crate::resources::microservice::config::MicroserviceConfig;

/// Ports Envoy itself listens on inside the task (ingress, egress, admin).
pub const ENVOY_RESERVED_PORTS: [i64; 3] = [15000, 15001, 9901];

impl Validator {
    pub(super) fn image(&mut self, c: &MicroserviceConfig) {
        if let Some(image) = &c.image {
            if image.is_empty() {
                self.error("image", "Empty image", "image must name a container image, e.g. \"123456789012.dkr.ecr.eu-central-1.amazonaws.com/auth:1.4.2\"");
            } else if image.chars().any(char::is_whitespace) {
                self.error(
                    "image",
                    "Invalid image",
                    format!("image {image:?} contains whitespace"),
                );
            } else if image.len() > 255 {
                self.error(
                    "image",
                    "Invalid image",
                    "an image reference has at most 255 characters",
                );
            }
        }
    }

    pub(super) fn port(&mut self, c: &MicroserviceConfig) {
        if let Some(port) = c.port {
            if !(1..=65535).contains(&port) {
                self.error(
                    "port",
                    "Invalid port",
                    format!("port {port} is not between 1 and 65535"),
                );
            } else if ENVOY_RESERVED_PORTS.contains(&port) {
                self.error(
                    "port",
                    "Port reserved by Envoy",
                    format!("port {port} is used by the Envoy sidecar (15000 ingress, 15001 egress, 9901 admin); choose another"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_fixtures::*;
    use serde_json::json;

    #[test]
    fn image_rules() {
        assert_eq!(paths(json!({"image": ""})), vec!["image"]);
        assert_eq!(paths(json!({"image": "nginx latest"})), vec!["image"]);
    }

    #[test]
    fn port_rules() {
        for bad in [0, 65536, 15000, 15001, 9901] {
            assert_eq!(paths(json!({"port": bad})), vec!["port"], "{bad}");
        }
    }
}
