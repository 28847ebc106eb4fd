//! CloudWatch Logs: the log group of a microservice. Its id is its name.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_cloudwatchlogs::types::LogGroup;

use crate::aws::compare::gone_is_ok;
use crate::aws::{tags, Adapter, AwsError, Clients, Found};
use crate::engine::{Observation, Resolved};
use crate::spec::logs::LogGroupSpec;

impl LogGroupSpec {
    async fn find(&self, aws: &Clients, name: &str) -> Result<Option<LogGroup>, AwsError> {
        aws.remembered(format!("logs:DescribeLogGroups {name}"), || async {
            let out = aws
                .logs
                .describe_log_groups()
                .log_group_name_prefix(name)
                .send()
                .await
                .map_err(|e| AwsError::sdk("logs:DescribeLogGroups", e))?;
            Ok(out
                .log_groups()
                .iter()
                .find(|g| g.log_group_name() == Some(name))
                .cloned())
        })
        .await
    }

    // ListTagsLogGroup is deprecated in favour of ListTagsForResource, but it
    // takes the name (no ARN juggling) and every emulator implements it.
    #[allow(deprecated)]
    async fn tags_of(
        &self,
        aws: &Clients,
        name: &str,
    ) -> Result<BTreeMap<String, String>, AwsError> {
        aws.remembered(format!("logs:ListTagsLogGroup {name}"), || async {
            let out = aws
                .logs
                .list_tags_log_group()
                .log_group_name(name)
                .send()
                .await
                .map_err(|e| AwsError::sdk("logs:ListTagsLogGroup", e))?;
            Ok(out
                .tags()
                .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default())
        })
        .await
    }

    /// Read back the log group of this name; a group that never expires
    /// reports `retention_days` 0.
    pub async fn read_back(&self, aws: &Clients) -> Result<Option<Found<LogGroupSpec>>, AwsError> {
        // The tags go by name: read them at the same time as the group.
        let (group, tags) =
            futures::join!(self.find(aws, &self.name), self.tags_of(aws, &self.name));
        let Some(group) = group? else {
            return Ok(None);
        };
        let spec = LogGroupSpec {
            name: self.name.clone(),
            retention_days: group.retention_in_days().unwrap_or(0),
            tags: tags?,
        };
        Ok(Some(Found::new(spec, &self.name)))
    }

    async fn put_retention(&self, aws: &Clients, name: &str) -> Result<(), AwsError> {
        aws.logs
            .put_retention_policy()
            .log_group_name(name)
            .retention_in_days(self.retention_days)
            .send()
            .await
            .map_err(|e| AwsError::sdk("logs:PutRetentionPolicy", e))?;
        Ok(())
    }
}

#[async_trait]
impl Adapter for LogGroupSpec {
    async fn observe(
        &self,
        aws: &Clients,
        id: &str,
        _: &Resolved,
    ) -> Result<Observation, AwsError> {
        // The tags go by name: read them at the same time as the group.
        let (group, tags) = futures::join!(self.find(aws, id), self.tags_of(aws, id));
        let Some(group) = group? else {
            return Ok(Observation::Missing);
        };
        let mut diffs = Vec::new();
        if id != self.name {
            diffs.push(format!("log group name is {id}, want {}", self.name));
        }
        match group.retention_in_days() {
            Some(days) if days == self.retention_days => {}
            Some(days) => diffs.push(format!(
                "retention is {days} days, want {}",
                self.retention_days
            )),
            None => diffs.push(format!(
                "retention is unlimited, want {} days",
                self.retention_days
            )),
        }
        diffs.extend(tags::differences(&self.tags, &tags?));
        Ok(Observation::with_differences(diffs))
    }

    async fn create(&self, aws: &Clients, resolved: &Resolved) -> Result<String, AwsError> {
        let created = aws
            .logs
            .create_log_group()
            .log_group_name(&self.name)
            .set_tags(Some(self.tags.clone().into_iter().collect()))
            .send()
            .await
            .map_err(|e| AwsError::sdk("logs:CreateLogGroup", e));
        match created {
            Ok(_) => {}
            Err(e) if e.code.as_deref() == Some("ResourceAlreadyExistsException") => {
                let found = self.tags_of(aws, &self.name).await?;
                tags::claim(
                    "logs:CreateLogGroup",
                    "log group",
                    &self.name,
                    &self.tags,
                    &found,
                )?;
                return self.update(aws, &self.name, resolved).await;
            }
            Err(e) => return Err(e),
        }
        self.put_retention(aws, &self.name).await?;
        Ok(self.name.clone())
    }

    #[allow(deprecated)]
    async fn update(
        &self,
        aws: &Clients,
        id: &str,
        resolved: &Resolved,
    ) -> Result<String, AwsError> {
        if id != self.name {
            // A new name is a new log group; the old one is left to expire.
            return self.create(aws, resolved).await;
        }
        self.put_retention(aws, id).await?;
        aws.logs
            .tag_log_group()
            .log_group_name(id)
            .set_tags(Some(self.tags.clone().into_iter().collect()))
            .send()
            .await
            .map_err(|e| AwsError::sdk("logs:TagLogGroup", e))?;
        // Tags are authoritative: what else the group carries goes.
        tags::remove_unwanted(&self.tags, self.tags_of(aws, id), |keys| async move {
            aws.logs
                .untag_log_group()
                .log_group_name(id)
                .set_tags(Some(keys))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| AwsError::sdk("logs:UntagLogGroup", e))
        })
        .await?;
        Ok(id.to_string())
    }

    async fn delete(&self, aws: &Clients, id: &str) -> Result<(), AwsError> {
        gone_is_ok(
            aws.logs
                .delete_log_group()
                .log_group_name(id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| AwsError::sdk("logs:DeleteLogGroup", e)),
        )
    }
}
