// Added in matbakh-tfplugin (fork of tf-provider 0.2.2): see lib.rs.

//! Every RPC handler runs inside [`guarded`]: a panic in one operation
//! becomes a gRPC error naming the operation, which Terraform reports as
//! that operation's error, instead of tearing down the connection (and with
//! it every other operation Terraform has in flight).

use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures::FutureExt;

/// Run one RPC handler; a panic becomes `Status::internal` naming `operation`.
pub async fn guarded<T, F>(operation: &'static str, handler: F) -> Result<T, tonic::Status>
where
    F: Future<Output = Result<T, tonic::Status>>,
{
    match AssertUnwindSafe(handler).catch_unwind().await {
        Ok(result) => result,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "(no message)".to_string());
            tracing::error!(operation, panic = what.as_str(), "operation panicked");
            Err(tonic::Status::internal(format!(
                "the provider failed in {operation} (a bug: it panicked: {what}). \
                 The provider keeps running; please report this with the log \
                 (TF_LOG_PROVIDER=DEBUG)."
            )))
        }
    }
}
pub use tonic::Status;
