//! AWS errors as users should read them: which call, what AWS said.

use std::fmt;

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

#[derive(Debug, Clone)]
pub struct AwsError {
    /// The API call, e.g. "appmesh:CreateRoute".
    pub call: String,
    /// The AWS error code, e.g. "NotFoundException", when AWS sent one.
    pub code: Option<String>,
    pub message: String,
}

impl AwsError {
    pub fn new(call: impl Into<String>, message: impl Into<String>) -> Self {
        AwsError {
            call: call.into(),
            code: None,
            message: message.into(),
        }
    }

    /// Wrap an SDK error from `call`.
    pub fn sdk<E, R>(call: &str, err: SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: fmt::Debug,
    {
        let code = err.code().map(str::to_string);
        let message = match (&err, err.message()) {
            (_, Some(m)) => m.to_string(),
            (SdkError::ServiceError(_), None) => "no message".to_string(),
            (other, None) => {
                // Transport and timeout errors: the chain says what happened.
                let mut text = other.to_string();
                let mut source = std::error::Error::source(other);
                while let Some(s) = source {
                    text.push_str(": ");
                    text.push_str(&s.to_string());
                    source = s.source();
                }
                text
            }
        };
        AwsError {
            call: call.to_string(),
            code,
            message,
        }
    }

    /// True when AWS says the object does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(
            self.code.as_deref(),
            Some(
                "NotFoundException"
                    | "ResourceNotFoundException"
                    | "ServiceNotFoundException"
                    | "NamespaceNotFound"
                    | "ServiceNotFound"
                    | "ClusterNotFoundException"
                    | "ObjectNotFoundException"
                    | "ResourceNotFound"
                    | "LoadBalancerNotFound"
                    | "ListenerNotFound"
                    | "TargetGroupNotFound"
                    | "RuleNotFound"
                    | "InvalidGroup.NotFound"
                    | "NoSuchEntity"
            )
        )
    }

    /// True when AWS says the object already exists.
    pub fn is_conflict(&self) -> bool {
        matches!(
            self.code.as_deref(),
            Some(
                "ConflictException"
                    | "ResourceAlreadyExistsException"
                    | "NamespaceAlreadyExists"
                    | "ServiceAlreadyExists"
                    | "InvalidParameterException"
            )
        )
    }
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            Some(code) => write!(f, "{} failed: {}: {}", self.call, code, self.message),
            None => write!(f, "{} failed: {}", self.call, self.message),
        }
    }
}

impl std::error::Error for AwsError {}

impl AwsError {
    /// A request we could not even build (a required field missing): a bug
    /// in the expansion, reported instead of panicking.
    pub fn build(call: &str, err: aws_smithy_types::error::operation::BuildError) -> Self {
        AwsError::new(call, format!("invalid request: {err}"))
    }
}
