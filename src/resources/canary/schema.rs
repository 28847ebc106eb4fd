//! `matbakh_canary`: the Terraform schema. Names and defaults follow the
//! contract (shared/design/interface.md).

use tf_provider::schema::Schema;

use crate::tf::schema::{block, string_map, timeouts_block, Type};

/// Arguments whose default the plan shows (Optional + Computed).
pub const DEFAULTED: [&str; 3] = ["strategy", "steps", "step_interval"];

/// Attributes the provider computes.
pub const COMPUTED: [&str; 6] = [
    "id",
    "status",
    "current_weight",
    "components",
    "drift",
    "tags_all",
];

/// Default of every `timeouts` entry: a walk holds each step for
/// `step_interval` (the default walk takes 20 minutes after deployment).
pub const DEFAULT_TIMEOUT: &str = "60m";

pub fn schema() -> Schema {
    block("A candidate version of one `matbakh_microservice` beside the stable one: its own ECS service, task definition and App Mesh virtual node in the same Cloud Map service, two CloudWatch alarms on its metrics, and a walk of the route's weights through `steps` that rolls back on its own when an alarm fires.")
        .required("microservice", Type::String, "The `id` of the `matbakh_microservice` (`PLATFORM/NAME`). Changing it replaces the canary.")
        .required("image", Type::String, "Container image of the candidate. A new image starts a new walk from the first step.")
        .defaulted("strategy", Type::String, "`canary` (default): walk the candidate's weight through `steps`. `blue_green`: one switch from 0 to 100 once the candidate is healthy.")
        .defaulted("steps", Type::List(Box::new(Type::Number)), "Traffic percentages for the candidate, in order: whole numbers 1-100, strictly increasing, at most 20. Default `[5, 25, 50, 100]`. Ignored by `blue_green`.")
        .defaulted("step_interval", Type::String, "How long each step holds while the alarms are watched (checked every 15 s and at the end), 1s-24h. Default `5m`.")
        .optional("min_requests", Type::Number, "service_connect: requests the candidate must serve in its first step (its share of the service's requests over `step_interval`), else it rolls back: never promote on silence. A whole number from 1. Default `1`.")
        .optional("tags", string_map(), "Tags of the candidate's AWS objects, merged over the provider's `default_tags` (these win). At most 45 with `default_tags` together (AWS allows 50 per object; the provider adds up to five of its own: `matbakh:owner`, `matbakh:owner-token`, `matbakh:platform`, …), keys 1-128 and values 0-256 characters, no `aws:` or `matbakh:` prefix. A change re-tags the objects in place.")
        .computed("tags_all", string_map(), "The tags every candidate object carries: `default_tags` merged with `tags`, besides the provider's own (`matbakh:owner`).")
        .computed("id", Type::String, "`PLATFORM/NAME-canary`.")
        .computed("status", Type::String, "`progressing` (a walk has not finished: the next apply starts it again), `succeeded` (the walk reached its last step) or `rolled_back` (an alarm fired or the candidate's deployment failed).")
        .computed("current_weight", Type::Number, "Share of traffic on the candidate, percent, as the route has it.")
        .computed("components", string_map(), "Every AWS object of the candidate, by component (`candidate_service`, `candidate_task_definition`, `candidate_virtual_node`, `alarm_error_rate`, `alarm_p95_latency`, `alarm_no_traffic`), to its ARN or id.")
        .computed("drift", string_map(), "Deprecated, always empty: kept so states written by earlier versions load. Drift shows as argument values and plan warnings now.")
        .single_block("rollback_on", block("When the walk rolls back: thresholds of the candidate's two CloudWatch alarms (metric namespace `matbakh/microservices`, dimension `ServiceName = NAME-canary`).")
            .optional("error_rate_percent", Type::Number, "Roll back when 5xx answers exceed this share of the candidate's requests, percent (above 0, at most 100). Default `5`.")
            .optional("p95_latency_ms", Type::Number, "Roll back when the candidate's p95 latency exceeds this, ms. Default `200`."))
        .single_block("timeouts", timeouts_block(DEFAULT_TIMEOUT))
        .schema(0)
}
