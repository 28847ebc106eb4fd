//! Every AWS call attempt at DEBUG: service, operation, HTTP status, AWS
//! request id, duration, attempt number, and the error code on failure.
//!
//! An SDK interceptor on every client (see `clients.rs`). It reads only the
//! operation's metadata and the response's status and headers: never the
//! request (which carries the signature and the session token) nor any body
//! (which may carry secret values). The line lands inside the span of the
//! resource operation that made the call (`crate::tf::logging::resource_span`),
//! so it carries `tf_resource_type` and `tf_resource_id`.

use std::time::Instant;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

#[derive(Debug)]
pub struct CallLog;

#[derive(Debug, Clone)]
struct AttemptStarted(Instant);

impl Storable for AttemptStarted {
    type Storer = StoreReplace<Self>;
}

impl Intercept for CallLog {
    fn name(&self) -> &'static str {
        "matbakh::CallLog"
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state()
            .store_put(AttemptStarted(Instant::now()));
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let (service, operation) = cfg
            .load::<Metadata>()
            .map(|m| (m.service().to_string(), m.name().to_string()))
            .unwrap_or_default();
        let attempt = cfg
            .load::<RequestAttempts>()
            .map(|a| a.attempts())
            .unwrap_or(1);
        let duration_ms = cfg
            .load::<AttemptStarted>()
            .map(|s| s.0.elapsed().as_millis() as u64)
            .unwrap_or(0);
        let response = context.response();
        let status = response.map(|r| r.status().as_u16()).unwrap_or(0);
        let header = |name: &str| {
            response
                .and_then(|r| r.headers().get(name))
                .map(str::to_string)
        };
        let request_id = header("x-amzn-RequestId")
            .or_else(|| header("x-amz-request-id"))
            .unwrap_or_default();
        let failed = match context.output_or_error() {
            Some(Ok(_)) => false,
            Some(Err(_)) | None => true,
        };
        if failed {
            let code = error_code(
                header("x-amzn-ErrorType").as_deref(),
                header("x-amzn-query-error").as_deref(),
                context
                    .output_or_error()
                    .and_then(|r| r.err())
                    .map(|e| format!("{e:?}"))
                    .as_deref(),
                response.is_none(),
            );
            tracing::debug!(
                target: "matbakh::aws",
                aws_service = service.as_str(),
                aws_operation = operation.as_str(),
                http_status = status,
                aws_request_id = request_id.as_str(),
                duration_ms,
                attempt,
                error_code = code.as_str(),
                "AWS call failed"
            );
        } else {
            tracing::debug!(
                target: "matbakh::aws",
                aws_service = service.as_str(),
                aws_operation = operation.as_str(),
                http_status = status,
                aws_request_id = request_id.as_str(),
                duration_ms,
                attempt,
                "AWS call"
            );
        }
        Ok(())
    }
}

/// The AWS error code of a failed attempt: from the JSON protocols'
/// `x-amzn-ErrorType` (`Code:uri` or `ns#Code`), the query/CBOR protocols'
/// `x-amzn-query-error` (`Code;Sender`), else the `code` the SDK parsed
/// (its error metadata, found in the error's Debug form: only the code is
/// taken from it, nothing else), else what kind of failure it was.
fn error_code(
    error_type: Option<&str>,
    query_error: Option<&str>,
    debug: Option<&str>,
    no_response: bool,
) -> String {
    if let Some(t) = error_type {
        let t = t.split(':').next().unwrap_or(t);
        return t.rsplit('#').next().unwrap_or(t).to_string();
    }
    if let Some(q) = query_error {
        return q.split(';').next().unwrap_or(q).to_string();
    }
    if let Some(d) = debug {
        if let Some(i) = d.find("code: Some(\"") {
            let rest = &d[i + "code: Some(\"".len()..];
            if let Some(end) = rest.find('"') {
                return rest[..end].to_string();
            }
        }
    }
    if no_response {
        "NoResponse".into()
    } else {
        "Unknown".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_from_every_protocol() {
        assert_eq!(
            error_code(Some("ThrottlingException"), None, None, false),
            "ThrottlingException"
        );
        assert_eq!(
            error_code(
                Some("com.amazonaws.ecs#ServerException:http://x"),
                None,
                None,
                false
            ),
            "ServerException"
        );
        assert_eq!(
            error_code(None, Some("LimitExceeded;Sender"), None, false),
            "LimitExceeded"
        );
        assert_eq!(
            error_code(
                None,
                None,
                Some("ServiceError { meta: ErrorMetadata { code: Some(\"Throttling\"), message: Some(\"x\") } }"),
                false
            ),
            "Throttling"
        );
        assert_eq!(
            error_code(None, None, Some("DispatchFailure"), true),
            "NoResponse"
        );
    }
}
