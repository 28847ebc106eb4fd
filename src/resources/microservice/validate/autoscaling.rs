//! Application Auto Scaling: the task range (within Cloud Map's quota),
//! the targets, and a desired_count inside the range.

use super::validator::Validator;
use crate::resources::microservice::config::MicroserviceConfig;

/// Cloud Map's quota of instances per service: the most tasks a service
/// may scale to.
pub const MAX_TASKS: i64 = 1000;

impl Validator {
    pub(super) fn autoscaling(&mut self, c: &MicroserviceConfig) {
        let Some(a) = &c.autoscaling else { return };
        self.int_range("autoscaling.0.min_count", a.min_count, 1, MAX_TASKS);
        // Cloud Map holds at most 1,000 instances per service, and every
        // task of the service is one (on either backend).
        if let Some(max) = a.max_count {
            if max > MAX_TASKS {
                self.error(
                    "autoscaling.0.max_count",
                    "More tasks than Cloud Map holds",
                    format!("max_count ({max}) is above {MAX_TASKS}: every task registers in Cloud Map, which holds at most {MAX_TASKS} instances per service"),
                );
            }
        }
        self.int_range("autoscaling.0.max_count", a.max_count, 1, i64::MAX);
        if let (Some(min), Some(max)) = (a.min_count, a.max_count) {
            if min > max {
                self.error(
                    "autoscaling.0.max_count",
                    "max_count below min_count",
                    format!("max_count ({max}) is smaller than min_count ({min})"),
                );
            }
        }
        self.int_range("autoscaling.0.cpu_target", a.cpu_target, 1, 100);
        self.int_range("autoscaling.0.memory_target", a.memory_target, 1, 100);
        // Application Auto Scaling takes any positive target; requests per
        // target only exist behind the load balancer.
        self.int_range(
            "autoscaling.0.requests_per_target",
            a.requests_per_target,
            1,
            i64::MAX,
        );
        if a.requests_per_target.is_some() && c.ingress.is_none() {
            self.error(
                "autoscaling.0.requests_per_target",
                "requests_per_target without ingress",
                "requests_per_target scales on the load balancer's requests per target (ALBRequestCountPerTarget): add an `ingress` block, or remove it",
            );
        }
        // An explicit desired_count outside the range would be overridden by
        // autoscaling at once: say so instead of silently changing it. The
        // default count is clamped into the range instead (see Settings).
        if let Some(n) = c.desired_count {
            let min = a.min_count.unwrap_or(1);
            let max = a.max_count.unwrap_or(i64::MAX);
            if n >= 0 && (n < min || n > max) {
                self.error(
                    "desired_count",
                    "desired_count outside the autoscaling range",
                    format!("with autoscaling, desired_count ({n}) is only the initial count and must lie between min_count ({min}) and max_count; remove it or move it into the range"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_fixtures::*;
    use serde_json::json;

    #[test]
    fn autoscaling_rules() {
        let a = |v: serde_json::Value| paths(json!({"autoscaling": [v], "desired_count": null}));
        assert_eq!(
            a(json!({"min_count": 0, "max_count": 2})),
            vec!["autoscaling.0.min_count"]
        );
        assert_eq!(
            a(json!({"min_count": 3, "max_count": 2})),
            vec!["autoscaling.0.max_count"]
        );
        assert_eq!(
            a(json!({"min_count": 1, "max_count": 2, "cpu_target": 0})),
            vec!["autoscaling.0.cpu_target"]
        );
        assert_eq!(
            a(json!({"min_count": 1, "max_count": 2, "memory_target": 101})),
            vec!["autoscaling.0.memory_target"]
        );
        assert_eq!(
            paths(json!({"autoscaling": [{"min_count": 3, "max_count": 5}], "desired_count": 2})),
            vec!["desired_count"]
        );
    }

    #[test]
    fn requests_per_target_is_a_positive_whole_number_and_needs_ingress() {
        let with = |n: serde_json::Value, ingress: bool| {
            let mut c = json!({"autoscaling": [{"min_count": 1, "max_count": 4, "requests_per_target": n}], "desired_count": null});
            if ingress {
                c["ingress"] = json!([{"paths": ["/auth/*"]}]);
            }
            paths(c)
        };
        assert!(with(json!(100), true).is_empty());
        for bad in [json!(0), json!(-5)] {
            assert_eq!(
                with(bad.clone(), true),
                vec!["autoscaling.0.requests_per_target"],
                "{bad}"
            );
        }
        assert_eq!(
            with(json!(100), false),
            vec!["autoscaling.0.requests_per_target"]
        );
    }
}
