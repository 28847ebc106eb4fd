//! What a microservice's `ingress` block adds to its graph (issue 21).
//! Pure: the settings and the platform's ingress objects in, components out.
//!
//! ```text
//! target_group_blue ─┬─► ingress_rule ──────┐
//! target_group_green ┴─► ingress_test_rule ─┼─► service
//! ingress_security_group ───────────────────┘
//! ```
//!
//! Two target groups so that a release runs the new revision in the other
//! one: the ECS service registers its tasks in blue first and, in a
//! canary, linear or blue/green release, ECS moves the two rules' weights
//! to green with the platform's role (the rules start at blue 100, green
//! 0; ECS owns the weights from then on). The service's own security group
//! admits the load balancer's group on `port`, nothing else: the provider
//! never edits a group it did not make, the user's `security_group_ids`
//! included.

use super::config::Settings;
use super::containers::APP_CONTAINER;
use super::ingress::Ingress;
use super::platform::{PlatformContext, PlatformIngress};
use crate::spec::ec2::{IngressRule, SecurityGroupSpec, Source};
use crate::spec::ecs::EcsLoadBalancerSpec;
use crate::spec::elbv2::{ListenerRuleSpec, TargetGroupSpec};
use crate::spec::{Component, Ref, Spec, Tags};

/// Component keys.
pub mod keys {
    pub const TARGET_GROUP_BLUE: &str = "ingress_target_group_blue";
    pub const TARGET_GROUP_GREEN: &str = "ingress_target_group_green";
    pub const RULE: &str = "ingress_rule";
    pub const TEST_RULE: &str = "ingress_test_rule";
    pub const SECURITY_GROUP: &str = "ingress_security_group";
    /// Every key, in the order the service depends on them.
    pub const ALL: [&str; 5] = [
        TARGET_GROUP_BLUE,
        TARGET_GROUP_GREEN,
        RULE,
        TEST_RULE,
        SECURITY_GROUP,
    ];
}

/// How long ECS ignores the load balancer's health checks of a new task:
/// two of the target group's default 30-second intervals.
pub const HEALTH_CHECK_GRACE_PERIOD_SECONDS: i32 = 60;

/// Target group names have at most 32 characters.
const MAX_TARGET_GROUP_NAME: usize = 32;

/// `PLATFORM-NAME-b` / `-g` (blue, green), cut with a stable hash to 32
/// characters: the platform's prefix stays, which the platform's traffic
/// role and the deployer policy scope target groups by.
pub fn target_group_name(platform: &str, name: &str, color: char) -> String {
    let base = format!("{platform}-{name}");
    let room = MAX_TARGET_GROUP_NAME - 2;
    let base = if base.len() <= room {
        base
    } else {
        let hash = &crate::aws::compare::stable_hash(&base)[..6];
        let cut = base[..room - hash.len() - 1].trim_end_matches('-');
        format!("{cut}-{hash}")
    };
    format!("{base}-{color}")
}

/// The service's own security group: `PLATFORM-NAME-alb`.
pub fn security_group_name(platform: &str, name: &str) -> String {
    format!("{platform}-{name}-alb")
}

/// The ARN of the platform's role ECS moves ALB traffic with (the platform
/// makes it with its `ingress` block), in the platform's account.
pub fn traffic_role_arn(platform: &PlatformContext) -> String {
    super::roles::role_arn(
        platform,
        &crate::resources::platform::roles::alb_traffic_role_name(
            &platform.platform_id,
            &platform.region,
        ),
    )
}

fn rule(listener_arn: &str, ingress: &Ingress, priority: u32, tags: &Tags) -> Spec {
    Spec::ListenerRule(ListenerRuleSpec {
        listener_arn: listener_arn.to_string(),
        priority,
        paths: ingress.paths.clone(),
        hosts: ingress.hosts.clone(),
        forward: vec![
            (Ref::to(keys::TARGET_GROUP_BLUE), 100),
            (Ref::to(keys::TARGET_GROUP_GREEN), 0),
        ],
        tags: tags.clone(),
    })
}

/// The components of the `ingress` block.
pub fn components(
    settings: &Settings,
    platform: &PlatformContext,
    ingress: &Ingress,
    alb: &PlatformIngress,
    tags: &Tags,
) -> Vec<Component> {
    let subnet = settings
        .subnet_ids
        .iter()
        .min()
        .cloned()
        .unwrap_or_default();
    let port = settings.port as u16;
    let group = |color| {
        Spec::TargetGroup(TargetGroupSpec {
            name: target_group_name(&platform.platform_id, &settings.name, color),
            port,
            subnet_id: subnet.clone(),
            health_check_path: ingress.health_check_path.clone(),
            deregistration_delay_seconds: ingress.deregistration_delay_seconds,
            tags: tags.clone(),
        })
    };
    let groups = [keys::TARGET_GROUP_BLUE, keys::TARGET_GROUP_GREEN];
    vec![
        Component::new(keys::TARGET_GROUP_BLUE, group('b')),
        Component::new(keys::TARGET_GROUP_GREEN, group('g')),
        Component::new(
            keys::RULE,
            rule(&alb.listener_arn, ingress, ingress.priority, tags),
        )
        .after(&groups),
        Component::new(
            keys::TEST_RULE,
            rule(&alb.test_listener_arn, ingress, ingress.priority, tags),
        )
        .after(&groups),
        Component::new(
            keys::SECURITY_GROUP,
            Spec::SecurityGroup(SecurityGroupSpec {
                name: security_group_name(&platform.platform_id, &settings.name),
                description: format!(
                    "matbakh microservice {}: its port from platform {}'s load balancer",
                    settings.name, platform.platform_id
                ),
                subnet_id: subnet,
                ingress: vec![IngressRule {
                    port,
                    source: Source::GroupId(alb.security_group_id.clone()),
                }],
                tags: tags.clone(),
            }),
        ),
    ]
}

/// The ECS service's load balancer: blue first, green the alternate.
pub fn ecs_load_balancer(settings: &Settings, platform: &PlatformContext) -> EcsLoadBalancerSpec {
    EcsLoadBalancerSpec {
        target_group: Ref::to(keys::TARGET_GROUP_BLUE),
        alternate_target_group: Ref::to(keys::TARGET_GROUP_GREEN),
        production_rule: Ref::to(keys::RULE),
        test_rule: Ref::to(keys::TEST_RULE),
        role_arn: traffic_role_arn(platform),
        container_name: APP_CONTAINER.to_string(),
        container_port: settings.port as i32,
        health_check_grace_period_seconds: HEALTH_CHECK_GRACE_PERIOD_SECONDS,
        security_group: Ref::to(keys::SECURITY_GROUP),
    }
}

/// `url`: the first host (without wildcards), else the load balancer's DNS
/// name, with the first path, its wildcard cut off.
pub fn url(ingress: &Ingress, alb: &PlatformIngress) -> String {
    let scheme = if alb.https { "https" } else { "http" };
    let host = ingress
        .hosts
        .iter()
        .find(|h| !h.contains(['*', '?']))
        .unwrap_or(&alb.dns_name);
    let path = ingress
        .paths
        .first()
        .map(|p| p.split(['*', '?']).next().unwrap_or(""))
        .unwrap_or("/");
    let path = if path.starts_with('/') { path } else { "/" };
    format!("{scheme}://{host}{path}")
}

/// The service's own security group, read back by its name in the VPC of
/// its subnets, when it carries the service's owner tag.
pub async fn find_own_group(
    aws: &crate::aws::Clients,
    platform: &PlatformContext,
    name: &str,
    service: &crate::spec::ecs::EcsServiceSpec,
) -> Result<Option<crate::aws::Found<SecurityGroupSpec>>, String> {
    let Some(subnet) = service.subnets.iter().min() else {
        return Ok(None);
    };
    let probe = SecurityGroupSpec {
        name: security_group_name(&platform.platform_id, name),
        description: String::new(),
        subnet_id: subnet.clone(),
        ingress: Vec::new(),
        tags: Tags::new(),
    };
    let owner = super::names::resource_id(&platform.platform_id, name);
    let found = probe
        .read_back(aws)
        .await
        .map_err(|e| format!("reading ingress_security_group of {name}: {e}"))?;
    Ok(found.filter(|f| f.spec.tags.get(crate::spec::OWNER_TAG) == Some(&owner)))
}

/// The `ingress` block as recovered from AWS (an empty list without a load
/// balancer), defaults left out: the priority when it is the derived one,
/// the health check path when it is the service's, the delay when 30s.
pub fn recovered_arguments(
    platform: &PlatformContext,
    name: &str,
    attached: bool,
    rule: Option<&ListenerRuleSpec>,
    group: Option<&TargetGroupSpec>,
    health_check_path: &str,
) -> crate::tf::value::Value {
    use crate::tf::value::Value;
    let (true, Some(rule), Some(group)) = (attached, rule, group) else {
        return Value::List(vec![]);
    };
    let strings = |v: &[String]| Value::List(v.iter().map(Value::str).collect());
    let mut b = Value::Map(Default::default());
    b.set("paths", strings(&rule.paths));
    b.set(
        "hosts",
        if rule.hosts.is_empty() {
            Value::Null
        } else {
            strings(&rule.hosts)
        },
    );
    let derived = super::ingress::derived_priority(&platform.platform_id, name);
    b.set(
        "priority",
        if rule.priority == derived {
            Value::Null
        } else {
            i64::from(rule.priority).into()
        },
    );
    b.set(
        "health_check_path",
        if group.health_check_path == health_check_path {
            Value::Null
        } else {
            Value::str(&group.health_check_path)
        },
    );
    b.set(
        "deregistration_delay",
        if group.deregistration_delay_seconds == 30 {
            Value::Null
        } else {
            Value::str(format!("{}s", group.deregistration_delay_seconds))
        },
    );
    Value::List(vec![b])
}

/// Read back what a service attached to a load balancer has of `ingress`:
/// its production rule (by the ARN ECS names) and its blue target group
/// (by name), as components.
pub async fn read_attached(
    aws: &crate::aws::Clients,
    platform: &PlatformContext,
    name: &str,
    service: &crate::spec::ecs::EcsServiceSpec,
) -> Result<Vec<(&'static str, Spec, String)>, String> {
    let Some(lb) = &service.load_balancer else {
        return Ok(Vec::new());
    };
    let reading = |what: &str, e: crate::aws::AwsError| format!("reading {what} of {name}: {e}");
    let mut out = Vec::new();
    for (key, arn) in [
        (keys::RULE, &lb.production_rule.0),
        (keys::TEST_RULE, &lb.test_rule.0),
    ] {
        if let Some(rule) = crate::aws::elbv2::rule::read_back(aws, arn)
            .await
            .map_err(|e| reading(key, e))?
        {
            out.push((key, Spec::ListenerRule(rule), arn.clone()));
        }
    }
    for (key, color) in [
        (keys::TARGET_GROUP_BLUE, 'b'),
        (keys::TARGET_GROUP_GREEN, 'g'),
    ] {
        let probe = TargetGroupSpec {
            name: target_group_name(&platform.platform_id, name, color),
            port: 0,
            subnet_id: String::new(),
            health_check_path: String::new(),
            deregistration_delay_seconds: 0,
            tags: Tags::new(),
        };
        if let Some(found) = probe.read_back(aws).await.map_err(|e| reading(key, e))? {
            out.push((key, Spec::TargetGroup(found.spec), found.id));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::environment::Environment;
    use crate::service_mesh::ServiceMesh;

    fn alb() -> PlatformIngress {
        crate::resources::microservice::test_fixtures::platform_ingress()
    }

    fn settings(ingress: serde_json::Value) -> Settings {
        let config = super::super::config::MicroserviceConfig::from_value(&serde_json::json!({
            "platform": "matbakh", "name": "auth-service", "image": "x", "port": 8080,
            "subnet_ids": ["subnet-0bbbbbbbbbbbbbbbb", "subnet-0aaaaaaaaaaaaaaaa"],
            "security_group_ids": ["sg-0user"],
            "ingress": [ingress],
        }))
        .unwrap();
        Settings::resolve_unchecked(&config, Environment::Production)
            .on(ServiceMesh::ServiceConnect)
    }

    #[test]
    fn two_target_groups_two_rules_and_a_group_admitting_the_load_balancer_only() {
        let s = settings(serde_json::json!({"paths": ["/auth/*", "/auth"], "priority": 10}));
        let p = crate::resources::microservice::test_fixtures::platform_on(
            Environment::Production,
            ServiceMesh::ServiceConnect,
        );
        let ingress = s.ingress.clone().unwrap();
        let c = components(&s, &p, &ingress, &alb(), &Tags::new());
        let keys: Vec<&str> = c.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(keys, keys::ALL);
        let Spec::TargetGroup(blue) = &c[0].spec else {
            panic!()
        };
        assert_eq!(blue.name, "matbakh-auth-service-b");
        assert_eq!(
            (blue.port, blue.health_check_path.as_str()),
            (8080, "/health")
        );
        assert_eq!(blue.deregistration_delay_seconds, 30);
        assert_eq!(blue.subnet_id, "subnet-0aaaaaaaaaaaaaaaa");
        let Spec::ListenerRule(rule) = &c[2].spec else {
            panic!()
        };
        assert_eq!(rule.listener_arn, alb().listener_arn);
        assert_eq!(rule.priority, 10);
        assert_eq!(rule.paths, ["/auth", "/auth/*"]);
        assert_eq!(
            rule.forward,
            [
                (Ref::to(keys::TARGET_GROUP_BLUE), 100),
                (Ref::to(keys::TARGET_GROUP_GREEN), 0)
            ]
        );
        let Spec::ListenerRule(test) = &c[3].spec else {
            panic!()
        };
        assert_eq!(test.listener_arn, alb().test_listener_arn);
        let Spec::SecurityGroup(sg) = &c[4].spec else {
            panic!()
        };
        assert_eq!(
            sg.ingress,
            [IngressRule {
                port: 8080,
                source: Source::GroupId("sg-0alb".into())
            }]
        );
        let lb = ecs_load_balancer(&s, &p);
        assert_eq!(lb.container_name, APP_CONTAINER);
        assert_eq!(
            lb.role_arn,
            "arn:aws:iam::123456789012:role/matbakh-eu-central-1-alb-traffic"
        );
    }

    #[test]
    fn derived_priority_health_check_path_and_url() {
        let s = settings(serde_json::json!({"paths": ["/auth/*"]}));
        let i = s.ingress.clone().unwrap();
        assert_eq!(
            i.priority,
            super::super::ingress::derived_priority("matbakh", "auth-service")
        );
        assert_eq!(
            url(&i, &alb()),
            "https://matbakh-1.eu-central-1.elb.amazonaws.com/auth/"
        );
        let s = settings(serde_json::json!({
            "paths": ["/v1/*"], "hosts": ["*.example.com", "api.example.com"],
            "health_check_path": "/ready", "deregistration_delay": "5s"
        }));
        let i = s.ingress.clone().unwrap();
        assert_eq!(url(&i, &alb()), "https://api.example.com/v1/");
        assert_eq!(
            (i.health_check_path.as_str(), i.deregistration_delay_seconds),
            ("/ready", 5)
        );
    }

    #[test]
    fn requests_per_target_tracks_the_live_target_group_of_the_load_balancer() {
        use crate::resources::microservice::keys as mk;
        use crate::spec::autoscaling::RequestCountLabel;
        let config = super::super::config::MicroserviceConfig::from_value(&serde_json::json!({
            "platform": "matbakh", "name": "auth-service", "image": "x", "port": 8080,
            "subnet_ids": ["subnet-0aaaaaaaaaaaaaaaa"],
            "ingress": [{"paths": ["/auth/*"]}],
            "autoscaling": [{"min_count": 1, "max_count": 4, "requests_per_target": 250}],
        }))
        .unwrap();
        let s = Settings::resolve_unchecked(&config, Environment::Production)
            .on(ServiceMesh::ServiceConnect);
        let mut p = crate::resources::microservice::test_fixtures::platform_on(
            Environment::Production,
            ServiceMesh::ServiceConnect,
        );
        p.ingress = Some(alb());
        let graph = super::super::expand::expand(&s, &p);
        let c = graph.get(mk::SCALING_POLICY_REQUESTS).expect("a policy");
        assert_eq!(c.depends_on, [mk::SCALING_TARGET]);
        let Spec::ScalingPolicy(policy) = &c.spec else {
            panic!()
        };
        assert_eq!(policy.metric, "ALBRequestCountPerTarget");
        assert_eq!(policy.target_value, 250.0);
        assert_eq!(policy.name, "auth-service-requests-target-tracking");
        assert_eq!(
            policy.resource_label,
            Some(RequestCountLabel {
                load_balancer: "app/matbakh/1".into(),
                target_groups: [
                    Ref::to(keys::TARGET_GROUP_BLUE),
                    Ref::to(keys::TARGET_GROUP_GREEN)
                ],
                production_rule: Ref::to(keys::RULE),
                service: Ref::to(mk::SERVICE),
            })
        );
        // The CPU and memory policies take no label.
        let Spec::ScalingPolicy(cpu) = &graph.get(mk::SCALING_POLICY_CPU).unwrap().spec else {
            panic!()
        };
        assert_eq!(cpu.resource_label, None);
        // Without requests_per_target, no third policy.
        let mut config = config;
        config.autoscaling.as_mut().unwrap().requests_per_target = None;
        let s = Settings::resolve_unchecked(&config, Environment::Production)
            .on(ServiceMesh::ServiceConnect);
        assert!(super::super::expand::expand(&s, &p)
            .get(mk::SCALING_POLICY_REQUESTS)
            .is_none());
    }

    #[test]
    fn long_names_keep_the_platform_prefix_within_32_characters() {
        let n = target_group_name("matbakh", "a-very-long-service-name-of-many-words", 'g');
        assert!(
            n.len() <= 32 && n.starts_with("matbakh-") && n.ends_with("-g"),
            "{n}"
        );
        assert_ne!(
            n,
            target_group_name("matbakh", "a-very-long-service-name-of-many-wordz", 'g')
        );
        assert!(!n.contains("--"), "{n}");
    }
}
