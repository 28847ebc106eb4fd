//! The microservice's `ingress` block (issue 21, item 2): what AWS would
//! refuse in a listener rule, judged at plan, and the rule priority derived
//! from the service's name.
//!
//! Not wired into the schema yet: the target groups, the rules and the ECS
//! service's load balancer are still to come. These checks are what the
//! block's validation will run, kept apart so they are tested on their own.
//!
//! Source: Elastic Load Balancing, "Listener rules for your Application
//! Load Balancer" (path and host conditions: characters, 128 characters)
//! and "Quotas for your Application Load Balancers" (5 condition values
//! and 5 wildcards per rule; priorities 1-50000).

use crate::validation::Problem;

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
