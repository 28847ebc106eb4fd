//! The gRPC boundary: a panic in one operation fails that operation, not
//! the provider (issue #11 item 6).
//!
//! Our fork of the plugin crate (`vendor/matbakh-tfplugin`) runs every RPC
//! handler inside [`guarded`]: a panic becomes a gRPC `Internal` error that
//! names the operation, which Terraform shows as that operation's error;
//! the connection, the provider process and every other call in flight go
//! on. This needs `panic = "unwind"` (the default; keep it out of the
//! profiles).

pub use tf_provider::guard::guarded;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tf::value::Value;
    use tf_provider::guard::Status;

    /// A resource method that trusts a malformed AWS answer.
    async fn plan_with_a_malformed_answer(answer: Value) -> Result<Value, Status> {
        let arn = answer
            .get("serviceArn")
            .as_str()
            .expect("AWS always sends serviceArn");
        Ok(Value::str(arn))
    }

    #[tokio::test]
    async fn a_panicking_operation_fails_with_its_name_and_the_next_call_works() {
        let failed = guarded(
            "PlanResourceChange",
            plan_with_a_malformed_answer(Value::Null),
        )
        .await
        .unwrap_err();
        assert!(
            failed.message().contains("PlanResourceChange"),
            "{failed:?}"
        );
        assert!(
            failed.message().contains("AWS always sends serviceArn"),
            "{failed:?}"
        );
        let mut good = Value::Null;
        good.set("serviceArn", "arn:aws:ecs:x".into());
        let ok = guarded("PlanResourceChange", plan_with_a_malformed_answer(good))
            .await
            .unwrap();
        assert_eq!(ok, Value::str("arn:aws:ecs:x"));
    }
}
