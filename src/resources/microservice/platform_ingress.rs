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
pub async fn find(configured: &Configured, settings: &Settings) -> Result<PlatformIngress, String> {
    let aws = &configured.clients;
    let Some(found) = platform_ingress(aws, &settings.platform)
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
    let found = match rules_on(&configured.clients, &alb.listener_arn).await {
        Ok(found) => found,
        // The apply says what AWS answered.
        Err(_) => Vec::new(),
    };
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
