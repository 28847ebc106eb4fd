//! The deterministic names of a microservice's AWS objects.
//!
//! Objects scoped to the platform's cluster, mesh or namespace are named
//! `NAME` (plus a suffix); objects whose names are unique per account and
//! region (task definition family, alarms, dashboard, log group) also carry
//! the platform, so two platforms in one account (say staging and
//! production) never share one.
//!
//! A *slot* is the stable service (`NAME`) or a canary's candidate
//! (`NAME-canary`): the task definition, ECS service and virtual node exist
//! once per slot; the rest once per microservice.

/// The longest microservice name. The tightest limit a name flows into is
/// the Cloud Map service name, a DNS label (63 characters; a Service Connect
/// discovery name takes 64); a candidate slot
/// appends `-canary` (7), which must stay a label too in case it is ever
/// registered under its own name: 63 - 7 = 56. Every other derived name has
/// a limit of 255 characters or more (ECS service, task definition family,
/// App Mesh names, alarm and dashboard names, policy names 256, log group
/// 512) and adds at most the platform name plus a 12-character suffix (the
/// dashboard also the region, at most 25). The Service Connect client alias
/// `NAME.NAMESPACE` is limited to 127 characters: checked with the
/// namespace (see `backend::service_connect::client_alias`).
pub const MAX_NAME_LEN: usize = 56;

/// Suffix of a canary candidate's slot.
pub const CANARY_SUFFIX: &str = "-canary";

/// The Terraform resource id of a microservice, also its owner tag value.
pub fn resource_id(platform: &str, name: &str) -> String {
    format!("{platform}/{name}")
}

/// The stable slot's name.
pub fn stable_slot(name: &str) -> String {
    name.to_string()
}

/// A canary candidate's slot name.
pub fn canary_slot(name: &str) -> String {
    format!("{name}{CANARY_SUFFIX}")
}

/// `dns_name`: what other services call it by.
pub fn dns_name(name: &str, namespace: &str) -> String {
    format!("{name}.{namespace}")
}

/// `virtual_node_name` of a slot.
pub fn virtual_node_name(slot: &str) -> String {
    slot.to_string()
}

/// `virtual_service_name`: the same as the DNS name, as App Mesh requires
/// for a virtual service backed by Cloud Map names.
pub fn virtual_service_name(name: &str, namespace: &str) -> String {
    dns_name(name, namespace)
}

pub fn virtual_router_name(name: &str) -> String {
    format!("{name}-router")
}

pub fn route_name(name: &str) -> String {
    format!("{name}-route")
}

pub fn ecs_service_name(slot: &str) -> String {
    slot.to_string()
}

pub fn discovery_service_name(name: &str) -> String {
    name.to_string()
}

/// The longest Service Connect discovery name ECS takes.
pub const MAX_DISCOVERY_NAME_LEN: usize = 64;

/// The Service Connect discovery name: unique per platform, because
/// Service Connect publishes its target metrics by `TargetDiscoveryName`
/// alone, one series summed over every cluster and namespace of the account
/// and region; a name shared by two platforms (staging and production, both
/// with an `auth-service`) would mix their traffic in each other's alarms.
/// `NAME_PLATFORM` (`_` appears in neither name, so no two pairs give one
/// name) when it fits ECS's 64 lowercase characters, else `NAME_` and seven
/// hex digits of the platform's name (FNV-1a): a microservice name is at
/// most [`MAX_NAME_LEN`] (56) characters, so that always fits.
pub fn service_connect_discovery_name(platform: &str, name: &str) -> String {
    let readable = format!("{name}_{platform}");
    let lowercase = platform
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if lowercase && readable.len() <= MAX_DISCOVERY_NAME_LEN {
        return readable;
    }
    let hash = platform.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    format!("{name}_{:07x}", hash >> 4)
}

pub fn task_family(platform: &str, slot: &str) -> String {
    format!("{}-{slot}", account_safe(platform))
}

pub fn log_group_name(platform: &str, name: &str) -> String {
    format!("/matbakh/{platform}/{name}")
}

pub fn alarm_name(platform: &str, name: &str, what: &str) -> String {
    format!("{}-{name}-{what}", account_safe(platform))
}

/// Dashboards are global to an account, not regional: the region is part
/// of the name, so the same platform and service in two regions (one
/// provider configuration each) get a dashboard each.
pub fn dashboard_name(platform: &str, name: &str, region: &str) -> String {
    format!("{}-{name}-{region}", account_safe(platform))
}

/// `service/CLUSTER/SERVICE`: the ECS service as Application Auto Scaling
/// names it.
pub fn scaling_resource_id(cluster: &str, slot: &str) -> String {
    format!("service/{cluster}/{slot}")
}

pub fn scaling_policy_name(name: &str, metric: &str) -> String {
    format!("{name}-{metric}-target-tracking")
}

/// The platform part of account-wide names: only letters, digits, `-` and
/// `_` (what dashboard names and task families accept).
fn account_safe(platform: &str) -> String {
    platform
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_the_reference_service() {
        assert_eq!(
            resource_id("matbakh", "auth-service"),
            "matbakh/auth-service"
        );
        assert_eq!(
            dns_name("auth-service", "svc.local"),
            "auth-service.svc.local"
        );
        assert_eq!(
            virtual_service_name("auth-service", "svc.local"),
            "auth-service.svc.local"
        );
        assert_eq!(virtual_node_name("auth-service"), "auth-service");
        assert_eq!(
            virtual_node_name(&canary_slot("auth-service")),
            "auth-service-canary"
        );
        assert_eq!(
            task_family("matbakh", "auth-service"),
            "matbakh-auth-service"
        );
        assert_eq!(
            alarm_name("matbakh", "auth-service", "error-rate"),
            "matbakh-auth-service-error-rate"
        );
        assert_eq!(
            dashboard_name("my.platform", "a", "eu-central-1"),
            "my-platform-a-eu-central-1"
        );
        assert_eq!(
            log_group_name("matbakh", "auth-service"),
            "/matbakh/matbakh/auth-service"
        );
        assert_eq!(
            service_connect_discovery_name("production", "auth-service"),
            "auth-service_production"
        );
        assert_eq!(
            scaling_resource_id("c", "auth-service"),
            "service/c/auth-service"
        );
    }

    #[test]
    fn discovery_names_are_unique_per_platform_and_fit_ecs() {
        let long = "a".repeat(MAX_NAME_LEN);
        let longest_platform = "p".repeat(32);
        let platforms = ["staging", "production", "Production", &longest_platform];
        let mut seen = std::collections::BTreeSet::new();
        for platform in platforms {
            for name in ["auth-service", long.as_str()] {
                let d = service_connect_discovery_name(platform, name);
                assert!(d.len() <= MAX_DISCOVERY_NAME_LEN, "{d}");
                assert!(d.starts_with(name), "{d}");
                assert!(
                    d.chars().all(|c| c.is_ascii_lowercase()
                        || c.is_ascii_digit()
                        || c == '-'
                        || c == '_'),
                    "{d}"
                );
                assert!(seen.insert(d.clone()), "{d} twice");
            }
        }
        // A pair never reads as another pair: `_` separates them.
        assert_ne!(
            service_connect_discovery_name("c", "a-b"),
            service_connect_discovery_name("b-c", "a")
        );
    }
}
