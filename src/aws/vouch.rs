//! Which recorded versions vouch for which bodies (see [`super::versions`]).

use crate::engine::Resolved;
use crate::spec::{DesiredGraph, Spec};

use super::Clients;

/// The body the object of `spec` holds when private state recorded
/// `version` for it and that version is this spec's (with `resolved`'s
/// ids): a task definition revision registered from a spec of this hash, a
/// dashboard found in sync with this body. `None` for any other kind, or a
/// version that says something else.
pub fn vouched_body(spec: &Spec, version: &str, resolved: &Resolved) -> Option<Spec> {
    match spec {
        Spec::TaskDefinition(s) => {
            let same = s.spec_hash(resolved).ok()? == version;
            same.then(|| s.as_registered(resolved).ok())
                .flatten()
                .map(Spec::TaskDefinition)
        }
        Spec::Dashboard(s) => {
            let body = s.with_ids(resolved);
            let hash = super::cloudwatch::dashboard::body_hash(&body.body);
            (super::cloudwatch::dashboard::body_of_version(version) == Some(hash.as_str()))
                .then_some(Spec::Dashboard(body))
        }
        _ => None,
    }
}

/// Vouch, in `clients`' versions, for every component of `graph` recorded
/// (`recorded`: component key to id) at a version that is its spec's.
pub fn vouch_for_graph(clients: &Clients, graph: &DesiredGraph, recorded: &Resolved) {
    for component in &graph.components {
        let Some(id) = recorded.get(&component.key) else {
            continue;
        };
        let Some(version) = clients.versions.recorded(id) else {
            continue;
        };
        if let Some(body) = vouched_body(&component.spec, version, recorded) {
            clients.versions.vouch(id, body);
        }
    }
}
