// Added in matbakh-tfplugin (fork of tf-provider 0.2.2): see lib.rs.

//! Every RPC handler runs inside [`guarded`]: a panic in one operation
//! becomes that operation's *answer*, with an error diagnostic naming the
//! operation and the panic message, instead of tearing down the connection
//! (and with it every other operation Terraform has in flight).
//!
//! An answer, not a gRPC error: Terraform shows a gRPC error as a bare
//! "rpc error: code = Internal", and for ApplyResourceChange and
//! ReadResource it then has no state to keep. Each handler says what its
//! answer is after a panic (`on_panic`): ReadResource and
//! ApplyResourceChange hand back the state Terraform sent, so the resource
//! stays recorded as it was; everything else returns just the diagnostic.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures::FutureExt;

use crate::diagnostics::Diagnostics;

/// Run one RPC handler. A panic becomes `on_panic(diagnostics)`, the
/// diagnostics holding one error that names `operation` and what panicked.
pub async fn guarded<T, F>(
    operation: &'static str,
    on_panic: impl FnOnce(Diagnostics) -> T,
    handler: F,
) -> Result<tonic::Response<T>, tonic::Status>
where
    F: Future<Output = Result<tonic::Response<T>, tonic::Status>>,
{
    match AssertUnwindSafe(handler).catch_unwind().await {
        Ok(result) => result,
        Err(payload) => {
            let what = panic_message(payload.as_ref());
            tracing::error!(operation, panic = what.as_str(), "operation panicked");
            Ok(tonic::Response::new(on_panic(panic_diagnostics(
                operation, &what,
            ))))
        }
    }
}

/// The one error diagnostic a panic in `operation` is reported with.
pub fn panic_diagnostics(operation: &str, what: &str) -> Diagnostics {
    let mut diags = Diagnostics::default();
    diags.root_error(
        format!("The provider failed in {operation}: it panicked"),
        format!(
            "{what}\n\nThis is a bug in the provider. The provider keeps running and nothing \
             else was affected; please report this with the log (TF_LOG_PROVIDER=DEBUG)."
        ),
    );
    diags
}

/// The message a panic carried (`panic!("...")` gives a `&str` or a `String`).
fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".to_string())
}

pub use tonic::{Response, Status};
