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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::fake_endpoint::FakeEndpoint;

    #[test]
    fn versions_round_trip_through_private_state_for_recorded_objects_only() {
        let fake = FakeEndpoint::start(|_, _| (200, serde_json::json!({})));
        let recorded: VersionMap = [("td:1".to_string(), "h1".to_string())].into();
        let clients = fake.clients().with_versions(recorded);
        clients.versions.note("dash", "t h2".into());
        clients.versions.note("gone", "x".into());
        let components: Resolved = [
            ("task_definition".to_string(), "td:1".to_string()),
            ("dashboard".to_string(), "dash".to_string()),
        ]
        .into();
        let mut private = Value::Null;
        private.set("token", "t".into());
        let private = with_versions(private, &clients, &components);
        assert_eq!(private.get("token").as_str(), Some("t"));
        let back = recorded_versions(&private);
        assert_eq!(
            back,
            [
                ("dash".to_string(), "t h2".to_string()),
                ("td:1".to_string(), "h1".to_string())
            ]
            .into()
        );
        assert!(recorded_versions(&Value::Null).is_empty());
    }
}
