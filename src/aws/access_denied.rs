//! An AWS refusal for lack of permission, as the user should read it: the
//! action, the resource, who was refused, and what to grant.
//!
//! AWS says it in one sentence inside the error ("User: ARN is not
//! authorized to perform: ACTION on resource: ARN because ..."), wrapped
//! by the call that failed; the user needs the action and the resource, not
//! the wrapping, and the remedy: the deployer policy the provider
//! generates (`data "matbakh_deployer_policy"`).

/// The error codes AWS answers a call the caller's policies do not allow
/// with (JSON services, query services, EC2).
const CODES: [&str; 4] = [
    "AccessDeniedException",
    "AccessDenied",
    "UnauthorizedOperation",
    "UnauthorizedAccess",
];

const NOT_AUTHORIZED: &str = "is not authorized to perform: ";
const ON_RESOURCE: &str = " on resource: ";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessDenied {
    /// The IAM action refused, e.g. `ecs:CreateService`.
    pub action: String,
    /// The resource it was refused on, when AWS named it.
    pub resource: Option<String>,
    /// Who was refused (the principal running Terraform), when AWS named it.
    pub principal: Option<String>,
}

impl AccessDenied {
    /// The refusal in an error's text (an `AwsError` as displayed: `CALL
    /// failed: CODE: MESSAGE`), if it is one.
    pub fn find(text: &str) -> Option<AccessDenied> {
        // Only an AWS error with a refusal code: the same sentence also
        // appears in what ECS reports of a task whose *execution role* may
        // not read a secret, which is no refusal of Terraform's credentials.
        let refused = CODES
            .iter()
            .any(|code| text.contains(&format!(" failed: {code}: ")));
        if !refused {
            return None;
        }
        if let Some(at) = text.find(NOT_AUTHORIZED) {
            let rest = &text[at + NOT_AUTHORIZED.len()..];
            let action = rest
                .split(|c: char| c.is_whitespace() || c == ',')
                .next()
                .unwrap_or("")
                .to_string();
            let resource = rest.find(ON_RESOURCE).map(|r| {
                rest[r + ON_RESOURCE.len()..]
                    .split(|c: char| c.is_whitespace() || c == ',')
                    .next()
                    .unwrap_or("")
                    .to_string()
            });
            let principal = text[..at]
                .rsplit("User: ")
                .next()
                .filter(|_| text[..at].contains("User: "))
                .map(|p| p.trim().to_string());
            return (!action.is_empty()).then_some(AccessDenied {
                action,
                resource: resource.filter(|r| !r.is_empty()),
                principal,
            });
        }
        // No sentence to read: the code says it, the call names the action
        // (the provider's calls are named by their IAM action).
        let (call, rest) = text.split_once(" failed: ")?;
        let code = rest.split(':').next()?.trim();
        if CODES.contains(&code) && call.contains(':') && !call.contains(' ') {
            return Some(AccessDenied {
                action: call.to_string(),
                resource: None,
                principal: None,
            });
        }
        None
    }

    /// One line for a diagnostic's summary.
    pub fn summary(&self) -> String {
        format!("access denied to {}", self.action)
    }

    /// What AWS refused (on `objects`, each "RESOURCE (component NAME)"
    /// or what the caller knows of it), and what to grant.
    pub fn detail(&self, objects: &[String]) -> String {
        let on = if objects.is_empty() {
            self.resource
                .clone()
                .unwrap_or_else(|| "its resource".into())
        } else {
            objects.join(", ")
        };
        let who = self
            .principal
            .as_deref()
            .map(|p| format!(" to {p}"))
            .unwrap_or_default();
        format!(
            "AWS refused {action} on {on}{who}: the credentials Terraform runs with may not call it. \
             They need every action the provider calls: give the principal the policy \
             `data \"matbakh_deployer_policy\"` generates for these platforms and regions \
             (docs/index.md, \"Permissions\"), or add {action} on that resource to its policy.",
            action = self.action
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JSON_SERVICE: &str = "ecs:CreateService failed: AccessDeniedException: User: \
        arn:aws:iam::123456789012:user/ci is not authorized to perform: ecs:CreateService on \
        resource: arn:aws:ecs:eu-central-1:123456789012:service/matbakh/auth because no \
        identity-based policy allows the ecs:CreateService action";

    #[test]
    fn a_refusal_names_the_action_the_resource_and_the_principal() {
        let found = AccessDenied::find(JSON_SERVICE).unwrap();
        assert_eq!(found.action, "ecs:CreateService");
        assert_eq!(
            found.resource.as_deref(),
            Some("arn:aws:ecs:eu-central-1:123456789012:service/matbakh/auth")
        );
        assert_eq!(
            found.principal.as_deref(),
            Some("arn:aws:iam::123456789012:user/ci")
        );
        let detail = found.detail(&[]);
        assert!(
            detail.contains("ecs:CreateService on arn:aws:ecs:"),
            "{detail}"
        );
        assert!(detail.contains("matbakh_deployer_policy"), "{detail}");
    }

    #[test]
    fn ec2_and_assumed_roles_and_bare_codes_are_refusals_too() {
        let ec2 = "ec2:CreateSecurityGroup failed: UnauthorizedOperation: You are not authorized \
            to perform this operation. User: arn:aws:sts::1:assumed-role/ci/s is not authorized \
            to perform: ec2:CreateSecurityGroup on resource: arn:aws:ec2:eu-central-1:1:vpc/vpc-1";
        let found = AccessDenied::find(ec2).unwrap();
        assert_eq!(found.action, "ec2:CreateSecurityGroup");
        assert_eq!(
            found.principal.as_deref(),
            Some("arn:aws:sts::1:assumed-role/ci/s")
        );
        let bare =
            AccessDenied::find("iam:CreateRole failed: AccessDenied: Access Denied").unwrap();
        assert_eq!(bare.action, "iam:CreateRole");
        assert_eq!(bare.resource, None);
    }

    #[test]
    fn other_errors_are_not_refusals() {
        assert_eq!(
            AccessDenied::find("ecs:CreateService failed: InvalidParameterException: bad"),
            None
        );
        assert_eq!(AccessDenied::find("timed out"), None);
        // A task's execution role refused a secret: the deployment's failure,
        // not the credentials'.
        assert_eq!(
            AccessDenied::find(
                "ECS deployment failed: ResourceInitializationError: unable to pull secrets: \
                 User: arn:aws:sts::1:assumed-role/hand-made-exec/t is not authorized to \
                 perform: secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:x"
            ),
            None
        );
    }
}
