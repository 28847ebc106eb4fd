//! `matbakh_microservice`: the Terraform schema. Names and defaults follow
//! the contract (shared/design/interface.md).

use tf_provider::schema::Schema;

use crate::tf::schema::{block, string_list, string_map, string_set, timeouts_block, Type};

/// Top-level arguments whose default the plan shows (Optional + Computed).
/// spot_percent and log_retention_days default from the provider's
/// environment.
pub const DEFAULTED: [&str; 7] = [
    "cpu",
    "memory",
    "desired_count",
    "spot_percent",
    "dashboard",
    "log_retention_days",
    "wait_for_steady_state",
];

/// Attributes the provider computes.
pub const COMPUTED: [&str; 12] = [
    "id",
    "tags_all",
    "components",
    "dns_name",
    "service_arn",
    "task_definition_arn",
    "virtual_node_name",
    "virtual_service_name",
    "estimated_monthly_cost",
    "drift",
    "url",
    "target_group_arns",
];

pub fn schema() -> Schema {
    block("One microservice on a `matbakh_platform`: ECS Fargate task definition and service, CloudWatch log group, alarms and dashboard, and Application Auto Scaling, plus the backend's networking: ECS Service Connect (default; ECS creates the Cloud Map service) or, with `service_mesh = \"app_mesh\"`, an Envoy sidecar, Cloud Map discovery and App Mesh virtual node, router, route and virtual service. Kept in sync by every apply.")
        .required("platform", Type::String, "The `id` of the `matbakh_platform` the service joins. Changing it replaces the service.")
        .required("name", Type::String, "Name of the service: a DNS label (lowercase letters, digits, hyphens) of at most 56 characters (room for the `-canary` suffix). Every AWS object is named after it. Changing it replaces the service.")
        .required("image", Type::String, "Container image of the application. A new image registers a new task definition revision and rolls the service.")
        .required("port", Type::Number, "Port the application listens on (1-65535; not 9901, 15000 or 15001, which Envoy uses on app_mesh). On service_connect it is also the client alias's port.")
        .defaulted("cpu", Type::Number, "CPU units of the application container. Default `256`. The task size is the smallest Fargate size that holds all containers.")
        .defaulted("memory", Type::Number, "Memory of the application container, MiB. Default `512`.")
        .defaulted("desired_count", Type::Number, "Number of tasks. Default `2`. With `autoscaling`, only the initial count: the scaler's changes are not drift.")
        .required("subnet_ids", string_set(), "Subnets of the tasks (`subnet-…`), a set: order does not matter; no public IPs are assigned.")
        .optional("security_group_ids", string_set(), "Security groups of the tasks (`sg-…`), a set.")
        .optional("execution_role_arn", Type::String, "IAM role ECS uses to pull the image, write logs and read `secrets`. Omitted: the provider makes `PLATFORM-NAME-exec`, allowed exactly that (see \"IAM roles\").")
        .optional("task_role_arn", Type::String, "IAM role of the application itself. Omitted: the provider makes `PLATFORM-NAME-task` when tracing, `task_policy_json` or `task_policy_arns` needs one.")
        .optional("secrets_kms_key_arns", string_set(), "KMS keys (`arn:aws:kms:…:key/…`) the `secrets` are encrypted with, a set: the made execution role may `kms:Decrypt` with these only. An error with `execution_role_arn`.")
        .optional("task_policy_json", Type::String, "The application's own permissions, an IAM policy document (JSON): an inline policy of the made task role. An error with `task_role_arn`.")
        .optional("task_policy_arns", string_set(), "Managed policies (`arn:aws:iam::…:policy/…`) attached to the made task role, a set. An error with `task_role_arn`.")
        .optional("environment_variables", string_map(), "Environment variables of the application container.")
        .optional("secrets", string_map(), "Environment variables filled from Secrets Manager or SSM Parameter Store: ARNs only, never values.")
        .optional("backends", string_set(), "Names of other microservices this one may call, a set. On app_mesh each becomes an App Mesh backend `NAME.NAMESPACE` (only those are reachable); an error on service_connect, where every service of the namespace may call every other (restrict callers with security groups).")
        .defaulted("spot_percent", Type::Number, "Share of tasks on FARGATE_SPOT, 0-100. Default from the provider's environment: 50 (development), 80 (staging), 0 (production).")
        .defaulted("dashboard", Type::Bool, "Create a CloudWatch dashboard (requests, errors, p95 latency, CPU). Default `true`.")
        .defaulted("log_retention_days", Type::Number, "Retention of the log group, a value CloudWatch accepts (1, 3, 5, 7, 14, 30, 60, 90, …). Default from the environment: 7 (development), 30 (staging, production).")
        .defaulted("wait_for_steady_state", Type::Bool, "Wait until the ECS deployment has finished; fail the apply when ECS rolls it back. Default `true`.")
        .optional("tags", string_map(), "Tags of every AWS object of the service, merged over the provider's `default_tags` (these win). At most 45 with `default_tags` together (AWS allows 50 per object; the provider adds up to five of its own: `matbakh:owner`, `matbakh:owner-token`, `matbakh:platform`, …), keys 1-128 and values 0-256 characters, no `aws:` or `matbakh:` prefix. A change re-tags the objects in place.")
        .computed("tags_all", string_map(), "The tags every object carries: `default_tags` merged with `tags`, besides the provider's own (`matbakh:owner`).")
        .computed("id", Type::String, "`PLATFORM/NAME`; what `terraform import` takes.")
        .computed("components", string_map(), "Every AWS object of the service, by component (`task_definition`, `service`, `virtual_node`, …), to its ARN or id.")
        .computed("dns_name", Type::String, "Name other services reach this one by: `NAME.NAMESPACE` (the Service Connect client alias, or the App Mesh virtual service).")
        .computed("service_arn", Type::String, "ARN of the ECS service.")
        .computed("task_definition_arn", Type::String, "ARN of the current task definition revision.")
        .computed("virtual_node_name", Type::String, "Name of the App Mesh virtual node (app_mesh; null on service_connect).")
        .computed("virtual_service_name", Type::String, "Name of the App Mesh virtual service `NAME.NAMESPACE` (app_mesh; null on service_connect).")
        .computed("estimated_monthly_cost", Type::Number, "Estimated USD per month: Fargate tasks (on-demand and spot share, sidecars included), alarms and dashboard.")
        .computed("url", Type::String, "With `ingress`: where the service is reached through the platform's load balancer, `https://HOST/PATH` (the first host without wildcards, else the load balancer's DNS name; the first path with its wildcard cut off). Null without `ingress`.")
        .computed("target_group_arns", string_list(), "With `ingress`: the service's two target groups (blue, green). Which one serves production traffic is ECS's to move in a release. Null without `ingress`.")
        .computed("drift", string_map(), "Deprecated, always empty: kept so states written by earlier versions load. Drift shows as argument values and plan warnings now.")
        .single_block("health_check", block("Health check of the application: on service_connect an ECS container health check (interval, timeout and unhealthy_threshold as retries, whole seconds), on app_mesh the App Mesh listener's.")
            .optional("path", Type::String, "HTTP path. Default `/health`.")
            .optional("interval", Type::String, "Time between checks, 5s-300s. Default `30s`.")
            .optional("timeout", Type::String, "Time to wait for an answer, 2s-60s, less than `interval`. Default `5s`.")
            .optional("unhealthy_threshold", Type::Number, "Failures before unhealthy, 2-10. Default `3`.")
            .optional("healthy_threshold", Type::Number, "`app_mesh` only: successes before healthy, 2-10. Default `2`. An error on service_connect, whose container health check counts failures only.")
            .optional("command", Type::String, "`service_connect` only: the shell command of the container health check (`CMD-SHELL`). Default `curl -fsS -o /dev/null http://localhost:PORT/PATH || exit 1`: the tool must exist in the image, so set this (e.g. `wget -q -O /dev/null http://localhost:8080/health || exit 1`) for images without curl; `path` is then unused and an error. An error on app_mesh, whose listener checks `path` itself.")) 
        .single_block("retry", block("`app_mesh` only: retry policy of the App Mesh route. An error on service_connect, which retries by itself and takes no policy.")
            .optional("max_retries", Type::Number, "Retries per request. Default `3`.")
            .optional("per_try_timeout", Type::String, "Timeout of each try. Default `2s`.")
            .optional("http_events", string_set(), "HTTP events that trigger a retry, a set: `server-error`, `gateway-error`, `client-error`, `stream-error`. Default `[\"server-error\", \"gateway-error\"]`.")
            .optional("tcp_events", string_set(), "TCP events that trigger a retry, a set: `connection-error`. Default `[\"connection-error\"]`."))
        .single_block("timeout", block("Request timeouts: Service Connect's per-request and idle timeouts (whole seconds), or the App Mesh route's and listener's.")
            .optional("per_request", Type::String, "Time a request may take. Default `15s`.")
            .optional("idle", Type::String, "Time a connection may stay idle. Default `300s`."))
        .single_block("circuit_breaker", block("`app_mesh` only: outlier detection and connection pool of the virtual node. An error on service_connect, whose outlier detection is built in.")
            .optional("max_server_errors", Type::Number, "5xx answers before a host is ejected. Default `5`.")
            .optional("interval", Type::String, "Window in which errors are counted. Default `30s`.")
            .optional("base_ejection", Type::String, "Base time a host stays ejected. Default `30s`.")
            .optional("max_ejection_percent", Type::Number, "Most hosts ejected at once, percent. Default `50`.")
            .optional("max_connections", Type::Number, "HTTP connection pool size. Default `1024`.")
            .optional("max_pending_requests", Type::Number, "Requests queued for a connection. Default `1024`."))
        .single_block("tls", block("TLS between services; off when the block is absent.")
            .required("certificate_authority_arns", string_set(), "AWS Private CA ARNs, a set: exactly one on service_connect (the issuer of the service's certificates), 1-3 on app_mesh (whose certificates the service trusts).")
            .optional("role_arn", Type::String, "`service_connect` only: the IAM role ECS uses to issue certificates from the Private CA. Omitted: the provider makes `PLATFORM-NAME-REGION-tls`, allowed on that CA only. An error on app_mesh."))
        .single_block("envoy", block("`app_mesh` only: the Envoy sidecar (admin port 9901). An error on service_connect, where ECS runs the proxy.")
            .optional("cpu", Type::Number, "CPU units. Default `256`.")
            .optional("memory", Type::Number, "Memory, MiB. Default `256`.")
            .optional("log_level", Type::String, "`trace`, `debug`, `info` (default), `warning`, `error`, `critical` or `off`.")
            .optional("image", Type::String, "The Envoy image. Default `public.ecr.aws/appmesh/aws-appmesh-envoy:v1.29.12.1-prod`."))
        .single_block("tracing", block("The ADOT collector sidecar (128 CPU / 128 MiB); on by default.")
            .optional("enabled", Type::Bool, "Run the collector. Default `true`.")
            .optional("sampling_rate", Type::Number, "Share of requests traced, 0-1. Default from the environment: 0.5 (development), 0.1 (staging, production).")
            .optional("image", Type::String, "The ADOT collector image. Default `public.ecr.aws/aws-observability/aws-otel-collector:v0.49.0`, the newest release known when it was chosen (not pulled in the provider's build: check it is still current)."))
        .single_block("autoscaling", block("Application Auto Scaling with CPU and memory target tracking; off when the block is absent.")
            .optional("min_count", Type::Number, "Fewest tasks. Default `1`.")
            .optional("max_count", Type::Number, "Most tasks, at most 1000 (Cloud Map holds 1,000 instances per service). Default `10`.")
            .optional("cpu_target", Type::Number, "Target average CPU utilisation, percent. Default `70`.")
            .optional("memory_target", Type::Number, "Target average memory utilisation, percent. Default `80`.")
            .optional("requests_per_target", Type::Number, "With `ingress` only: target tracking on the load balancer's `ALBRequestCountPerTarget`, requests per task per minute, a whole number from 1, for the target group that serves production traffic (it follows the live group across releases). Default: none."))
        .single_block("alarms", block("CloudWatch alarms on the service's metrics.")
            .optional("error_rate_percent", Type::Number, "Alarm when 5xx answers exceed this share of requests. Default `5`.")
            .optional("p95_latency_ms", Type::Number, "Alarm when latency exceeds this, ms. Default `200`. The statistic is the Average: neither Service Connect's `TargetResponseTime` nor the ADOT collector's `Latency` (a statistic set) is served with percentiles.")
            .optional("actions", string_set(), "ARNs notified when an alarm fires (SNS topics, …), a set."))
        .single_block("deployment", block("How a change of image or settings rolls out: one of the ECS deployment controller's strategies. Anything but `rolling` needs `service_connect` (ECS shifts the traffic through Service Connect) and is an error on app_mesh. The apply waits on the ECS service deployment it started and fails when ECS stops or rolls it back, naming the alarms that fired; an interrupted or timed-out apply rolls the deployment back.")
            .optional("strategy", Type::String, "`rolling` (default: ECS ROLLING), `canary` (CANARY: `canary_percent` of the traffic to the new revision for `bake_time`, then all), `linear` (LINEAR: `step_percent` more every `bake_time`) or `blue_green` (BLUE_GREEN: all at once, both revisions kept for `bake_time`).")
            .optional("canary_percent", Type::Number, "`canary`: share of production traffic on the new revision first, 0.1-100 in steps of 0.1 (exact). Default `5`.")
            .optional("step_percent", Type::Number, "`linear`: share added at each step, 3-100 in steps of 0.1. Default `10`.")
            .optional("bake_time", Type::String, "`canary`, `linear`, `blue_green`: how long each step holds and how long both revisions run after the full shift (ECS's bake times), whole minutes 0-1440, e.g. `\"10m\"`. Default `10m`.")
            .optional("rollback_on_alarms", Type::Bool, "The microservice's error-rate and latency alarms become the deployment's alarms with rollback: ECS rolls back on its own when one fires. Default `false`.")
            .optional("min_requests", Type::Number, "`canary`, `linear`, `blue_green` with `rollback_on_alarms`: requests the new revision must serve in a step (its share of the service's requests over `bake_time`), else the release rolls back: never promote on silence. A whole number from 1. Default `1`."))
        .single_block("ingress", block("`service_connect` only: the service behind the platform's load balancer (the platform needs an `ingress` block). Two target groups (IP targets, HTTP on `port`), a rule on the platform's HTTPS listener and one on its test listener forwarding `paths` (and `hosts`) to them, the ECS service's load balancer with ECS's `advancedConfiguration` (the platform's role moves the traffic in a release) and a health check grace period of 60s, and a security group of the service's own admitting the load balancer's group on `port`. Adding or removing the block updates the running ECS service in place (no replacement).")
            .required("paths", string_set(), "ALB path patterns the rule matches, a set, like `[\"/auth\", \"/auth/*\"]`: 1-128 characters each of letters, digits and `_ - . $ / ~ \" ' @ : + & * ?`; at most 5 values and 5 wildcards with `hosts` together.")
            .optional("hosts", string_set(), "Host header patterns the rule also matches, a set, like `[\"api.example.com\"]`. Default: any host.")
            .optional("priority", Type::Number, "Priority of the listener rules, 1-50000, unique on the platform's load balancer. Default: derived from the platform's and the service's names, in 1001-50000 (1-1000 are left to priorities you choose). Two services of a platform with one priority, or with the same paths and hosts, are a plan error naming both.")
            .optional("health_check_path", Type::String, "Path the load balancer checks targets on. Default: `health_check.path`.")
            .optional("deregistration_delay", Type::String, "How long a stopping target keeps its connections, whole seconds 0s-3600s. Default `30s`."))
        .single_block("timeouts", timeouts_block("20m"))
        .schema(0)
}

#[cfg(test)]
mod tests {
    use tf_provider::schema::NestedBlock;

    use super::*;

    fn attribute_type(path: &str) -> Type {
        let schema = schema();
        let mut block = &schema.block;
        let mut parts: Vec<&str> = path.split('.').collect();
        let last = parts.pop().unwrap();
        for part in parts {
            block = match &block.blocks[part] {
                NestedBlock::Optional(b) => b,
                other => panic!("{part}: {other:?}"),
            };
        }
        block.attributes[last].attr_type.clone()
    }

    #[test]
    fn unordered_collections_are_sets() {
        for path in [
            "subnet_ids",
            "security_group_ids",
            "backends",
            "tls.certificate_authority_arns",
            "alarms.actions",
            "retry.http_events",
            "retry.tcp_events",
        ] {
            assert_eq!(
                attribute_type(path),
                Type::Set(Box::new(Type::String)),
                "{path}"
            );
        }
    }
}
