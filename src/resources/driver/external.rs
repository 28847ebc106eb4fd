//! Components a graph refers to that another resource owns (a canary's
//! candidate registers in its microservice's Cloud Map service). The engine
//! needs their ids to resolve references, but the resource never records,
//! creates, updates or deletes them: they go in with the resource's own ids
//! and come out of every result.

use crate::engine::Resolved;

use super::observations::Sorted;

/// The ids the engine resolves against: the resource's own, plus the
/// external ones (which win: the owner's id is the one that exists).
pub fn with_external(own: &Resolved, external: &Resolved) -> Resolved {
    let mut all = own.clone();
    all.extend(external.iter().map(|(k, v)| (k.clone(), v.clone())));
    all
}

/// `recorded` without the components of `external` keys.
pub fn drop_external(recorded: &mut Resolved, external: &[&str]) {
    for key in external {
        recorded.remove(*key);
    }
}

impl Sorted {
    /// What a read found, without the components of `external` keys: the
    /// owner reports their drift, not this resource.
    pub fn without_external(mut self, external: &[&str]) -> Sorted {
        drop_external(&mut self.existing, external);
        drop_external(&mut self.stale, external);
        for key in external {
            self.drift.remove(*key);
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolved(pairs: &[(&str, &str)]) -> Resolved {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_engine_sees_own_and_external_ids_and_the_owner_wins() {
        let own = resolved(&[("service", "own-svc"), ("discovery", "stale-copy")]);
        let external = resolved(&[("discovery", "srv-1")]);
        assert_eq!(
            with_external(&own, &external),
            resolved(&[("service", "own-svc"), ("discovery", "srv-1")])
        );
    }

    #[test]
    fn an_external_component_is_never_recorded_as_own() {
        let mut recorded = resolved(&[("service", "own-svc"), ("discovery", "srv-1")]);
        drop_external(&mut recorded, &["discovery"]);
        assert_eq!(recorded, resolved(&[("service", "own-svc")]));
    }

    #[test]
    fn a_read_reports_nothing_of_external_components() {
        let mut sorted = Sorted {
            existing: resolved(&[("service", "own-svc"), ("discovery", "srv-1")]),
            stale: resolved(&[("discovery", "srv-1"), ("alarm", "a")]),
            ..Sorted::default()
        };
        sorted.drift.insert(
            "discovery".into(),
            "it was deleted outside Terraform".into(),
        );
        sorted.drift.insert("alarm".into(), "threshold".into());
        let own = sorted.without_external(&["discovery"]);
        assert_eq!(own.existing, resolved(&[("service", "own-svc")]));
        assert_eq!(own.stale, resolved(&[("alarm", "a")]));
        assert_eq!(own.drift.keys().collect::<Vec<_>>(), vec!["alarm"]);
    }
}
