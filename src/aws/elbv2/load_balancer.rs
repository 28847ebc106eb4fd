//! The platform's Application Load Balancer. Its id is its ARN; it is found
//! by its name (unique per account and region).

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::types::{
    LoadBalancer, LoadBalancerAttribute, LoadBalancerSchemeEnum, LoadBalancerTypeEnum,
};

use super::{put_tags, sdk_tags, tags_of};
use crate::aws::compare::absent_if_not_found;
use crate::aws::{tags, Adapter, AwsError, Clients, Found};
use crate::engine::{Observation, Resolved};
use crate::spec::elbv2::LoadBalancerSpec;
use crate::spec::Ref;

const IDLE_TIMEOUT: &str = "idle_timeout.timeout_seconds";

/// How long a deleted load balancer may still be reported (AWS deletes it
/// within seconds; its network interfaces take longer, which is the
/// security group's wait).
const GONE_WITHIN: Duration = Duration::from_secs(300);

fn scheme(internal: bool) -> LoadBalancerSchemeEnum {
    if internal {
        LoadBalancerSchemeEnum::Internal
    } else {
        LoadBalancerSchemeEnum::InternetFacing
    }
}

fn resolve<'a>(resolved: &'a Resolved, r: &Ref) -> Result<&'a str, AwsError> {
    resolved.get(&r.0).map(String::as_str).ok_or_else(|| {
        AwsError::new(
            "elasticloadbalancing",
            format!("component {} has no id yet", r.0),
        )
    })
}

/// The load balancer with this ARN, or with this name (`by_name`).
async fn describe(
    aws: &Clients,
    key: &str,
    by_name: bool,
) -> Result<Option<LoadBalancer>, AwsError> {
    aws.remembered(format!("elbv2:DescribeLoadBalancers {key}"), || async {
        let call = aws.elbv2.describe_load_balancers();
        let call = if by_name {
            call.names(key)
        } else {
            call.load_balancer_arns(key)
        };
        let out = absent_if_not_found(
            call.send()
                .await
                .map_err(|e| AwsError::sdk("elasticloadbalancing:DescribeLoadBalancers", e)),
        )?;
        Ok(out.and_then(|o| o.load_balancers().first().cloned()))
    })
    .await
}

/// The ALB's DNS name and Route 53 zone id (for an alias record), by ARN.
pub async fn dns_of(aws: &Clients, arn: &str) -> Result<Option<(String, String)>, AwsError> {
    Ok(describe(aws, arn, false).await?.map(|lb| {
        (
            lb.dns_name().unwrap_or("").to_string(),
            lb.canonical_hosted_zone_id().unwrap_or("").to_string(),
        )
    }))
}

async fn idle_timeout(aws: &Clients, arn: &str) -> Result<Option<u32>, AwsError> {
    let out = aws
        .elbv2
        .describe_load_balancer_attributes()
        .load_balancer_arn(arn)
        .send()
        .await
        .map_err(|e| AwsError::sdk("elasticloadbalancing:DescribeLoadBalancerAttributes", e))?;
    Ok(out
        .attributes()
        .iter()
        .find(|a| a.key() == Some(IDLE_TIMEOUT))
        .and_then(|a| a.value()?.parse().ok()))
}

fn subnets_of(lb: &LoadBalancer) -> Vec<String> {
    let mut s: Vec<String> = lb
        .availability_zones()
        .iter()
        .filter_map(|z| z.subnet_id().map(str::to_string))
        .collect();
    s.sort();
    s
}

impl LoadBalancerSpec {
    /// The load balancer of this name, as a spec (its security group by id).
    pub async fn read_back(&self, aws: &Clients) -> Result<Option<Found<Self>>, AwsError> {
        let Some(lb) = describe(aws, &self.name, true).await? else {
            return Ok(None);
        };
        let arn = lb.load_balancer_arn().unwrap_or("").to_string();
        let (timeout, found_tags) =
            futures::try_join!(idle_timeout(aws, &arn), tags_of(aws, &arn))?;
        let spec = LoadBalancerSpec {
            name: self.name.clone(),
            internal: lb.scheme() == Some(&LoadBalancerSchemeEnum::Internal),
            subnet_ids: subnets_of(&lb),
            security_group: Ref(lb.security_groups().first().cloned().unwrap_or_default()),
            idle_timeout_seconds: timeout.unwrap_or(60),
            tags: found_tags,
        };
        Ok(Some(Found::new(spec, arn)))
    }

    async fn set_idle_timeout(&self, aws: &Clients, arn: &str) -> Result<(), AwsError> {
        aws.elbv2
            .modify_load_balancer_attributes()
            .load_balancer_arn(arn)
            .attributes(
                LoadBalancerAttribute::builder()
                    .key(IDLE_TIMEOUT)
                    .value(self.idle_timeout_seconds.to_string())
                    .build(),
            )
            .send()
            .await
            .map_err(|e| AwsError::sdk("elasticloadbalancing:ModifyLoadBalancerAttributes", e))?;
        Ok(())
    }

    async fn wait_gone(&self, aws: &Clients, arn: &str) -> Result<(), AwsError> {
        let started = tokio::time::Instant::now();
        loop {
            let out = aws
                .elbv2
                .describe_load_balancers()
                .load_balancer_arns(arn)
                .send()
                .await
                .map_err(|e| AwsError::sdk("elasticloadbalancing:DescribeLoadBalancers", e));
            if absent_if_not_found(out)?.is_none() {
                return Ok(());
            }
            if started.elapsed() >= GONE_WITHIN {
                return Err(AwsError::new(
                    "elasticloadbalancing:DeleteLoadBalancer",
                    format!(
                        "load balancer {} still exists after {GONE_WITHIN:?}",
                        self.name
                    ),
                ));
            }
            crate::engine::pause(Duration::from_secs(2))
                .await
                .map_err(|_| {
                    AwsError::new(
                        "elasticloadbalancing:DeleteLoadBalancer",
                        "interrupted while waiting for the load balancer to go",
                    )
                })?;
        }
    }
}

#[async_trait]
impl Adapter for LoadBalancerSpec {
    async fn observe(
        &self,
        aws: &Clients,
        id: &str,
        resolved: &Resolved,
    ) -> Result<Observation, AwsError> {
        let Some(lb) = describe(aws, id, false).await? else {
            return Ok(Observation::Missing);
        };
        let (timeout, found_tags) = futures::try_join!(idle_timeout(aws, id), tags_of(aws, id))?;
        let mut diffs = Vec::new();
        if lb.scheme() != Some(&scheme(self.internal)) {
            diffs.push(format!(
                "scheme is {:?}, want {}",
                lb.scheme().map(|s| s.as_str()),
                scheme(self.internal).as_str()
            ));
        }
        let subnets = subnets_of(&lb);
        if subnets != self.subnet_ids {
            diffs.push(format!(
                "subnets are {subnets:?}, want {:?}",
                self.subnet_ids
            ));
        }
        let group = resolve(resolved, &self.security_group)?;
        if lb.security_groups() != [group.to_string()] {
            diffs.push(format!(
                "security groups are {:?}, want [{group:?}]",
                lb.security_groups()
            ));
        }
        if timeout != Some(self.idle_timeout_seconds) {
            diffs.push(format!(
                "idle timeout is {timeout:?} s, want {} s",
                self.idle_timeout_seconds
            ));
        }
        diffs.extend(tags::differences(&self.tags, &found_tags));
        Ok(Observation::with_differences(diffs))
    }

    async fn create(&self, aws: &Clients, resolved: &Resolved) -> Result<String, AwsError> {
        const CALL: &str = "elasticloadbalancing:CreateLoadBalancer";
        // CreateLoadBalancer answers with the existing one when one of the
        // name exists with the same settings: look first, and adopt only
        // our own leftover.
        if let Some(found) = describe(aws, &self.name, true).await? {
            let arn = found.load_balancer_arn().unwrap_or("").to_string();
            let found_tags = tags_of(aws, &arn).await?;
            tags::claim(CALL, "load balancer", &self.name, &self.tags, &found_tags)?;
            return self.update(aws, &arn, resolved).await;
        }
        let group = resolve(resolved, &self.security_group)?;
        let out = aws
            .elbv2
            .create_load_balancer()
            .name(&self.name)
            .r#type(LoadBalancerTypeEnum::Application)
            .scheme(scheme(self.internal))
            .set_subnets(Some(self.subnet_ids.clone()))
            .security_groups(group)
            .set_tags(Some(sdk_tags(&self.tags)))
            .send()
            .await
            .map_err(|e| AwsError::sdk(CALL, e))?;
        let arn = out
            .load_balancers()
            .first()
            .and_then(|lb| lb.load_balancer_arn())
            .ok_or_else(|| AwsError::new(CALL, "the answer named no load balancer"))?
            .to_string();
        self.set_idle_timeout(aws, &arn).await?;
        Ok(arn)
    }

    async fn update(
        &self,
        aws: &Clients,
        id: &str,
        resolved: &Resolved,
    ) -> Result<String, AwsError> {
        let Some(lb) = describe(aws, id, false).await? else {
            return self.create(aws, resolved).await;
        };
        if lb.scheme() != Some(&scheme(self.internal)) {
            // AWS cannot change a scheme: a new load balancer of the same
            // name (a new DNS name); its listeners are made again on it.
            self.delete(aws, id).await?;
            return self.create(aws, resolved).await;
        }
        let group = resolve(resolved, &self.security_group)?;
        if subnets_of(&lb) != self.subnet_ids {
            aws.elbv2
                .set_subnets()
                .load_balancer_arn(id)
                .set_subnets(Some(self.subnet_ids.clone()))
                .send()
                .await
                .map_err(|e| AwsError::sdk("elasticloadbalancing:SetSubnets", e))?;
        }
        if lb.security_groups() != [group.to_string()] {
            aws.elbv2
                .set_security_groups()
                .load_balancer_arn(id)
                .security_groups(group)
                .send()
                .await
                .map_err(|e| AwsError::sdk("elasticloadbalancing:SetSecurityGroups", e))?;
        }
        self.set_idle_timeout(aws, id).await?;
        put_tags(aws, id, &self.tags).await?;
        Ok(id.to_string())
    }

    /// Deleting a load balancer deletes its listeners and their rules.
    async fn delete(&self, aws: &Clients, id: &str) -> Result<(), AwsError> {
        let sent = aws
            .elbv2
            .delete_load_balancer()
            .load_balancer_arn(id)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::sdk("elasticloadbalancing:DeleteLoadBalancer", e));
        if absent_if_not_found(sent)?.is_none() {
            return Ok(());
        }
        self.wait_gone(aws, id).await
    }
}
