//! The platform's load balancer a microservice with `ingress` goes behind,
//! looked up in AWS, and the plan-time check that its rule collides with
//! no other service's of the platform (same priority, or same paths and
//! hosts: AWS refuses the first, the second would never see a request).

use super::config::Settings;
use super::ingress::{collisions, OtherRule};
use super::platform::PlatformIngress;
use crate::aws::elbv2::lookup::{platform_ingress, rules_on};
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
    if let Some(ingress) = &settings.ingress {
        let ours = super::names::resource_id(&settings.platform, &settings.name);
        let prefix = format!("{}/", settings.platform);
        let others: Vec<OtherRule> = rules_on(aws, &found.listener_arn)
            .await
            .map_err(|e| e.to_string())?
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
        let problems = collisions(
            &settings.name,
            ingress.priority,
            &ingress.paths,
            &ingress.hosts,
            &others,
        );
        if !problems.is_empty() {
            return Err(problems
                .iter()
                .map(|p| format!("{}: {}", p.dotted(), p.detail))
                .collect::<Vec<_>>()
                .join("\n"));
        }
    }
    Ok(PlatformIngress {
        listener_arn: found.listener_arn,
        test_listener_arn: found.test_listener_arn,
        security_group_id: found.security_group_id,
        dns_name: found.dns_name,
        https: found.https,
    })
}
