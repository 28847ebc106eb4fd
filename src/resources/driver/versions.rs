//! The versions of objects whose body a refresh need not read again (see
//! `aws::versions`), kept in private state under `versions`: object id to
//! version, for the objects the resource records.

use crate::aws::versions::VersionMap;
use crate::aws::Clients;
use crate::engine::Resolved;
use crate::tf::value::Value;

/// The versions `private` recorded.
pub(super) fn recorded_versions(private: &Value) -> VersionMap {
    match private.get("versions") {
        Value::Map(m) => m
            .iter()
            .filter_map(|(id, v)| Some((id.clone(), v.as_str()?.to_string())))
            .collect(),
        _ => VersionMap::new(),
    }
}

/// `private` with the versions of the objects `components` records: what
/// this operation saw or wrote, else what was recorded before.
pub(super) fn with_versions(mut private: Value, clients: &Clients, components: &Resolved) -> Value {
    let versions = clients.versions.to_record(components.values());
    if versions.is_empty() {
        return private;
    }
    private.set(
        "versions",
        Value::Map(
            versions
                .into_iter()
                .map(|(id, v)| (id, Value::String(v)))
                .collect(),
        ),
    );
    private
}
