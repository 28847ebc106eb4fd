//! Which updates keep an object's id: what a plan may promise.
//!
//! A plan shows a component's id as known when applying the change keeps
//! the object (an update in place), and as unknown when the object will be
//! re-registered or replaced. That answer depends only on the two specs, so
//! it lives here beside them, not in the adapters that do the updating; the
//! adapters' `update` must agree with it (see each adapter's `update`).

use super::Spec;

impl Spec {
    /// Whether bringing an object that matches `old` in line with `new`
    /// keeps its id (ARN, name or AWS-assigned id).
    ///
    /// Task definitions are immutable on AWS: any change registers a new
    /// revision, a new ARN. Every other kind is updated in place as long as
    /// what names it stays the same; a new name is a new object.
    pub fn update_keeps_id(old: &Spec, new: &Spec) -> bool {
        use Spec::*;
        match (old, new) {
            (TaskDefinition(_), TaskDefinition(_)) => false,
            (Cluster(a), Cluster(b)) => a.name == b.name,
            (Mesh(a), Mesh(b)) => a.name == b.name,
            (Namespace(a), Namespace(b)) => a.name == b.name && a.vpc_id == b.vpc_id,
            (LogGroup(a), LogGroup(b)) => a.name == b.name,
            (EcsService(a), EcsService(b)) => a.cluster == b.cluster && a.name == b.name,
            (DiscoveryService(a), DiscoveryService(b)) => {
                a.name == b.name && a.namespace_id == b.namespace_id
            }
            (VirtualNode(a), VirtualNode(b)) => a.mesh == b.mesh && a.name == b.name,
            (VirtualRouter(a), VirtualRouter(b)) => a.mesh == b.mesh && a.name == b.name,
            (Route(a), Route(b)) => a.mesh == b.mesh && a.router == b.router && a.name == b.name,
            (VirtualService(a), VirtualService(b)) => a.mesh == b.mesh && a.name == b.name,
            (ScalableTarget(a), ScalableTarget(b)) => a.resource_id == b.resource_id,
            (ScalingPolicy(a), ScalingPolicy(b)) => {
                a.resource_id == b.resource_id && a.name == b.name
            }
            (MetricAlarm(a), MetricAlarm(b)) => a.name == b.name,
            (Dashboard(a), Dashboard(b)) => a.name == b.name,
            (Role(a), Role(b)) => a.name == b.name,
            // Another kind under the same key: a different object.
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::resources::microservice::expand::{self, keys};
    use crate::resources::microservice::test_fixtures;
    use crate::spec::Spec;

    fn spec_of(graph: &crate::spec::DesiredGraph, key: &str) -> Spec {
        graph.get(key).expect(key).spec.clone()
    }

    #[test]
    fn a_task_definition_change_is_a_new_revision() {
        let (settings, platform) = test_fixtures::settings_and_platform();
        let graph = expand::expand(&settings, &platform);
        let td = spec_of(&graph, keys::TASK_DEFINITION);
        assert!(!Spec::update_keeps_id(&td, &td));
    }

    #[test]
    fn in_place_kinds_keep_their_id_while_their_name_stays() {
        let (settings, platform) = test_fixtures::settings_and_platform();
        let graph = expand::expand(&settings, &platform);
        for c in &graph.components {
            if c.key == keys::TASK_DEFINITION {
                continue;
            }
            assert!(Spec::update_keeps_id(&c.spec, &c.spec), "{}", c.key);
        }
        let Spec::EcsService(mut service) = spec_of(&graph, keys::SERVICE) else {
            panic!("service is an ECS service")
        };
        let old = Spec::EcsService(service.clone());
        service.desired_count += 4;
        service.wait_for_steady_state = !service.wait_for_steady_state;
        assert!(Spec::update_keeps_id(
            &old,
            &Spec::EcsService(service.clone())
        ));
        service.name.push_str("-2");
        assert!(!Spec::update_keeps_id(&old, &Spec::EcsService(service)));
        let Spec::MetricAlarm(mut alarm) = spec_of(&graph, keys::ALARM_CPU) else {
            panic!("alarm_cpu is an alarm")
        };
        let old = Spec::MetricAlarm(alarm.clone());
        alarm.threshold += 1.0;
        assert!(Spec::update_keeps_id(
            &old,
            &Spec::MetricAlarm(alarm.clone())
        ));
        alarm.name.push('x');
        assert!(!Spec::update_keeps_id(&old, &Spec::MetricAlarm(alarm)));
    }

    #[test]
    fn another_kind_under_a_key_is_another_object() {
        let (settings, platform) = test_fixtures::settings_and_platform();
        let graph = expand::expand(&settings, &platform);
        let route = spec_of(&graph, keys::ROUTE);
        let node = spec_of(&graph, keys::VIRTUAL_NODE);
        assert!(!Spec::update_keeps_id(&route, &node));
    }
}
