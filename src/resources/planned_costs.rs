//! What this provider process has planned that the budget guard counts:
//! each platform's budget as planned, each microservice's planned estimate.
//!
//! Terraform plans every resource of a configuration in one provider
//! process (one per provider configuration), a platform before the
//! microservices that reference it, and the microservices concurrently. A
//! plan adding three services is judged on all three: each microservice
//! writes its estimate here before it reads AWS, so the later ones count
//! the earlier ones, and the last counts them all. Keyed by region and
//! platform: one process may serve several provider configurations' worth
//! of platforms in tests.

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};

use crate::budget_guard::Budget;

#[derive(Default)]
struct PlatformPlans {
    /// `Some(None)`: the platform was planned without a budget.
    budget: Option<Option<Budget>>,
    services: BTreeMap<String, f64>,
}

type Key = (String, String);

fn plans() -> std::sync::MutexGuard<'static, BTreeMap<Key, PlatformPlans>> {
    static PLANS: OnceLock<Mutex<BTreeMap<Key, PlatformPlans>>> = OnceLock::new();
    PLANS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner())
}

fn key(region: &str, platform: &str) -> Key {
    (region.to_string(), platform.to_string())
}

/// Platform `platform` in `region` was planned with `budget`.
pub fn plan_budget(region: &str, platform: &str, budget: Option<Budget>) {
    plans().entry(key(region, platform)).or_default().budget = Some(budget);
}

/// The budget platform `platform` was planned with in this process;
/// `None` when it was not planned here (another state: ask AWS).
pub fn planned_budget(region: &str, platform: &str) -> Option<Option<Budget>> {
    plans()
        .get(&key(region, platform))
        .and_then(|p| p.budget.clone())
}

/// Whether platform `platform` was planned in this process, in every
/// region it was, without a budget: then a microservice plan on it has no
/// budget to look up (and need not look its platform up for one).
pub fn planned_without_budget(platform: &str) -> bool {
    let plans = plans();
    let mut planned = plans
        .iter()
        .filter(|((_, p), _)| p == platform)
        .map(|(_, plan)| &plan.budget)
        .peekable();
    planned.peek().is_some() && planned.all(|b| matches!(b, Some(None)))
}

/// Microservice `service` of `platform` was planned to cost `usd` a month.
pub fn plan_service(region: &str, platform: &str, service: &str, usd: f64) {
    plans()
        .entry(key(region, platform))
        .or_default()
        .services
        .insert(service.to_string(), usd);
}

/// The microservices of `platform` planned in this process, by name.
pub fn planned_services(region: &str, platform: &str) -> BTreeMap<String, f64> {
    plans()
        .get(&key(region, platform))
        .map(|p| p.services.clone())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::budget_guard::Mode;

    #[test]
    fn plans_are_kept_per_region_and_platform() {
        let budget = Budget {
            limit: 10.0,
            thresholds: vec![80.0],
            mode: Mode::Warn,
        };
        assert_eq!(planned_budget("xx-test-1", "p"), None);
        plan_budget("xx-test-1", "p", Some(budget.clone()));
        plan_budget("xx-test-2", "p", None);
        plan_service("xx-test-1", "p", "a", 1.5);
        plan_service("xx-test-1", "p", "a", 2.5);
        assert_eq!(planned_budget("xx-test-1", "p"), Some(Some(budget)));
        assert_eq!(planned_budget("xx-test-2", "p"), Some(None));
        assert_eq!(
            planned_services("xx-test-1", "p"),
            BTreeMap::from([("a".to_string(), 2.5)])
        );
        assert!(planned_services("xx-test-2", "p").is_empty());
        assert!(!planned_without_budget("p"), "one region has a budget");
        plan_budget("xx-test-3", "q", None);
        assert!(planned_without_budget("q"));
        assert!(!planned_without_budget("never-planned"));
    }
}
