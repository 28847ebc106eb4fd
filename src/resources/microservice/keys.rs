//! Component keys: the keys of state's `components` map.

pub const LOG_GROUP: &str = "log_group";
pub const TASK_DEFINITION: &str = "task_definition";
pub const DISCOVERY_SERVICE: &str = "discovery_service";
pub const VIRTUAL_NODE: &str = "virtual_node";
pub const VIRTUAL_ROUTER: &str = "virtual_router";
pub const ROUTE: &str = "route";
pub const VIRTUAL_SERVICE: &str = "virtual_service";
pub const SERVICE: &str = "service";
pub const SCALING_TARGET: &str = "scaling_target";
pub const SCALING_POLICY_CPU: &str = "scaling_policy_cpu";
pub const SCALING_POLICY_MEMORY: &str = "scaling_policy_memory";
pub const SCALING_POLICY_REQUESTS: &str = "scaling_policy_requests";
pub const ALARM_ERROR_RATE: &str = "alarm_error_rate";
pub const ALARM_P95_LATENCY: &str = "alarm_p95_latency";
pub const ALARM_CPU: &str = "alarm_cpu";
pub const DASHBOARD: &str = "dashboard";
