//! A microservice's listener rule on one of the platform's listeners. Its
//! id is its ARN; a listener has at most one rule per priority, which is
//! how a leftover is found.
//!
//! The forward action's weights belong to ECS once the service runs (a
//! release moves them between the two target groups): they are sent at
//! create only, and never compared or reverted.

use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, ForwardActionConfig, HostHeaderConditionConfig,
    PathPatternConditionConfig, Rule, RuleCondition, RulePriorityPair, TargetGroupTuple,
};

use super::{put_tags, sdk_tags, tags_of};
use crate::aws::compare::{absent_if_not_found, gone_is_ok};
use crate::aws::{tags, Adapter, AwsError, Clients};
use crate::engine::{Observation, Resolved};
use crate::spec::elbv2::ListenerRuleSpec;

/// The rule with this ARN. A refresh finds it in its listener's rules,
/// listed once for every refresh of the process
/// ([`super::lookup::listener_rules`]): a plan of N microservices lists
/// each listener once instead of a DescribeRules per rule.
async fn describe(aws: &Clients, arn: &str) -> Result<Option<Rule>, AwsError> {
    if aws.memo.is_some() {
        let Some(rules) = super::lookup::listener_rules(aws, &listener_of(arn), true).await? else {
            return Ok(None);
        };
        return Ok(rules.into_iter().find(|r| r.rule_arn() == Some(arn)));
    }
    let out = absent_if_not_found(
        aws.elbv2
            .describe_rules()
            .rule_arns(arn)
            .send()
            .await
            .map_err(|e| AwsError::sdk("elasticloadbalancing:DescribeRules", e)),
    )?;
    Ok(out.and_then(|o| o.rules().first().cloned()))
}

/// The ARN of the listener a rule ARN is on: `...:listener-rule/app/LB/ID/L/R`
/// is on `...:listener/app/LB/ID/L`.
fn listener_of(rule_arn: &str) -> String {
    rule_arn
        .replacen(":listener-rule/", ":listener/", 1)
        .rsplit_once('/')
        .map(|(l, _)| l.to_string())
        .unwrap_or_default()
}

/// The sorted values of the rule's condition on `field`.
fn condition_values(rule: &Rule, field: &str) -> Vec<String> {
    let mut v: Vec<String> = rule
        .conditions()
        .iter()
        .filter(|c| c.field() == Some(field))
        .flat_map(|c| match field {
            "path-pattern" => c
                .path_pattern_config()
                .map(|p| p.values().to_vec())
                .unwrap_or_else(|| c.values().to_vec()),
            _ => c
                .host_header_config()
                .map(|h| h.values().to_vec())
                .unwrap_or_else(|| c.values().to_vec()),
        })
        .collect();
    v.sort();
    v
}

impl ListenerRuleSpec {
    fn conditions(&self) -> Vec<RuleCondition> {
        let mut out = vec![RuleCondition::builder()
            .field("path-pattern")
            .path_pattern_config(
                PathPatternConditionConfig::builder()
                    .set_values(Some(self.paths.clone()))
                    .build(),
            )
            .build()];
        if !self.hosts.is_empty() {
            out.push(
                RuleCondition::builder()
                    .field("host-header")
                    .host_header_config(
                        HostHeaderConditionConfig::builder()
                            .set_values(Some(self.hosts.clone()))
                            .build(),
                    )
                    .build(),
            );
        }
        out
    }

    fn action(&self, resolved: &Resolved) -> Result<Action, AwsError> {
        let groups = self
            .forward
            .iter()
            .map(|(r, weight)| {
                let arn = resolved.get(&r.0).ok_or_else(|| {
                    AwsError::new(
                        "elasticloadbalancing:CreateRule",
                        format!("component {} has no ARN yet", r.0),
                    )
                })?;
                Ok(TargetGroupTuple::builder()
                    .target_group_arn(arn)
                    .weight(i32::from(*weight))
                    .build())
            })
            .collect::<Result<Vec<_>, AwsError>>()?;
        Ok(Action::builder()
            .r#type(ActionTypeEnum::Forward)
            .forward_config(
                ForwardActionConfig::builder()
                    .set_target_groups(Some(groups))
                    .build(),
            )
            .build())
    }

    /// The rule with this priority on the listener, if any (every page of
    /// the listener's rules).
    async fn at_priority(&self, aws: &Clients) -> Result<Option<String>, AwsError> {
        let rules = super::lookup::listener_rules(aws, &self.listener_arn, false)
            .await?
            .unwrap_or_default();
        Ok(rules
            .iter()
            .find(|r| r.priority() == Some(self.priority.to_string().as_str()))
            .and_then(|r| r.rule_arn().map(str::to_string)))
    }
}

#[async_trait]
impl Adapter for ListenerRuleSpec {
    async fn observe(
        &self,
        aws: &Clients,
        id: &str,
        _resolved: &Resolved,
    ) -> Result<Observation, AwsError> {
        let Some(rule) = describe(aws, id).await? else {
            return Ok(Observation::Missing);
        };
        if !id.contains(
            self.listener_arn
                .split_once(":listener/")
                .map(|(_, l)| l)
                .unwrap_or("?"),
        ) {
            // The platform's listener was made again: this rule went with
            // the old one.
            return Ok(Observation::Missing);
        }
        let mut diffs = Vec::new();
        if rule.priority() != Some(self.priority.to_string().as_str()) {
            diffs.push(format!(
                "priority is {:?}, want {}",
                rule.priority(),
                self.priority
            ));
        }
        let paths = condition_values(&rule, "path-pattern");
        if paths != self.paths {
            diffs.push(format!("paths are {paths:?}, want {:?}", self.paths));
        }
        let hosts = condition_values(&rule, "host-header");
        if hosts != self.hosts {
            diffs.push(format!("hosts are {hosts:?}, want {:?}", self.hosts));
        }
        diffs.extend(tags::differences(&self.tags, &tags_of(aws, id).await?));
        Ok(Observation::with_differences(diffs))
    }

    async fn create(&self, aws: &Clients, resolved: &Resolved) -> Result<String, AwsError> {
        const CALL: &str = "elasticloadbalancing:CreateRule";
        if let Some(arn) = self.at_priority(aws).await? {
            let found_tags = tags_of(aws, &arn).await?;
            tags::claim(
                CALL,
                "listener rule",
                &format!("priority {}", self.priority),
                &self.tags,
                &found_tags,
            )?;
            return self.update(aws, &arn, resolved).await;
        }
        let out = aws
            .elbv2
            .create_rule()
            .listener_arn(&self.listener_arn)
            .priority(self.priority as i32)
            .set_conditions(Some(self.conditions()))
            .actions(self.action(resolved)?)
            .set_tags(Some(sdk_tags(&self.tags)))
            .send()
            .await
            .map_err(|e| AwsError::sdk(CALL, e))?;
        out.rules()
            .first()
            .and_then(|r| r.rule_arn())
            .map(str::to_string)
            .ok_or_else(|| AwsError::new(CALL, "the answer named no rule"))
    }

    async fn update(
        &self,
        aws: &Clients,
        id: &str,
        resolved: &Resolved,
    ) -> Result<String, AwsError> {
        let Some(rule) = describe(aws, id).await? else {
            return self.create(aws, resolved).await;
        };
        if rule.priority() != Some(self.priority.to_string().as_str()) {
            aws.elbv2
                .set_rule_priorities()
                .rule_priorities(
                    RulePriorityPair::builder()
                        .rule_arn(id)
                        .priority(self.priority as i32)
                        .build(),
                )
                .send()
                .await
                .map_err(|e| AwsError::sdk("elasticloadbalancing:SetRulePriorities", e))?;
        }
        // Conditions only: the actions' weights are ECS's (see the top).
        aws.elbv2
            .modify_rule()
            .rule_arn(id)
            .set_conditions(Some(self.conditions()))
            .send()
            .await
            .map_err(|e| AwsError::sdk("elasticloadbalancing:ModifyRule", e))?;
        put_tags(aws, id, &self.tags).await?;
        Ok(id.to_string())
    }

    async fn delete(&self, aws: &Clients, id: &str) -> Result<(), AwsError> {
        gone_is_ok(
            aws.elbv2
                .delete_rule()
                .rule_arn(id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| AwsError::sdk("elasticloadbalancing:DeleteRule", e)),
        )
    }
}

/// The forward action's target groups (ARNs) and weights of the rule with
/// this ARN, as AWS holds them now; empty when the rule does not exist.
pub async fn weights(aws: &Clients, arn: &str) -> Result<Vec<(String, u8)>, AwsError> {
    Ok(describe(aws, arn)
        .await?
        .map(|rule| {
            rule.actions()
                .iter()
                .filter_map(|a| a.forward_config())
                .flat_map(|f| f.target_groups())
                .map(|t| {
                    (
                        t.target_group_arn().unwrap_or_default().to_string(),
                        t.weight().unwrap_or(0).clamp(0, 255) as u8,
                    )
                })
                .collect()
        })
        .unwrap_or_default())
}

/// The rule with this ARN as a spec (its listener by ARN; the forward
/// action's groups by ARN, their weights as AWS holds them).
pub async fn read_back(aws: &Clients, arn: &str) -> Result<Option<ListenerRuleSpec>, AwsError> {
    let Some(rule) = describe(aws, arn).await? else {
        return Ok(None);
    };
    let forward = rule
        .actions()
        .iter()
        .filter_map(|a| a.forward_config())
        .flat_map(|f| f.target_groups())
        .map(|t| {
            (
                crate::spec::Ref(t.target_group_arn().unwrap_or_default().to_string()),
                t.weight().unwrap_or(0).clamp(0, 255) as u8,
            )
        })
        .collect();
    Ok(Some(ListenerRuleSpec {
        listener_arn: listener_of(arn),
        priority: rule.priority().and_then(|p| p.parse().ok()).unwrap_or(0),
        paths: condition_values(&rule, "path-pattern"),
        hosts: condition_values(&rule, "host-header"),
        forward,
        tags: tags_of(aws, arn).await?,
    }))
}
