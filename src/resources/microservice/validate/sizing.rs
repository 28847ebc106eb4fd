//! CPU, memory and task counts: positive sizes, a Fargate size that holds
//! the app with the backend's sidecars, a non-negative desired count and a
//! spot share that is a percentage.

use super::validator::Validator;
use crate::fargate::{smallest_fargate_size, NoFargateSize};
use crate::resources::microservice::config::{
    MicroserviceConfig, ADOT_CPU, ADOT_MEMORY, DEFAULT_ENVOY_CPU, DEFAULT_ENVOY_MEMORY,
};
use crate::service_mesh::ServiceMesh;

impl Validator {
    /// The containers' CPU and memory are positive.
    pub(super) fn sizes_positive(&mut self, c: &MicroserviceConfig) {
        let envoy = c.envoy.clone().unwrap_or_default();
        for (path, value) in [
            ("cpu", c.cpu),
            ("memory", c.memory),
            ("envoy.0.cpu", envoy.cpu),
            ("envoy.0.memory", envoy.memory),
        ] {
            if let Some(v) = value {
                if v <= 0 {
                    self.error(path, "Invalid size", format!("{v} is not positive"));
                }
            }
        }
    }

    /// Whether some Fargate size holds the whole task: the app, the
    /// collector when tracing is on and, on App Mesh, Envoy.
    pub(super) fn task_size(&mut self, c: &MicroserviceConfig, mesh: ServiceMesh) {
        let envoy = c.envoy.clone().unwrap_or_default();
        let (Some(cpu), Some(memory)) = (c.cpu, c.memory) else {
            return;
        };
        if cpu <= 0 || memory <= 0 {
            return;
        }
        let tracing_on = c.tracing.as_ref().and_then(|t| t.enabled).unwrap_or(true);
        let (adot_cpu, adot_memory) = if tracing_on {
            (ADOT_CPU, ADOT_MEMORY)
        } else {
            (0, 0)
        };
        let with_envoy = mesh == ServiceMesh::AppMesh;
        let (envoy_cpu, envoy_memory) = if with_envoy {
            (
                envoy.cpu.unwrap_or(DEFAULT_ENVOY_CPU).max(0),
                envoy.memory.unwrap_or(DEFAULT_ENVOY_MEMORY).max(0),
            )
        } else {
            (0, 0)
        };
        let total_cpu = cpu + envoy_cpu + adot_cpu;
        let total_memory = memory + envoy_memory + adot_memory;
        let sidecars = match (with_envoy, tracing_on) {
            (true, true) => "with the Envoy and ADOT sidecars",
            (true, false) => "with the Envoy sidecar",
            (false, true) => "with the ADOT sidecar",
            (false, false) => "for the app alone",
        };
        match smallest_fargate_size(total_cpu, total_memory) {
            Ok(_) => {}
            Err(e @ NoFargateSize::Cpu { .. }) => self.error(
                "cpu",
                "No Fargate task size fits",
                format!("{sidecars}, {e}"),
            ),
            Err(e @ NoFargateSize::Memory { .. }) => self.error(
                "memory",
                "No Fargate task size fits",
                format!("{sidecars}, {e}"),
            ),
        }
    }

    pub(super) fn counts(&mut self, c: &MicroserviceConfig) {
        if let Some(n) = c.desired_count {
            if n < 0 {
                self.error(
                    "desired_count",
                    "Invalid desired_count",
                    format!("{n} is negative"),
                );
            }
        }
        if let Some(p) = c.spot_percent {
            if !(0..=100).contains(&p) {
                self.error(
                    "spot_percent",
                    "Invalid spot_percent",
                    format!("{p} is not a percentage (0-100)"),
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
    fn sizes_must_be_positive_and_fit_fargate() {
        assert_eq!(paths(json!({"cpu": 0})), vec!["cpu"]);
        assert_eq!(paths(json!({"memory": -1})), vec!["memory"]);
        assert_eq!(paths(json!({"cpu": 16384})), vec!["cpu"]);
        assert_eq!(paths(json!({"memory": 122880})), vec!["memory"]);
        // Without ADOT, the app may take 128 more.
        assert_eq!(paths(json!({"cpu": 16100})), vec!["cpu"]);
        assert!(paths(json!({"cpu": 16100, "tracing": [{"enabled": false}]})).is_empty());
        let detail = &problems_with(json!({"cpu": 16384}))[0].detail;
        assert!(detail.contains("Envoy and ADOT"), "{detail}");
        assert_eq!(paths(json!({"envoy": [{"cpu": 0}]})), vec!["envoy.0.cpu"]);
    }

    #[test]
    fn counts() {
        assert_eq!(
            paths(json!({"desired_count": -1, "autoscaling": null})),
            vec!["desired_count"]
        );
        assert_eq!(paths(json!({"spot_percent": 101})), vec!["spot_percent"]);
        assert_eq!(paths(json!({"spot_percent": -1})), vec!["spot_percent"]);
    }
}
