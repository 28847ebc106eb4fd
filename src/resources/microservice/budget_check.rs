//! The budget guard of a microservice plan: gathers what
//! [`crate::budget_guard::judge`] needs (the platform's budget, the other
//! services' estimates) from the plans of this provider process and from
//! AWS, and judges the planned estimate.

use crate::aws::budgets::find_budget;
use crate::aws::ecs::estimates::service_estimates;
use crate::budget_guard::{judge, Budget, Change, Mode, Verdict};
use crate::resources::context::Configured;
use crate::resources::planned_costs;
use crate::resources::platform::budget::budget_name;

use super::config::Settings;
use super::expand::PlatformContext;

/// The platform's budget: as planned in this process, else as AWS has it
/// (a platform in another state); `None` without one.
async fn budget_of(
    configured: &Configured,
    platform: &PlatformContext,
) -> Result<Option<Budget>, String> {
    if let Some(planned) = planned_costs::planned_budget(&platform.region, &platform.platform_id) {
        return Ok(planned);
    }
    let name = budget_name(&platform.platform_id, &platform.region);
    let found = find_budget(&configured.clients, &name)
        .await
        .map_err(|e| e.to_string())?;
    Ok(found.map(|b| Budget {
        limit: b.limit,
        thresholds: b.thresholds,
        mode: Mode::parse(b.plan_guard.as_deref().unwrap_or("")),
    }))
}

/// The guard's verdict on `settings`, planned on `platform`; none when it
/// has nothing to say. What it cannot read is a warning: the guard never
/// fails a plan on a failed look.
pub async fn check(
    configured: &Configured,
    settings: &Settings,
    platform: &PlatformContext,
) -> Option<Verdict> {
    let (region, id) = (&platform.region, &platform.platform_id);
    let after = crate::cost::estimated_monthly_cost(&settings.workload(), region);
    // Written before the reads below, so that a concurrent plan of another
    // service of this platform counts this one.
    planned_costs::plan_service(region, id, &settings.name, after);
    let cannot = |e: String| Verdict {
        error: false,
        summary: format!("Budget guard: cannot judge {}'s plan", settings.name),
        detail: format!("The platform's budget or its services' estimates could not be read: {e}"),
    };
    let budget = match budget_of(configured, platform).await {
        Ok(Some(b)) if b.mode != Mode::Off => b,
        Ok(_) => return None,
        Err(e) => return Some(cannot(e)),
    };
    let mut others = match service_estimates(&configured.clients, &platform.cluster_name).await {
        Ok(found) => found,
        Err(e) => return Some(cannot(e.to_string())),
    };
    let before = others.remove(&settings.name).unwrap_or(0.0);
    others.extend(planned_costs::planned_services(region, id));
    others.remove(&settings.name);
    let change = Change {
        service: settings.name.clone(),
        before,
        after,
    };
    judge(id, &budget, &change, &others)
}
