//! Credentials, checked once at ConfigureProvider: an `assume_role` on top
//! of the standard chain, STS GetCallerIdentity to prove they work, and
//! `allowed_account_ids`. Without this, missing credentials surfaced at
//! apply, once per component, as an SDK message about IMDS.

use aws_config::sts::AssumeRoleProvider;
use aws_config::SdkConfig;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_smithy_types::error::display::DisplayErrorContext;

use super::call_log::CallLog;

/// The provider block's `assume_role`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AssumeRole {
    pub role_arn: String,
    pub session_name: Option<String>,
    pub external_id: Option<String>,
}

/// `shared` with its credentials replaced by those of `role`, assumed with
/// the chain's own credentials through STS at `sts_endpoint`.
pub async fn assume(shared: SdkConfig, role: &AssumeRole, sts_endpoint: Option<&str>) -> SdkConfig {
    let mut for_sts = shared.to_builder();
    if let Some(url) = sts_endpoint {
        for_sts = for_sts.endpoint_url(url);
    }
    let mut builder = AssumeRoleProvider::builder(role.role_arn.clone())
        .session_name(
            role.session_name
                .clone()
                .unwrap_or_else(|| "terraform-provider-matbakh".to_string()),
        )
        .configure(&for_sts.build());
    if let Some(id) = &role.external_id {
        builder = builder.external_id(id.clone());
    }
    let provider = builder.build().await;
    shared
        .into_builder()
        .credentials_provider(SharedCredentialsProvider::new(provider))
        .build()
}

/// What STS says the credentials belong to.
#[derive(Clone, Debug, PartialEq)]
pub struct CallerIdentity {
    pub account: String,
    pub arn: String,
}

/// Resolve the credentials once and ask STS whose they are; refuse an
/// account `allowed_account_ids` does not list.
pub async fn check(
    shared: &SdkConfig,
    profile: Option<&str>,
    sts_endpoint: Option<&str>,
    allowed_account_ids: &[String],
) -> Result<CallerIdentity, String> {
    let Some(provider) = shared.credentials_provider() else {
        return Err(no_credentials(profile));
    };
    match provider.provide_credentials().await {
        Ok(_) => {}
        Err(CredentialsError::CredentialsNotLoaded(_)) => return Err(no_credentials(profile)),
        Err(e) => {
            return Err(format!(
                "The AWS credentials could not be loaded: {}",
                DisplayErrorContext(&e)
            ))
        }
    }
    let mut config = aws_sdk_sts::config::Builder::from(shared).interceptor(CallLog);
    if let Some(url) = sts_endpoint {
        config = config.endpoint_url(url);
    }
    let sts = aws_sdk_sts::Client::from_conf(config.build());
    let me = sts.get_caller_identity().send().await.map_err(|e| {
        format!(
            "The AWS credentials were found but STS GetCallerIdentity refused them: {}. \
             Check that they are current (not expired) and for this partition, or set \
             skip_credentials_validation = true for an endpoint without STS.",
            DisplayErrorContext(&e)
        )
    })?;
    let identity = CallerIdentity {
        account: me.account().unwrap_or_default().to_string(),
        arn: me.arn().unwrap_or_default().to_string(),
    };
    tracing::info!(
        account = identity.account.as_str(),
        arn = identity.arn.as_str(),
        "AWS credentials checked"
    );
    if !allowed_account_ids.is_empty() && !allowed_account_ids.contains(&identity.account) {
        return Err(format!(
            "The AWS credentials belong to account {} ({}), which allowed_account_ids ({}) does not list. \
             Use credentials for one of those accounts, or add {} to allowed_account_ids.",
            identity.account,
            identity.arn,
            allowed_account_ids.join(", "),
            identity.account
        ));
    }
    Ok(identity)
}

/// One error for "no credentials anywhere": where the chain looked, and how
/// to fix it.
pub fn no_credentials(profile: Option<&str>) -> String {
    let profile = profile
        .map(str::to_string)
        .or_else(|| std::env::var("AWS_PROFILE").ok())
        .unwrap_or_else(|| "default".to_string());
    format!(
        "No AWS credentials found. The provider looked, in this order, at:\n\
         \x20 1. environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (with AWS_SESSION_TOKEN for temporary credentials);\n\
         \x20 2. the shared config and credentials files (~/.aws/config, ~/.aws/credentials), profile {profile:?} (SSO, credential_process, role_arn included);\n\
         \x20 3. web identity (AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN, as on EKS);\n\
         \x20 4. the ECS container credentials endpoint (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI);\n\
         \x20 5. the EC2 instance metadata service (IMDS).\n\
         To fix it: export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run `aws configure` \
         (or `aws sso login --profile NAME`) and set `profile` in the provider block, or run \
         where a role is attached. skip_credentials_validation = true skips this check, but \
         applying still needs credentials."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_no_credentials_error_names_every_source_and_the_fix() {
        let e = no_credentials(Some("ci"));
        for needle in [
            "AWS_ACCESS_KEY_ID",
            "\"ci\"",
            "web identity",
            "ECS container",
            "IMDS",
            "aws configure",
            "skip_credentials_validation",
        ] {
            assert!(e.contains(needle), "{needle}: {e}");
        }
    }
}
