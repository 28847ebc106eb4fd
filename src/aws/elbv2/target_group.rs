//! A microservice's target group. Its id is its ARN; it is found by its
//! name (unique per account and region).

use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::types::{
    ProtocolEnum, TargetGroup, TargetGroupAttribute, TargetTypeEnum,
};

use super::{put_tags, sdk_tags, tags_of};
use crate::aws::compare::{absent_if_not_found, gone_is_ok};
use crate::aws::{tags, Adapter, AwsError, Clients, Found};
use crate::engine::{Observation, Resolved};
use crate::spec::elbv2::TargetGroupSpec;

const DEREGISTRATION_DELAY: &str = "deregistration_delay.timeout_seconds";

/// The target group with this ARN, or with this name (`by_name`).
async fn describe(
    aws: &Clients,
    key: &str,
    by_name: bool,
) -> Result<Option<TargetGroup>, AwsError> {
    aws.remembered(format!("elbv2:DescribeTargetGroups {key}"), || async {
        let call = aws.elbv2.describe_target_groups();
        let call = if by_name {
            call.names(key)
        } else {
            call.target_group_arns(key)
        };
        let out = absent_if_not_found(
            call.send()
                .await
                .map_err(|e| AwsError::sdk("elasticloadbalancing:DescribeTargetGroups", e)),
        )?;
        Ok(out.and_then(|o| o.target_groups().first().cloned()))
    })
    .await
}

async fn deregistration_delay(aws: &Clients, arn: &str) -> Result<Option<u32>, AwsError> {
    let out = aws
        .elbv2
        .describe_target_group_attributes()
        .target_group_arn(arn)
        .send()
        .await
        .map_err(|e| AwsError::sdk("elasticloadbalancing:DescribeTargetGroupAttributes", e))?;
    Ok(out
        .attributes()
        .iter()
        .find(|a| a.key() == Some(DEREGISTRATION_DELAY))
        .and_then(|a| a.value()?.parse().ok()))
}

impl TargetGroupSpec {
    async fn vpc(&self, aws: &Clients) -> Result<String, AwsError> {
        const CALL: &str = "ec2:DescribeSubnets";
        let out = aws
            .ec2
            .describe_subnets()
            .subnet_ids(&self.subnet_id)
            .send()
            .await
            .map_err(|e| AwsError::sdk(CALL, e))?;
        out.subnets()
            .first()
            .and_then(|s| s.vpc_id())
            .map(str::to_string)
            .ok_or_else(|| AwsError::new(CALL, format!("subnet {} not found", self.subnet_id)))
    }

    /// The target group of this name, as a spec.
    pub async fn read_back(&self, aws: &Clients) -> Result<Option<Found<Self>>, AwsError> {
        let Some(tg) = describe(aws, &self.name, true).await? else {
            return Ok(None);
        };
        let arn = tg.target_group_arn().unwrap_or("").to_string();
        let (delay, found_tags) =
            futures::try_join!(deregistration_delay(aws, &arn), tags_of(aws, &arn))?;
        let spec = TargetGroupSpec {
            name: self.name.clone(),
            port: tg.port().unwrap_or(0) as u16,
            subnet_id: self.subnet_id.clone(),
            health_check_path: tg.health_check_path().unwrap_or("/").to_string(),
            deregistration_delay_seconds: delay.unwrap_or(300),
            tags: found_tags,
        };
        Ok(Some(Found::new(spec, arn)))
    }

    async fn set_attributes(&self, aws: &Clients, arn: &str) -> Result<(), AwsError> {
        aws.elbv2
            .modify_target_group_attributes()
            .target_group_arn(arn)
            .attributes(
                TargetGroupAttribute::builder()
                    .key(DEREGISTRATION_DELAY)
                    .value(self.deregistration_delay_seconds.to_string())
                    .build(),
            )
            .send()
            .await
            .map_err(|e| AwsError::sdk("elasticloadbalancing:ModifyTargetGroupAttributes", e))?;
        Ok(())
    }
}

#[async_trait]
impl Adapter for TargetGroupSpec {
    async fn observe(
        &self,
        aws: &Clients,
        id: &str,
        _resolved: &Resolved,
    ) -> Result<Observation, AwsError> {
        let Some(tg) = describe(aws, id, false).await? else {
            return Ok(Observation::Missing);
        };
        let mut diffs = Vec::new();
        if tg.port() != Some(i32::from(self.port)) {
            // AWS cannot change a target group's port: a new group.
            return Ok(Observation::Missing);
        }
        if tg.health_check_path() != Some(self.health_check_path.as_str()) {
            diffs.push(format!(
                "health check path is {:?}, want {:?}",
                tg.health_check_path(),
                self.health_check_path
            ));
        }
        let (delay, found_tags) =
            futures::try_join!(deregistration_delay(aws, id), tags_of(aws, id))?;
        if delay != Some(self.deregistration_delay_seconds) {
            diffs.push(format!(
                "deregistration delay is {delay:?}s, want {}s",
                self.deregistration_delay_seconds
            ));
        }
        diffs.extend(tags::differences(&self.tags, &found_tags));
        Ok(Observation::with_differences(diffs))
    }

    async fn create(&self, aws: &Clients, resolved: &Resolved) -> Result<String, AwsError> {
        const CALL: &str = "elasticloadbalancing:CreateTargetGroup";
        if let Some(found) = describe(aws, &self.name, true).await? {
            let arn = found.target_group_arn().unwrap_or("").to_string();
            let found_tags = tags_of(aws, &arn).await?;
            tags::claim(CALL, "target group", &self.name, &self.tags, &found_tags)?;
            if found.port() == Some(i32::from(self.port)) {
                return self.update(aws, &arn, resolved).await;
            }
            // Our own leftover on another port: AWS cannot change a port.
            self.delete(aws, &arn).await?;
        }
        let vpc = self.vpc(aws).await?;
        let out = aws
            .elbv2
            .create_target_group()
            .name(&self.name)
            .protocol(ProtocolEnum::Http)
            .port(i32::from(self.port))
            .vpc_id(vpc)
            .target_type(TargetTypeEnum::Ip)
            .health_check_path(&self.health_check_path)
            .set_tags(Some(sdk_tags(&self.tags)))
            .send()
            .await
            .map_err(|e| AwsError::sdk(CALL, e))?;
        let arn = out
            .target_groups()
            .first()
            .and_then(|t| t.target_group_arn())
            .map(str::to_string)
            .ok_or_else(|| AwsError::new(CALL, "the answer named no target group"))?;
        self.set_attributes(aws, &arn).await?;
        Ok(arn)
    }

    async fn update(
        &self,
        aws: &Clients,
        id: &str,
        resolved: &Resolved,
    ) -> Result<String, AwsError> {
        match describe(aws, id, false).await? {
            Some(tg) if tg.port() == Some(i32::from(self.port)) => {}
            Some(_) => {
                // A new port is a new group; the old one goes when nothing
                // uses it any more (the engine deletes the old id).
                return self.create(aws, resolved).await;
            }
            None => return self.create(aws, resolved).await,
        }
        aws.elbv2
            .modify_target_group()
            .target_group_arn(id)
            .health_check_path(&self.health_check_path)
            .send()
            .await
            .map_err(|e| AwsError::sdk("elasticloadbalancing:ModifyTargetGroup", e))?;
        self.set_attributes(aws, id).await?;
        put_tags(aws, id, &self.tags).await?;
        Ok(id.to_string())
    }

    async fn delete(&self, aws: &Clients, id: &str) -> Result<(), AwsError> {
        gone_is_ok(
            aws.elbv2
                .delete_target_group()
                .target_group_arn(id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| AwsError::sdk("elasticloadbalancing:DeleteTargetGroup", e)),
        )
    }
}
