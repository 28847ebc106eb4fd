//! The platform's load balancer a microservice with `ingress` goes behind,
//! looked up in AWS, and the plan-time check that its rule collides with
//! no other service's of the platform (same priority, or same paths and
//! hosts: AWS refuses the first, the second would never see a request),
//! a plan error naming both: the rules on the listener and those planned
//! in this process ([`super::planned_rules`]), so two services created in
//! one apply are judged too.

use super::config::Settings;
use super::ingress::{collisions, OtherRule};
use super::platform::PlatformIngress;
use crate::aws::elbv2::lookup::{platform_ingress, rules_on};
use crate::budget_guard::Verdict;
use crate::resources::context::Configured;

/// The platform's ingress objects, or why the service cannot go behind it.
/// A refresh or a plan (which does not confirm platforms) takes the lookup
/// its process shares once it refreshed; an apply asks AWS.
pub async fn find(configured: &Configured, settings: &Settings) -> Result<PlatformIngress, String> {
    let aws = &configured.clients;
    let in_plan = !configured.confirm_platforms;
    let Some(found) = platform_ingress(aws, &settings.platform, in_plan)
        .await
        .map_err(|e| e.to_string())?
    else {
        return Err(format!(
            "ingress: platform {:?} has no load balancer in {}: add an `ingress` block to its matbakh_platform (and apply it) before a microservice's `ingress`",
            settings.platform, aws.region
        ));
    };
    Ok(PlatformIngress {
        listener_arn: found.listener_arn,
        test_listener_arn: found.test_listener_arn,
        security_group_id: found.security_group_id,
        dns_name: found.dns_name,
        https: found.https,
    })
}

/// The plan errors of `settings`' rule among the other rules on the
/// platform's production listener, each naming both services.
pub async fn collision_verdicts(
    configured: &Configured,
    settings: &Settings,
    alb: &PlatformIngress,
) -> Vec<Verdict> {
    let Some(ingress) = &settings.ingress else {
        return Vec::new();
    };
    let planned = super::planned_rules::plan(
        &configured.clients.region,
        &settings.platform,
        OtherRule {
            service: settings.name.clone(),
            priority: ingress.priority,
            paths: ingress.paths.clone(),
            hosts: ingress.hosts.clone(),
        },
    );
    // Unreadable: the planned rules are still judged; the apply says what
    // AWS answered.
    // A plan in a process that refreshed takes the rules it listed: nothing
    // was written since, and what this process planned is merged below.
    let in_plan = !configured.confirm_platforms;
    let found = rules_on(&configured.clients, &alb.listener_arn, in_plan)
        .await
        .unwrap_or_default();
    let ours = super::names::resource_id(&settings.platform, &settings.name);
    let prefix = format!("{}/", settings.platform);
    let others: Vec<OtherRule> = found
        .into_iter()
        .filter(|r| r.owner != ours)
        .map(|r| OtherRule {
            service: r
                .owner
                .strip_prefix(&prefix)
                .map(str::to_string)
                .unwrap_or_else(|| {
                    format!(
                        "a rule not of this platform's services (owner {:?})",
                        r.owner
                    )
                }),
            priority: r.priority,
            paths: r.paths,
            hosts: r.hosts,
        })
        .collect();
    let others = super::planned_rules::merged(others, planned);
    collisions(
        &settings.name,
        ingress.priority,
        &ingress.paths,
        &ingress.hosts,
        &others,
    )
    .into_iter()
    .map(|p| Verdict {
        error: true,
        summary: format!("{}: {}", p.dotted(), p.summary),
        detail: p.detail,
    })
    .collect()
}

/// The plan warning for a service with `ingress` whose own
/// `security_group_ids` admit its port from addresses (`open`: group id and
/// address range): its tasks are reachable around the load balancer. A
/// warning, not a fix: the provider never edits a group it did not make.
pub fn exposure_warning(
    name: &str,
    port: i64,
    open: &[(String, String)],
) -> Option<(String, String)> {
    if open.is_empty() {
        return None;
    }
    let listed: Vec<String> = open.iter().map(|(g, a)| format!("{g} from {a}")).collect();
    Some((
        format!("security_group_ids: port {port} open beyond the load balancer"),
        format!(
            "{name} is behind the platform's load balancer, but its security groups admit port {port} from addresses: {}. \
             Its tasks can be reached around the load balancer (its HTTPS, its rules, its allowed_cidrs). \
             The provider never edits a security group it did not make: admit the port from the groups of the namespace's services instead \
             (the load balancer's own group is admitted by the group the provider makes for {name}).",
            listed.join(", ")
        ),
    ))
}

/// [`exposure_warning`] for `settings`, reading its `security_group_ids`
/// (a plan in a process that refreshed reads each group once for all its
/// microservices).
pub async fn exposure(configured: &Configured, settings: &Settings) -> Option<(String, String)> {
    settings.ingress.as_ref()?;
    let open = crate::aws::ec2::security_group::open_to_addresses(
        &configured.clients,
        &settings.security_group_ids,
        u16::try_from(settings.port).ok()?,
        !configured.confirm_platforms,
    )
    .await
    // Only a warning is at stake: the apply reports AWS trouble.
    .ok()?;
    exposure_warning(&settings.name, settings.port, &open)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_port_open_to_addresses_is_a_warning_naming_the_group_and_range() {
        assert_eq!(exposure_warning("auth-service", 8080, &[]), None);
        let (summary, detail) =
            exposure_warning("auth-service", 8080, &[("sg-1".into(), "0.0.0.0/0".into())]).unwrap();
        assert!(summary.starts_with("security_group_ids:"), "{summary}");
        assert!(detail.contains("sg-1 from 0.0.0.0/0"), "{detail}");
        assert!(detail.contains("never edits"), "{detail}");
    }
}
