//! The gRPC boundary: a panic in one operation fails that operation, not
//! the provider (issue #11 item 6).
//!
//! Our fork of the plugin crate (`vendor/matbakh-tfplugin`) runs every RPC
//! handler inside [`guarded`]: a panic becomes that operation's answer with
//! one error diagnostic naming the operation and the panic message (Terraform
//! shows it like any other error, under the resource it concerns); a read or
//! an apply hands back the state Terraform sent, so nothing drops out of the
//! state. The connection, the provider process and every other call in
//! flight go on. This needs `panic = "unwind"` (the default; keep it out of
//! the profiles).

pub use tf_provider::guard::guarded;

/// The environment variable that makes a debug build panic while validating
/// a `matbakh_platform` of the name it holds: how `tests/protocol.rs` proves,
/// through the real Terraform CLI, that a panic comes back as an error
/// diagnostic. Release builds do not read it.
pub const TEST_PANIC_ON_PLATFORM: &str = "MATBAKH_TEST_PANIC_ON_PLATFORM";

/// Panic when [`TEST_PANIC_ON_PLATFORM`] names `platform` (debug builds only).
pub fn test_panic_hook(platform: Option<&str>) {
    if cfg!(debug_assertions) {
        if let (Ok(wanted), Some(name)) = (std::env::var(TEST_PANIC_ON_PLATFORM), platform) {
            if wanted == name {
                panic!("test hook {TEST_PANIC_ON_PLATFORM}={name}: a deliberate panic");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tf::value::Value;
    use tf_provider::guard::{Response, Status};
    use tf_provider::Diagnostics;

    /// A resource method that trusts a malformed AWS answer.
    async fn plan_with_a_malformed_answer(answer: Value) -> Result<Response<Value>, Status> {
        let arn = answer
            .get("serviceArn")
            .as_str()
            .expect("AWS always sends serviceArn");
        Ok(Response::new(Value::str(arn)))
    }

    /// What a handler answers after a panic: here, its one error in words.
    fn the_error(diags: Diagnostics) -> Value {
        assert_eq!(diags.errors.len(), 1, "{:?}", diags.errors);
        assert!(diags.warnings.is_empty());
        let e = &diags.errors[0];
        Value::str(format!("{} | {}", e.summary, e.detail))
    }

    #[tokio::test]
    async fn a_panicking_operation_answers_with_an_error_naming_it_and_the_next_call_works() {
        let failed = guarded(
            "PlanResourceChange",
            the_error,
            plan_with_a_malformed_answer(Value::Null),
        )
        .await
        .expect("a panic is the operation's answer, not a gRPC error")
        .into_inner();
        let text = failed.as_str().unwrap();
        assert!(text.contains("PlanResourceChange"), "{text}");
        assert!(text.contains("panicked"), "{text}");
        assert!(text.contains("AWS always sends serviceArn"), "{text}");
        let mut good = Value::Null;
        good.set("serviceArn", "arn:aws:ecs:x".into());
        let ok = guarded(
            "PlanResourceChange",
            |_| panic!("no panic, so no fallback answer"),
            plan_with_a_malformed_answer(good),
        )
        .await
        .unwrap()
        .into_inner();
        assert_eq!(ok, Value::str("arn:aws:ecs:x"));
    }
}
