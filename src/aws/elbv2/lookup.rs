//! The platform's load balancer as its microservices see it: found by the
//! platform's name and owner tag, with the listeners their rules go on.

use aws_sdk_elasticloadbalancingv2::types::{ActionTypeEnum, Listener, ProtocolEnum};

use super::tags_of;
use crate::aws::compare::absent_if_not_found;
use crate::aws::{AwsError, Clients};
use crate::spec::OWNER_TAG;

/// What a microservice's rules and security group refer to.
#[derive(Clone, Debug, PartialEq)]
pub struct FoundIngress {
    /// HTTPS on 443, else (internal, no certificate) HTTP on 80.
    pub listener_arn: String,
    pub https: bool,
    /// The listener on neither 80 nor 443: the test listener.
    pub test_listener_arn: String,
    pub security_group_id: String,
    pub dns_name: String,
}

fn redirects(l: &Listener) -> bool {
    l.default_actions()
        .iter()
        .any(|a| a.r#type() == Some(&ActionTypeEnum::Redirect))
}

/// The load balancer named `platform` whose owner tag names it, and its
/// listeners; `None` when there is none (the platform has no `ingress`) or
/// a listener is missing.
pub async fn platform_ingress(
    aws: &Clients,
    platform: &str,
) -> Result<Option<FoundIngress>, AwsError> {
    let found = absent_if_not_found(
        aws.elbv2
            .describe_load_balancers()
            .names(platform)
            .send()
            .await
            .map_err(|e| AwsError::sdk("elasticloadbalancing:DescribeLoadBalancers", e)),
    )?;
    let Some(lb) = found.and_then(|o| o.load_balancers().first().cloned()) else {
        return Ok(None);
    };
    let arn = lb.load_balancer_arn().unwrap_or_default().to_string();
    if tags_of(aws, &arn).await?.get(OWNER_TAG).map(String::as_str) != Some(platform) {
        return Ok(None);
    }
    let listeners = aws
        .elbv2
        .describe_listeners()
        .load_balancer_arn(&arn)
        .send()
        .await
        .map_err(|e| AwsError::sdk("elasticloadbalancing:DescribeListeners", e))?;
    let on = |port: i32| {
        listeners
            .listeners()
            .iter()
            .find(|l| l.port() == Some(port) && !redirects(l))
    };
    let production = on(443).or_else(|| on(80));
    let test = listeners
        .listeners()
        .iter()
        .find(|l| !matches!(l.port(), Some(80) | Some(443)));
    let (Some(production), Some(test)) = (production, test) else {
        return Ok(None);
    };
    Ok(Some(FoundIngress {
        listener_arn: production.listener_arn().unwrap_or_default().to_string(),
        https: production.protocol() == Some(&ProtocolEnum::Https),
        test_listener_arn: test.listener_arn().unwrap_or_default().to_string(),
        security_group_id: lb.security_groups().first().cloned().unwrap_or_default(),
        dns_name: lb.dns_name().unwrap_or_default().to_string(),
    }))
}

/// A rule on a listener: its priority, path and host values and owner tag.
#[derive(Clone, Debug, PartialEq)]
pub struct FoundRule {
    pub priority: u32,
    pub paths: Vec<String>,
    pub hosts: Vec<String>,
    /// `matbakh:owner`, empty when it has none.
    pub owner: String,
}

/// Every rule on the listener but its default one.
pub async fn rules_on(aws: &Clients, listener_arn: &str) -> Result<Vec<FoundRule>, AwsError> {
    let out = aws
        .elbv2
        .describe_rules()
        .listener_arn(listener_arn)
        .send()
        .await
        .map_err(|e| AwsError::sdk("elasticloadbalancing:DescribeRules", e))?;
    let mut found = Vec::new();
    for rule in out.rules() {
        let Some(priority) = rule.priority().and_then(|p| p.parse().ok()) else {
            continue; // "default"
        };
        let values = |field: &str| -> Vec<String> {
            let mut v: Vec<String> = rule
                .conditions()
                .iter()
                .filter(|c| c.field() == Some(field))
                .flat_map(|c| {
                    let own = match field {
                        "path-pattern" => c.path_pattern_config().map(|p| p.values().to_vec()),
                        _ => c.host_header_config().map(|h| h.values().to_vec()),
                    };
                    own.unwrap_or_else(|| c.values().to_vec())
                })
                .collect();
            v.sort();
            v
        };
        let arn = rule.rule_arn().unwrap_or_default();
        let owner = tags_of(aws, arn)
            .await?
            .get(OWNER_TAG)
            .cloned()
            .unwrap_or_default();
        found.push(FoundRule {
            priority,
            paths: values("path-pattern"),
            hosts: values("host-header"),
            owner,
        });
    }
    Ok(found)
}

/// The owner tags of every rule on the listeners of load balancer `arn`
/// (none when it is gone).
pub async fn services_with_rules(aws: &Clients, arn: &str) -> Result<Vec<String>, AwsError> {
    let listeners = absent_if_not_found(
        aws.elbv2
            .describe_listeners()
            .load_balancer_arn(arn)
            .send()
            .await
            .map_err(|e| AwsError::sdk("elasticloadbalancing:DescribeListeners", e)),
    )?;
    let mut owners = Vec::new();
    for l in listeners.iter().flat_map(|o| o.listeners()) {
        let Some(listener) = l.listener_arn() else {
            continue;
        };
        owners.extend(
            rules_on(aws, listener)
                .await?
                .into_iter()
                .map(|r| r.owner)
                .filter(|o| !o.is_empty()),
        );
    }
    Ok(owners)
}
