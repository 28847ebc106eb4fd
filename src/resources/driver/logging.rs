//! The span each operation runs in and the progress it logs.

use crate::engine::Progress;
use crate::tf::value::Value;

/// The span every operation of a resource runs in: its type and id on
/// every line it logs (the field names the AWS-call logging uses too).
pub(super) fn span(type_name: &str, id: &str, operation: &str) -> tracing::Span {
    tracing::info_span!(
        "tf_resource",
        tf_resource_type = type_name,
        tf_resource_id = id,
        tf_operation = operation
    )
}

/// The id of a state for the span: its `id`, else what there is.
pub(super) fn span_id(state: &Value) -> String {
    match state.get("id") {
        Value::String(s) => s.clone(),
        _ => state.get("name").as_str().unwrap_or("").to_string(),
    }
}

pub(super) fn log_progress(type_name: &str, id: &str, progress: &Progress) {
    let (tf_resource_type, tf_resource_id) = (type_name, id);
    match progress {
        Progress::Created(k) => {
            tracing::info!(
                tf_resource_type,
                tf_resource_id,
                component = k.as_str(),
                "created"
            )
        }
        Progress::Updated(k, why) => tracing::info!(
            tf_resource_type,
            tf_resource_id,
            component = k.as_str(),
            changes = why.join("; ").as_str(),
            "updated"
        ),
        Progress::Unchanged(k) => {
            tracing::debug!(
                tf_resource_type,
                tf_resource_id,
                component = k.as_str(),
                "unchanged"
            )
        }
        Progress::Deleted(k) => {
            tracing::info!(
                tf_resource_type,
                tf_resource_id,
                component = k.as_str(),
                "deleted"
            )
        }
    }
}
