//! IAM is eventually consistent: a role just made (or a policy just
//! changed) may not yet be visible to ECS, which then refuses the request
//! naming it. Such a refusal is retried, with backoff, until the
//! resource's deadline (its `timeouts`), as terraform-provider-aws retries
//! ECS calls that name a new role for its "propagation timeout".

use std::time::Duration;

use crate::engine::pause;

/// Whether ECS refused a request because a role it names is not (yet)
/// usable: `ClientException: Role is not valid` (RegisterTaskDefinition)
/// and `InvalidParameterException: Unable to assume role` (CreateService
/// and UpdateService with a role ECS assumes itself).
pub fn role_not_yet_usable(code: Option<&str>, message: Option<&str>) -> bool {
    let message = message.unwrap_or("").to_ascii_lowercase();
    matches!(code, Some("ClientException" | "InvalidParameterException"))
        && (message.contains("role is not valid")
            || message.contains("unable to assume role")
            || message.contains("unable to assume the role"))
}

/// Wait before attempt `attempt + 1`: 500 ms doubling to 8 s. `Err` when
/// the deadline passed (or Terraform asked to stop): give up with the
/// refusal.
pub async fn wait(attempt: u32) -> Result<(), crate::engine::DeadlineExceeded> {
    let backoff = Duration::from_millis(500) * 2u32.saturating_pow(attempt.min(4));
    pause(backoff).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_refusals_about_a_role_are_retried() {
        assert!(role_not_yet_usable(
            Some("ClientException"),
            Some("Role is not valid")
        ));
        assert!(role_not_yet_usable(
            Some("InvalidParameterException"),
            Some("Unable to assume role and validate the specified targetGroupArn")
        ));
        assert!(!role_not_yet_usable(
            Some("ClientException"),
            Some("Too many containers")
        ));
        assert!(!role_not_yet_usable(None, Some("Role is not valid")));
    }
}
