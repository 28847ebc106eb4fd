//! The listener rules this provider process has planned, by platform: so
//! two microservices of one platform created in the same apply (neither on
//! the load balancer yet, so AWS shows neither) with one priority, or the
//! same paths and hosts, are a plan error naming both.
//!
//! Terraform plans every resource of a configuration in one provider
//! process and the microservices concurrently, in any order. Each plan
//! records its rule and reads the others' in one step under one lock, so
//! of two colliding services at least the one planned second sees the
//! first; its error names both, and one error fails the plan. A service
//! planned again (the apply re-plans) replaces its own entry. Keyed by
//! region and platform, as [`crate::resources::planned_costs`] is.

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};

use super::ingress::OtherRule;

type Key = (String, String);
type Planned = BTreeMap<Key, BTreeMap<String, OtherRule>>;

/// Record `rule` (its `service`'s) on platform `key` and return the rules
/// of the platform's other services planned so far.
fn record(planned: &mut Planned, key: Key, rule: OtherRule) -> Vec<OtherRule> {
    let services = planned.entry(key).or_default();
    let others = services
        .values()
        .filter(|o| o.service != rule.service)
        .cloned()
        .collect();
    services.insert(rule.service.clone(), rule);
    others
}

/// Record service `rule.service`'s rule on platform `platform` in `region`
/// as planned in this process; the other services' planned so far.
pub fn plan(region: &str, platform: &str, rule: OtherRule) -> Vec<OtherRule> {
    static PLANNED: OnceLock<Mutex<Planned>> = OnceLock::new();
    let mut planned = PLANNED
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    record(
        &mut planned,
        (region.to_string(), platform.to_string()),
        rule,
    )
}

/// The rules to judge a plan against: those on the listener, except where
/// this process planned the same service anew (its planned rule wins:
/// it replaces the one on the listener in this apply), and the planned
/// ones of services not on the listener yet.
pub fn merged(on_listener: Vec<OtherRule>, planned: Vec<OtherRule>) -> Vec<OtherRule> {
    let mut out: Vec<OtherRule> = on_listener
        .into_iter()
        .filter(|r| !planned.iter().any(|p| p.service == r.service))
        .collect();
    out.extend(planned);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(service: &str, priority: u32, path: &str) -> OtherRule {
        OtherRule {
            service: service.into(),
            priority,
            paths: vec![path.into()],
            hosts: vec![],
        }
    }

    fn key(platform: &str) -> Key {
        ("eu-central-1".into(), platform.into())
    }

    #[test]
    fn the_service_planned_second_sees_the_first_in_either_order() {
        for (first, second) in [("auth", "persona"), ("persona", "auth")] {
            let mut planned = Planned::new();
            assert!(record(&mut planned, key("matbakh"), rule(first, 10, "/a")).is_empty());
            let seen = record(&mut planned, key("matbakh"), rule(second, 10, "/b"));
            assert_eq!(seen, [rule(first, 10, "/a")]);
            // Each error names both services.
            let problems =
                super::super::ingress::collisions(second, 10, &["/b".into()], &[], &seen);
            assert_eq!(problems.len(), 1);
            assert!(problems[0].detail.contains(first) && problems[0].detail.contains(second));
        }
    }

    #[test]
    fn a_service_planned_again_replaces_itself_and_platforms_stay_apart() {
        let mut planned = Planned::new();
        record(&mut planned, key("matbakh"), rule("auth", 10, "/a"));
        assert!(record(&mut planned, key("matbakh"), rule("auth", 11, "/a")).is_empty());
        assert!(record(&mut planned, key("other"), rule("persona", 11, "/a")).is_empty());
        assert_eq!(
            record(&mut planned, key("matbakh"), rule("vc", 12, "/v")),
            [rule("auth", 11, "/a")]
        );
    }

    #[test]
    fn a_planned_rule_replaces_the_same_services_rule_on_the_listener() {
        let on_listener = vec![rule("auth", 10, "/a"), rule("vc", 12, "/v")];
        let planned = vec![rule("auth", 11, "/a"), rule("persona", 13, "/p")];
        assert_eq!(
            merged(on_listener, planned),
            [
                rule("vc", 12, "/v"),
                rule("auth", 11, "/a"),
                rule("persona", 13, "/p")
            ]
        );
    }
}
