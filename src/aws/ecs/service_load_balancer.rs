//! The ECS service's side of ingress (issue 21): its `loadBalancers`
//! entry with `advancedConfiguration`, the health check grace period and
//! the microservice's own security group beside the user's.
//!
//! After a blue/green, canary or linear release ECS serves from the other
//! target group and names it in `loadBalancers`: which of the two groups
//! is primary is ECS's, so only the pair is compared, never the order.

use aws_sdk_ecs::types::{AdvancedConfiguration, LoadBalancer, Service};

use crate::aws::AwsError;
use crate::engine::Resolved;
use crate::spec::ecs::{EcsLoadBalancerSpec, EcsServiceSpec};
use crate::spec::Ref;

fn id<'a>(resolved: &'a Resolved, r: &Ref) -> Result<&'a str, AwsError> {
    resolved
        .get(&r.0)
        .map(String::as_str)
        .ok_or_else(|| AwsError::new("ecs", format!("component {} has no id yet", r.0)))
}

/// The service's security groups: the user's and, with ingress, its own.
pub fn wanted_groups(spec: &EcsServiceSpec, resolved: &Resolved) -> Result<Vec<String>, AwsError> {
    let mut groups = spec.security_groups.clone();
    if let Some(lb) = &spec.load_balancer {
        groups.push(id(resolved, &lb.security_group)?.to_string());
    }
    groups.sort();
    groups.dedup();
    Ok(groups)
}

/// `loadBalancers` as sent: empty without ingress (which, in an update,
/// takes the load balancer off).
pub fn wanted(spec: &EcsServiceSpec, resolved: &Resolved) -> Result<Vec<LoadBalancer>, AwsError> {
    let Some(lb) = &spec.load_balancer else {
        return Ok(Vec::new());
    };
    Ok(vec![entry(
        lb,
        resolved,
        id(resolved, &lb.target_group)?,
        id(resolved, &lb.alternate_target_group)?,
    )?])
}

fn entry(
    lb: &EcsLoadBalancerSpec,
    resolved: &Resolved,
    primary: &str,
    alternate: &str,
) -> Result<LoadBalancer, AwsError> {
    Ok(LoadBalancer::builder()
        .target_group_arn(primary)
        .container_name(&lb.container_name)
        .container_port(lb.container_port)
        .advanced_configuration(
            AdvancedConfiguration::builder()
                .alternate_target_group_arn(alternate)
                .production_listener_rule(id(resolved, &lb.production_rule)?)
                .test_listener_rule(id(resolved, &lb.test_rule)?)
                .role_arn(&lb.role_arn)
                .build(),
        )
        .build())
}

/// The entry to send in an update: the wanted one, keeping the target
/// group ECS serves from now as primary (a release may have swapped them).
pub fn for_update(
    spec: &EcsServiceSpec,
    service: &Service,
    resolved: &Resolved,
) -> Result<Vec<LoadBalancer>, AwsError> {
    let Some(lb) = &spec.load_balancer else {
        return Ok(Vec::new());
    };
    let (a, b) = (
        id(resolved, &lb.target_group)?,
        id(resolved, &lb.alternate_target_group)?,
    );
    let live = service
        .load_balancers()
        .first()
        .and_then(|l| l.target_group_arn());
    let (primary, alternate) = if live == Some(b) { (b, a) } else { (a, b) };
    Ok(vec![entry(lb, resolved, primary, alternate)?])
}

/// What differs between the service's load balancer and the wanted one.
pub fn differences(spec: &EcsServiceSpec, service: &Service, resolved: &Resolved) -> Vec<String> {
    let found = service.load_balancers();
    let Some(lb) = &spec.load_balancer else {
        return if found.is_empty() {
            Vec::new()
        } else {
            vec!["a load balancer is attached, want none".to_string()]
        };
    };
    let [f] = found else {
        return vec![format!(
            "{} load balancers are attached, want one",
            found.len()
        )];
    };
    let get = |r: &Ref| resolved.get(&r.0).map(String::as_str);
    let mut diffs = Vec::new();
    let advanced = f.advanced_configuration();
    let mut pair_found = [
        f.target_group_arn(),
        advanced.and_then(|a| a.alternate_target_group_arn()),
    ];
    let mut pair_wanted = [get(&lb.target_group), get(&lb.alternate_target_group)];
    pair_found.sort();
    pair_wanted.sort();
    if pair_found != pair_wanted {
        diffs.push(format!(
            "target groups are {pair_found:?}, want {pair_wanted:?}"
        ));
    }
    if f.container_name() != Some(lb.container_name.as_str())
        || f.container_port() != Some(lb.container_port)
    {
        diffs.push(format!(
            "load balancer container is {:?}:{:?}, want {}:{}",
            f.container_name(),
            f.container_port(),
            lb.container_name,
            lb.container_port
        ));
    }
    let rules = (
        advanced.and_then(|a| a.production_listener_rule()),
        advanced.and_then(|a| a.test_listener_rule()),
    );
    if rules != (get(&lb.production_rule), get(&lb.test_rule)) {
        diffs.push(format!(
            "listener rules are {rules:?}, want the production and test rules"
        ));
    }
    if advanced.and_then(|a| a.role_arn()) != Some(lb.role_arn.as_str()) {
        diffs.push(format!(
            "load balancer role is {:?}, want {}",
            advanced.and_then(|a| a.role_arn()),
            lb.role_arn
        ));
    }
    if service.health_check_grace_period_seconds() != Some(lb.health_check_grace_period_seconds) {
        diffs.push(format!(
            "health check grace period is {:?}s, want {}s",
            service.health_check_grace_period_seconds(),
            lb.health_check_grace_period_seconds
        ));
    }
    diffs
}

/// The load balancer AWS reports, its objects by ARN (`Ref`s holding the
/// ARNs, not component keys); the security group is left empty: ECS does
/// not say which of the service's groups is the one for the load balancer.
pub fn read_back(service: &Service) -> Option<Box<EcsLoadBalancerSpec>> {
    let lb = service.load_balancers().first()?;
    let advanced = lb.advanced_configuration();
    let arn = |v: Option<&str>| Ref(v.unwrap_or_default().to_string());
    Some(Box::new(EcsLoadBalancerSpec {
        target_group: arn(lb.target_group_arn()),
        alternate_target_group: arn(advanced.and_then(|a| a.alternate_target_group_arn())),
        production_rule: arn(advanced.and_then(|a| a.production_listener_rule())),
        test_rule: arn(advanced.and_then(|a| a.test_listener_rule())),
        role_arn: advanced
            .and_then(|a| a.role_arn())
            .unwrap_or_default()
            .to_string(),
        container_name: lb.container_name().unwrap_or_default().to_string(),
        container_port: lb.container_port().unwrap_or_default(),
        health_check_grace_period_seconds: service
            .health_check_grace_period_seconds()
            .unwrap_or_default(),
        security_group: Ref(String::new()),
    }))
}

#[cfg(test)]
mod tests {
    //! After a release ECS serves from the other group and names it first
    //! (issue 21 item 4): read, never reverted.
    use super::*;

    const BLUE: &str = "arn:aws:elasticloadbalancing:eu-central-1:123456789012:targetgroup/m-a-b/1";
    const GREEN: &str =
        "arn:aws:elasticloadbalancing:eu-central-1:123456789012:targetgroup/m-a-g/2";
    const RULE: &str =
        "arn:aws:elasticloadbalancing:eu-central-1:123456789012:listener-rule/app/m/1/443/3";
    const TEST_RULE: &str =
        "arn:aws:elasticloadbalancing:eu-central-1:123456789012:listener-rule/app/m/1/8443/4";
    const ROLE: &str = "arn:aws:iam::123456789012:role/matbakh-eu-central-1-alb-traffic";

    fn spec() -> EcsServiceSpec {
        EcsServiceSpec {
            cluster: "matbakh".into(),
            name: "auth".into(),
            task_definition: Ref::to("task_definition"),
            desired_count: 1,
            desired_count_managed_by_autoscaling: false,
            capacity_provider_strategy: vec![],
            subnets: vec![],
            security_groups: vec![],
            registry: None,
            service_connect: None,
            circuit_breaker_rollback: false,
            minimum_healthy_percent: 100,
            maximum_percent: 200,
            deployment: Default::default(),
            wait_for_steady_state: true,
            load_balancer: Some(Box::new(EcsLoadBalancerSpec {
                target_group: Ref::to("blue"),
                alternate_target_group: Ref::to("green"),
                production_rule: Ref::to("rule"),
                test_rule: Ref::to("test_rule"),
                role_arn: ROLE.into(),
                container_name: "app".into(),
                container_port: 8080,
                health_check_grace_period_seconds: 60,
                security_group: Ref::to("group"),
            })),
            tags: Default::default(),
        }
    }

    fn resolved() -> Resolved {
        [
            ("blue", BLUE),
            ("green", GREEN),
            ("rule", RULE),
            ("test_rule", TEST_RULE),
            ("group", "sg-0own"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    /// The service as ECS describes it, `primary` first.
    fn service(primary: &str, alternate: &str) -> Service {
        Service::builder()
            .load_balancers(
                LoadBalancer::builder()
                    .target_group_arn(primary)
                    .container_name("app")
                    .container_port(8080)
                    .advanced_configuration(
                        AdvancedConfiguration::builder()
                            .alternate_target_group_arn(alternate)
                            .production_listener_rule(RULE)
                            .test_listener_rule(TEST_RULE)
                            .role_arn(ROLE)
                            .build(),
                    )
                    .build(),
            )
            .health_check_grace_period_seconds(60)
            .build()
    }

    #[test]
    fn a_release_that_swapped_the_groups_is_no_difference() {
        assert!(differences(&spec(), &service(BLUE, GREEN), &resolved()).is_empty());
        assert!(differences(&spec(), &service(GREEN, BLUE), &resolved()).is_empty());
        let other = "arn:aws:elasticloadbalancing:eu-central-1:123456789012:targetgroup/x/9";
        assert_eq!(
            differences(&spec(), &service(other, BLUE), &resolved()).len(),
            1
        );
    }

    #[test]
    fn an_update_keeps_the_group_ecs_serves_from_first() {
        for (primary, alternate) in [(BLUE, GREEN), (GREEN, BLUE)] {
            let sent = for_update(&spec(), &service(primary, alternate), &resolved()).unwrap();
            let advanced = sent[0].advanced_configuration().unwrap();
            assert_eq!(
                (
                    sent[0].target_group_arn(),
                    advanced.alternate_target_group_arn()
                ),
                (Some(primary), Some(alternate))
            );
        }
    }
}
