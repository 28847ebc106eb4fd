//! The candidate slot of a canary, as a pure function of the stable
//! service's settings, the platform and the canary's settings.
//!
//! The candidate is the stable service with the candidate's image: the same
//! builders make its task definition, ECS service and virtual node, under the
//! `NAME-canary` slot. It joins the stable service's Cloud Map service (its
//! tasks register there with `ECS_SERVICE_NAME=NAME-canary`, which is what
//! its virtual node selects), so the one external reference of the graph is
//! the microservice's `discovery_service`, handed to the engine beside the
//! canary's own ids (see [`EXTERNAL`]); on service_connect behind the load
//! balancer, the canary's alarms name the microservice's target groups.
//!
//! ```text
//! candidate_virtual_node ─► candidate_task_definition ─► candidate_service
//! alarm_error_rate, alarm_p95_latency, alarm_no_traffic: independent
//! ```

use crate::resources::microservice::config::{Alarms, Settings};
use crate::resources::microservice::expand::{self as stable, PlatformContext, Slot};
use crate::resources::microservice::names;
use crate::spec::appmesh::{RouteSpec, WeightedTargetSpec};
use crate::spec::{Component, DesiredGraph, Spec, Tags, OWNER_TAG};

use super::config::CanarySettings;

pub mod keys {
    pub const CANDIDATE_VIRTUAL_NODE: &str = "candidate_virtual_node";
    pub const CANDIDATE_TASK_DEFINITION: &str = "candidate_task_definition";
    pub const CANDIDATE_SERVICE: &str = "candidate_service";
    pub const ALARM_ERROR_RATE: &str = "alarm_error_rate";
    pub const ALARM_P95_LATENCY: &str = "alarm_p95_latency";
    pub const ALARM_NO_TRAFFIC: &str = "alarm_no_traffic";
}

/// Keys of the microservice's components the candidate graph refers to.
/// They are resolved, never created or deleted, by the canary.
pub const EXTERNAL: [&str; 3] = [
    stable::keys::DISCOVERY_SERVICE,
    crate::resources::microservice::ingress_components::keys::TARGET_GROUP_BLUE,
    crate::resources::microservice::ingress_components::keys::TARGET_GROUP_GREEN,
];

/// The canary's resource id and owner tag: `PLATFORM/NAME-canary`.
pub fn canary_id(canary: &CanarySettings) -> String {
    names::resource_id(&canary.platform, &names::canary_slot(&canary.service))
}

/// The candidate's settings: the stable ones with the candidate's image, its
/// own fixed task count (autoscaling stays with the stable service), and,
/// once rolled back, no tasks at all.
pub fn candidate_settings(
    stable: &Settings,
    canary: &CanarySettings,
    scaled_to_zero: bool,
) -> Settings {
    let mut s = stable.clone();
    s.image = canary.image.clone();
    s.autoscaling = None;
    if scaled_to_zero {
        s.desired_count = 0;
        // Nothing to wait for: no task will start.
        s.wait_for_steady_state = false;
    } else {
        // The walk starts only once the candidate is healthy.
        s.wait_for_steady_state = true;
    }
    s
}

/// The candidate slot and its two alarms.
pub fn expand(
    stable: &Settings,
    platform: &PlatformContext,
    canary: &CanarySettings,
    scaled_to_zero: bool,
) -> DesiredGraph {
    use keys::*;
    let mut tags: Tags = crate::resources::tags::tags_all(&platform.tags, &canary.tags);
    tags.insert(OWNER_TAG.to_string(), canary_id(canary));
    let settings = candidate_settings(stable, canary, scaled_to_zero);
    let slot = Slot::canary(stable, &canary.image);
    debug_assert_eq!(slot.virtual_node_key, CANDIDATE_VIRTUAL_NODE);
    debug_assert_eq!(slot.task_definition_key, CANDIDATE_TASK_DEFINITION);
    debug_assert_eq!(slot.service_key, CANDIDATE_SERVICE);

    let mut graph = DesiredGraph::default();
    graph.push(Component::new(
        CANDIDATE_VIRTUAL_NODE,
        Spec::VirtualNode(stable::virtual_node(&settings, platform, &slot, &tags)),
    ));
    graph.push(
        Component::new(
            CANDIDATE_TASK_DEFINITION,
            Spec::TaskDefinition(stable::task_definition(&settings, platform, &slot, &tags)),
        )
        .after(&[CANDIDATE_VIRTUAL_NODE]),
    );
    graph.push(
        Component::new(
            CANDIDATE_SERVICE,
            Spec::EcsService(stable::ecs_service(&settings, platform, &slot, &tags)),
        )
        .after(&[CANDIDATE_TASK_DEFINITION]),
    );
    // The stable alarm builders, pointed at the candidate's metrics (its
    // ServiceName dimension is the slot name) with the canary's thresholds.
    let mut alarm_settings = settings.clone();
    alarm_settings.name = slot.name.clone();
    alarm_settings.alarms = Alarms {
        error_rate_percent: canary.error_rate_percent,
        p95_latency_ms: canary.p95_latency_ms,
        actions: stable.alarms.actions.clone(),
    };
    let [error_rate, p95, _cpu] = stable::alarms(&alarm_settings, platform, &tags);
    graph.push(Component::new(
        ALARM_ERROR_RATE,
        Spec::MetricAlarm(error_rate),
    ));
    graph.push(Component::new(ALARM_P95_LATENCY, Spec::MetricAlarm(p95)));
    graph.push(Component::new(
        ALARM_NO_TRAFFIC,
        Spec::MetricAlarm(super::silence::no_traffic_alarm(
            &alarm_settings,
            platform,
            &tags,
        )),
    ));
    graph
}

/// The names of the two alarms the walk watches.
pub fn alarm_names(graph: &DesiredGraph) -> Vec<String> {
    graph
        .components
        .iter()
        .filter_map(|c| match &c.spec {
            Spec::MetricAlarm(a) => Some(a.name.clone()),
            _ => None,
        })
        .collect()
}

/// The microservice's route, which the canary's weights go on.
pub fn route(stable: &Settings, platform: &PlatformContext) -> RouteSpec {
    let tags = stable::owner_tags(stable, platform);
    stable::route(stable, platform, targets(stable, 0), &tags)
}

/// The route's targets with `weight` percent on the candidate. At zero the
/// candidate is not on the route at all: the route is the microservice's own
/// again.
pub fn targets(stable: &Settings, weight: i64) -> Vec<WeightedTargetSpec> {
    let weight = weight.clamp(0, 100) as i32;
    let stable_node = names::virtual_node_name(&names::stable_slot(&stable.name));
    let candidate_node = names::virtual_node_name(&names::canary_slot(&stable.name));
    let mut targets = vec![WeightedTargetSpec {
        virtual_node: stable_node,
        weight: 100 - weight,
    }];
    if weight > 0 {
        targets.push(WeightedTargetSpec {
            virtual_node: candidate_node,
            weight,
        });
    }
    targets
}

/// The candidate's weight on a route with these targets (0 when absent).
pub fn candidate_weight(stable: &Settings, targets: &[WeightedTargetSpec]) -> i64 {
    let candidate_node = names::virtual_node_name(&names::canary_slot(&stable.name));
    targets
        .iter()
        .find(|t| t.virtual_node == candidate_node)
        .map(|t| i64::from(t.weight))
        .unwrap_or(0)
}

#[cfg(test)]
#[path = "expand_tests.rs"]
mod tests;
