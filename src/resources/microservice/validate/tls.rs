//! Mutual TLS: the ACM Private CAs the service trusts.

use super::aws_ids::is_acm_pca_arn;
use super::validator::Validator;
use crate::resources::microservice::config::MicroserviceConfig;

impl Validator {
    pub(super) fn tls(&mut self, c: &MicroserviceConfig) {
        let Some(tls) = &c.tls else { return };
        if let Some(list) = &tls.certificate_authority_arns {
            if list.is_empty() {
                self.error(
                    "tls.0.certificate_authority_arns",
                    "No certificate authorities",
                    "tls needs at least one ACM Private CA ARN",
                );
            }
            if list.len() > 3 {
                self.error(
                    "tls.0.certificate_authority_arns",
                    "Too many certificate authorities",
                    "App Mesh trusts at most 3 ACM Private CAs",
                );
            }
            for (i, arn) in list.iter().enumerate() {
                if let Some(arn) = arn {
                    if !is_acm_pca_arn(arn) {
                        self.error(&format!("tls.0.certificate_authority_arns.{i}"), "Invalid certificate authority ARN", format!("{arn:?} is not an ACM Private CA ARN (arn:aws:acm-pca:REGION:ACCOUNT:certificate-authority/ID)"));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_fixtures::*;
    use serde_json::json;

    #[test]
    fn tls_rules() {
        assert_eq!(
            paths(json!({"tls": [{"certificate_authority_arns": []}]})),
            vec!["tls.0.certificate_authority_arns"]
        );
        assert_eq!(
            paths(
                json!({"tls": [{"certificate_authority_arns": ["arn:aws:acm:eu-central-1:123456789012:certificate/abc"]}]})
            ),
            vec!["tls.0.certificate_authority_arns.0"]
        );
    }
}
