//! The microservice's `ingress` block (issue 21, item 2): what AWS would
//! refuse in a listener rule, judged at plan, and the rule priority derived
//! from the service's name.
//!
//! The block's settings are here too; the components it adds to the graph
//! are in [`super::ingress_components`].
//!
//! Source: Elastic Load Balancing, "Listener rules for your Application
//! Load Balancer" (path and host conditions: characters, 128 characters)
//! and "Quotas for your Application Load Balancers" (5 condition values
//! and 5 wildcards per rule; priorities 1-50000).

use serde::Deserialize;

use crate::validation::{parse_duration, Problem};

/// Seconds a target drains before it is deregistered, by default.
pub const DEFAULT_DEREGISTRATION_DELAY: &str = "30s";

/// The `ingress` block as written.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct IngressConfig {
    pub paths: Option<Vec<Option<String>>>,
    pub hosts: Option<Vec<Option<String>>>,
    pub priority: Option<f64>,
    pub health_check_path: Option<String>,
    pub deregistration_delay: Option<String>,
}

/// The `ingress` block with defaults applied.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Ingress {
    /// Sorted, no duplicates.
    pub paths: Vec<String>,
    /// Sorted, no duplicates; none: any host.
    pub hosts: Vec<String>,
    /// The rule's priority: the configured one, else derived from the name.
    pub priority: u32,
    pub health_check_path: String,
    pub deregistration_delay_seconds: u32,
}

impl Ingress {
    /// The settings of `config` for service `name` of `platform`, whose
    /// health check path is `health_check_path`.
    pub fn resolve(
        config: &IngressConfig,
        platform: &str,
        name: &str,
        health_check_path: &str,
    ) -> Ingress {
        let set = |v: &Option<Vec<Option<String>>>| {
            let mut v: Vec<String> = v.iter().flatten().flatten().cloned().collect();
            v.sort();
            v.dedup();
            v
        };
        Ingress {
            paths: set(&config.paths),
            hosts: set(&config.hosts),
            priority: config
                .priority
                .filter(|p| p.fract() == 0.0 && PRIORITIES.contains(&(*p as u32)))
                .map(|p| p as u32)
                .unwrap_or_else(|| derived_priority(platform, name)),
            health_check_path: config
                .health_check_path
                .clone()
                .unwrap_or_else(|| health_check_path.to_string()),
            deregistration_delay_seconds: config
                .deregistration_delay
                .as_deref()
                .and_then(|d| parse_duration(d).ok())
                .map(|d| d.as_secs() as u32)
                .unwrap_or(30),
        }
    }
}

/// The problems of the `ingress` block as written (None: no block).
pub fn validate_config(config: Option<&IngressConfig>) -> Vec<Problem> {
    let Some(c) = config else {
        return Vec::new();
    };
    let list = |v: &Option<Vec<Option<String>>>| -> Vec<String> {
        v.iter().flatten().flatten().cloned().collect()
    };
    let mut problems = validate(&list(&c.paths), &list(&c.hosts), c.priority);
    if let Some(path) = &c.health_check_path {
        if !path.starts_with('/') || path.len() > 1024 {
            problems.push(Problem::at(
                "ingress.0.health_check_path",
                "Invalid health_check_path",
                format!("{path:?}: a target group's health check path starts with \"/\" and has at most 1024 characters."),
            ));
        }
    }
    if let Some(text) = &c.deregistration_delay {
        let ok = parse_duration(text)
            .ok()
            .filter(|d| d.subsec_nanos() == 0 && d.as_secs() <= 3600);
        if ok.is_none() {
            problems.push(Problem::at(
                "ingress.0.deregistration_delay",
                "Invalid deregistration_delay",
                format!("{text:?}: a target group's deregistration delay is whole seconds from 0s to 3600s."),
            ));
        }
    }
    problems
}

/// Rule priorities AWS accepts.
pub const PRIORITIES: std::ops::RangeInclusive<u32> = 1..=50_000;
/// Condition values per rule (paths and hosts together).
pub const MAX_CONDITION_VALUES: usize = 5;
/// Wildcards (`*`, `?`) per rule, over every condition value.
pub const MAX_WILDCARDS: usize = 5;
/// Length of one path pattern or host header pattern.
pub const MAX_PATTERN_LENGTH: usize = 128;

/// Why `path` is not a path pattern AWS accepts, if it is not.
pub fn check_path(path: &str) -> Result<(), String> {
    if path.is_empty() || path.len() > MAX_PATTERN_LENGTH {
        return Err(format!(
            "{path:?}: a path pattern has 1 to {MAX_PATTERN_LENGTH} characters."
        ));
    }
    if !path.starts_with('/') && !path.starts_with('*') {
        return Err(format!("{path:?}: a path pattern starts with \"/\"."));
    }
    // A-Z a-z 0-9 _ - . $ / ~ " ' @ : + & * ? (ELB's list; & as itself).
    if let Some(bad) = path
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "_-.$/~\"'@:+&*?".contains(*c)))
    {
        return Err(format!(
            "{path:?} contains {bad:?}; a path pattern may contain letters, digits and _ - . $ / ~ \" ' @ : + & * ?"
        ));
    }
    Ok(())
}

/// Why `host` is not a host header pattern AWS accepts, if it is not.
pub fn check_host(host: &str) -> Result<(), String> {
    if host.is_empty() || host.len() > MAX_PATTERN_LENGTH {
        return Err(format!(
            "{host:?}: a host pattern has 1 to {MAX_PATTERN_LENGTH} characters."
        ));
    }
    if let Some(bad) = host
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "-.*?".contains(*c)))
    {
        return Err(format!(
            "{host:?} contains {bad:?}; a host pattern may contain letters, digits and - . * ?"
        ));
    }
    // At least one dot, and only letters after the last one.
    match host.rsplit_once('.') {
        Some((_, tld)) if !tld.is_empty() && tld.chars().all(|c| c.is_ascii_alphabetic() || c == '*' || c == '?') => Ok(()),
        _ => Err(format!(
            "{host:?}: a host pattern has at least one \".\" and only letters after the last one, like \"api.example.com\"."
        )),
    }
}

/// The problems of a rule matching `paths` and `hosts` with `priority`
/// (None: derived), each naming its attribute under `ingress.0`.
pub fn validate(paths: &[String], hosts: &[String], priority: Option<f64>) -> Vec<Problem> {
    let at = |k: &str| format!("ingress.0.{k}");
    let mut problems = Vec::new();
    if paths.is_empty() {
        problems.push(Problem::at(
            &at("paths"),
            "Missing paths",
            "ingress needs at least one path pattern, like \"/auth/*\".",
        ));
    }
    for (attr, values, check) in [
        ("paths", paths, check_path as fn(&str) -> Result<(), String>),
        ("hosts", hosts, check_host),
    ] {
        for v in values {
            if let Err(why) = check(v) {
                problems.push(Problem::at(&at(attr), format!("Invalid {attr}"), why));
            }
        }
    }
    let values = paths.len() + hosts.len();
    if values > MAX_CONDITION_VALUES {
        problems.push(Problem::at(
            &at("paths"),
            "Too many condition values",
            format!("paths and hosts have {values} values together; a listener rule takes at most {MAX_CONDITION_VALUES}."),
        ));
    }
    let wildcards: usize = paths
        .iter()
        .chain(hosts)
        .map(|v| v.chars().filter(|c| *c == '*' || *c == '?').count())
        .sum();
    if wildcards > MAX_WILDCARDS {
        problems.push(Problem::at(
            &at("paths"),
            "Too many wildcards",
            format!("paths and hosts have {wildcards} wildcards (* and ?) together; a listener rule takes at most {MAX_WILDCARDS}."),
        ));
    }
    if let Some(p) = priority {
        if p.fract() != 0.0 || !(1.0..=50_000.0).contains(&p) {
            problems.push(Problem::at(
                &at("priority"),
                "Invalid priority",
                format!("priority is {p}; a listener rule's priority is a whole number from 1 to 50000."),
            ));
        }
    }
    problems
}

/// The priority of a service's rule when `priority` is omitted: derived
/// from the platform and service names, so it is the same on every plan,
/// and above 1000, leaving 1-1000 to priorities users choose.
pub fn derived_priority(platform: &str, name: &str) -> u32 {
    let hash = crate::aws::compare::stable_hash(&format!("{platform}/{name}"));
    let n = u64::from_str_radix(&hash[..8], 16).unwrap_or(0);
    1001 + (n % u64::from(PRIORITIES.end() - 1000)) as u32
}

/// Another service's rule on the same listener: its name, priority and
/// condition values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OtherRule {
    pub service: String,
    pub priority: u32,
    pub paths: Vec<String>,
    pub hosts: Vec<String>,
}

/// Problems of service `name`'s rule among `others` on the listener: the
/// same priority, or the same paths and hosts, naming both services.
pub fn collisions(
    name: &str,
    priority: u32,
    paths: &[String],
    hosts: &[String],
    others: &[OtherRule],
) -> Vec<Problem> {
    let sorted = |v: &[String]| {
        let mut v = v.to_vec();
        v.sort();
        v
    };
    let mut problems = Vec::new();
    for o in others.iter().filter(|o| o.service != name) {
        if o.priority == priority {
            problems.push(Problem::at(
                "ingress.0.priority",
                "Rule priority in use",
                format!("{name} and {} both have listener rule priority {priority}; set ingress.priority on one of them.", o.service),
            ));
        }
        if sorted(&o.paths) == sorted(paths) && sorted(&o.hosts) == sorted(hosts) {
            problems.push(Problem::at(
                "ingress.0.paths",
                "Same paths and hosts",
                format!("{name} and {} match the same paths and hosts; the one with the lower priority would never see a request.", o.service),
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    fn paths_of(p: &[Problem]) -> Vec<String> {
        p.iter().map(Problem::dotted).collect()
    }

    #[test]
    fn patterns_aws_accepts_and_refuses() {
        for ok in ["/auth", "/auth/*", "/v1/$x~y@z:+&'\"?", "*"] {
            assert!(check_path(ok).is_ok(), "{ok}");
        }
        for bad in ["", "auth", "/a b", "/é", &format!("/{}", "a".repeat(128))] {
            assert!(check_path(bad).is_err(), "{bad}");
        }
        for ok in ["api.example.com", "*.example.com", "api-1.example.c?m"] {
            assert!(check_host(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "localhost",
            "api.example.c0m",
            "api_1.example.com",
            "api.example.",
        ] {
            assert!(check_host(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn limits_name_the_attribute() {
        assert!(validate(
            &s(&["/auth", "/auth/*"]),
            &s(&["api.example.com"]),
            Some(10.0)
        )
        .is_empty());
        assert_eq!(paths_of(&validate(&[], &[], None)), ["ingress.0.paths"]);
        let six = s(&["/a", "/b", "/c", "/d", "/e", "/f"]);
        assert_eq!(paths_of(&validate(&six, &[], None)), ["ingress.0.paths"]);
        let wild = s(&["/a*", "/b*", "/c*"]);
        assert_eq!(
            paths_of(&validate(
                &wild,
                &s(&["*.x.com", "?.y.com", "z*.w.com"]),
                None
            )),
            ["ingress.0.paths", "ingress.0.paths"]
        );
        for p in [0.0, 50_001.0, 1.5] {
            assert_eq!(
                paths_of(&validate(&s(&["/a"]), &[], Some(p))),
                ["ingress.0.priority"],
                "{p}"
            );
        }
        assert_eq!(
            paths_of(&validate(&s(&["/a"]), &s(&["nodot"]), None)),
            ["ingress.0.hosts"]
        );
    }

    #[test]
    fn derived_priorities_are_stable_and_leave_the_low_ones_to_users() {
        let a = derived_priority("matbakh", "auth-service");
        assert_eq!(a, derived_priority("matbakh", "auth-service"));
        assert_ne!(a, derived_priority("matbakh", "persona-service"));
        for name in ["a", "b", "c", "auth", "persona", "vc"] {
            let p = derived_priority("matbakh", name);
            assert!((1001..=50_000).contains(&p), "{name}: {p}");
        }
    }

    #[test]
    fn collisions_name_both_services() {
        let other = OtherRule {
            service: "persona-service".into(),
            priority: 10,
            paths: s(&["/p/*", "/p"]),
            hosts: vec![],
        };
        let p = collisions(
            "auth-service",
            10,
            &s(&["/p", "/p/*"]),
            &[],
            std::slice::from_ref(&other),
        );
        assert_eq!(paths_of(&p), ["ingress.0.priority", "ingress.0.paths"]);
        assert!(p
            .iter()
            .all(|x| x.detail.contains("auth-service") && x.detail.contains("persona-service")));
        assert!(collisions(
            "auth-service",
            11,
            &s(&["/a"]),
            &[],
            std::slice::from_ref(&other)
        )
        .is_empty());
        // Its own rule is no collision.
        assert!(collisions("persona-service", 10, &s(&["/p"]), &[], &[other]).is_empty());
    }
}
