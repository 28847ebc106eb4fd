//! CloudWatch metric alarms (error rate, p95 latency, CPU).
//!
//! PutMetricAlarm creates or replaces an alarm by name, so create and update
//! send the same request. The recorded id is the alarm's ARN.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_cloudwatch::types::{
    ComparisonOperator, Dimension, Metric, MetricAlarm, MetricDataQuery, MetricStat, Tag,
};

use crate::aws::{tags, Adapter, AwsError, Clients};
use crate::engine::{Observation, Resolved};
use crate::spec::cloudwatch::{MetricAlarmSpec, MetricQuerySpec, MetricStatSpec};

fn query(q: &MetricQuerySpec) -> MetricDataQuery {
    let mut b = MetricDataQuery::builder()
        .id(&q.id)
        .return_data(q.return_data)
        .set_label(q.label.clone())
        .set_expression(q.expression.clone());
    if let Some(m) = &q.metric {
        b = b.metric_stat(
            MetricStat::builder()
                .metric(
                    Metric::builder()
                        .namespace(&m.namespace)
                        .metric_name(&m.metric_name)
                        .set_dimensions(Some(
                            m.dimensions
                                .iter()
                                .map(|(k, v)| Dimension::builder().name(k).value(v).build())
                                .collect(),
                        ))
                        .build(),
                )
                .period(m.period_seconds)
                .stat(&m.stat)
                .build(),
        );
    }
    b.build()
}

/// A query as AWS reports it, in the spec's shape, for comparison.
fn observed_query(q: &MetricDataQuery) -> MetricQuerySpec {
    MetricQuerySpec {
        id: q.id().unwrap_or_default().to_string(),
        label: q.label().map(str::to_string),
        expression: q.expression().map(str::to_string),
        metric: q.metric_stat().map(|ms| {
            let metric = ms.metric();
            MetricStatSpec {
                namespace: metric.and_then(|m| m.namespace()).unwrap_or_default().to_string(),
                metric_name: metric.and_then(|m| m.metric_name()).unwrap_or_default().to_string(),
                dimensions: metric
                    .map(|m| {
                        m.dimensions()
                            .iter()
                            .map(|d| (d.name().unwrap_or_default().to_string(), d.value().unwrap_or_default().to_string()))
                            .collect()
                    })
                    .unwrap_or_default(),
                period_seconds: ms.period().unwrap_or_default(),
                stat: ms.stat().unwrap_or_default().to_string(),
            }
        }),
        // AWS leaves ReturnData out when it is true.
        return_data: q.return_data().unwrap_or(true),
    }
}

fn sorted(v: &[String]) -> Vec<String> {
    let mut v = v.to_vec();
    v.sort();
    v
}

impl MetricAlarmSpec {
    async fn describe(&self, aws: &Clients) -> Result<Option<MetricAlarm>, AwsError> {
        let out = aws
            .cloudwatch
            .describe_alarms()
            .alarm_names(&self.name)
            .send()
            .await
            .map_err(|e| AwsError::sdk("cloudwatch:DescribeAlarms", e))?;
        Ok(out.metric_alarms().iter().find(|a| a.alarm_name() == Some(self.name.as_str())).cloned())
    }

    async fn tags_of(&self, aws: &Clients, arn: &str) -> Result<BTreeMap<String, String>, AwsError> {
        let out = aws
            .cloudwatch
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .map_err(|e| AwsError::sdk("cloudwatch:ListTagsForResource", e))?;
        Ok(out
            .tags()
            .iter()
            .map(|t| (t.key().unwrap_or_default().to_string(), t.value().unwrap_or_default().to_string()))
            .collect())
    }

    /// Create or replace the alarm; returns its ARN.
    async fn put(&self, aws: &Clients) -> Result<String, AwsError> {
        aws.cloudwatch
            .put_metric_alarm()
            .alarm_name(&self.name)
            .alarm_description(&self.description)
            .set_metrics(Some(self.metrics.iter().map(query).collect()))
            .comparison_operator(ComparisonOperator::from(self.comparison_operator.as_str()))
            .threshold(self.threshold)
            .evaluation_periods(self.evaluation_periods)
            .datapoints_to_alarm(self.datapoints_to_alarm)
            .treat_missing_data(&self.treat_missing_data)
            .set_alarm_actions(Some(self.actions.clone()))
            .set_ok_actions(Some(self.actions.clone()))
            .set_tags(Some(
                self.tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect(),
            ))
            .send()
            .await
            .map_err(|e| AwsError::sdk("cloudwatch:PutMetricAlarm", e))?;
        let alarm = self
            .describe(aws)
            .await?
            .ok_or_else(|| AwsError::new("cloudwatch:DescribeAlarms", format!("alarm {} not found after PutMetricAlarm", self.name)))?;
        let arn = alarm.alarm_arn().unwrap_or_default().to_string();
        // PutMetricAlarm only applies tags when it creates the alarm.
        aws.cloudwatch
            .tag_resource()
            .resource_arn(&arn)
            .set_tags(Some(
                self.tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect(),
            ))
            .send()
            .await
            .map_err(|e| AwsError::sdk("cloudwatch:TagResource", e))?;
        Ok(arn)
    }

    fn differences(&self, a: &MetricAlarm) -> Vec<String> {
        let mut diffs = Vec::new();
        let op = a.comparison_operator().map(|o| o.as_str()).unwrap_or_default();
        if op != self.comparison_operator {
            diffs.push(format!("comparison is {op}, want {}", self.comparison_operator));
        }
        if a.threshold() != Some(self.threshold) {
            diffs.push(format!("threshold is {:?}, want {}", a.threshold(), self.threshold));
        }
        if a.evaluation_periods() != Some(self.evaluation_periods) {
            diffs.push(format!("evaluation periods are {:?}, want {}", a.evaluation_periods(), self.evaluation_periods));
        }
        if a.datapoints_to_alarm() != Some(self.datapoints_to_alarm) {
            diffs.push(format!("datapoints to alarm are {:?}, want {}", a.datapoints_to_alarm(), self.datapoints_to_alarm));
        }
        if a.treat_missing_data() != Some(self.treat_missing_data.as_str()) {
            diffs.push(format!("missing data treated as {:?}, want {}", a.treat_missing_data(), self.treat_missing_data));
        }
        if sorted(a.alarm_actions()) != sorted(&self.actions) {
            diffs.push(format!("actions are {:?}, want {:?}", a.alarm_actions(), self.actions));
        }
        let mut observed: Vec<MetricQuerySpec> = a.metrics().iter().map(observed_query).collect();
        let mut wanted = self.metrics.clone();
        observed.sort_by(|x, y| x.id.cmp(&y.id));
        wanted.sort_by(|x, y| x.id.cmp(&y.id));
        if observed != wanted {
            diffs.push("metric queries differ".to_string());
        }
        diffs
    }
}

#[async_trait]
impl Adapter for MetricAlarmSpec {
    async fn observe(&self, aws: &Clients, id: &str, _: &Resolved) -> Result<Observation, AwsError> {
        let Some(alarm) = self.describe(aws).await? else {
            return Ok(Observation::Missing);
        };
        let mut diffs = self.differences(&alarm);
        diffs.extend(tags::differences(&self.tags, &self.tags_of(aws, id).await?));
        Ok(Observation::with_differences(diffs))
    }

    async fn create(&self, aws: &Clients, _: &Resolved) -> Result<String, AwsError> {
        if let Some(existing) = self.describe(aws).await? {
            let arn = existing.alarm_arn().unwrap_or_default().to_string();
            if !tags::may_adopt(&self.tags, &self.tags_of(aws, &arn).await?) {
                return Err(AwsError::new(
                    "cloudwatch:PutMetricAlarm",
                    format!("an alarm named {} already exists and is not owned by {}", self.name, tags::owner(&self.tags)),
                ));
            }
        }
        self.put(aws).await
    }

    async fn update(&self, aws: &Clients, _id: &str, _: &Resolved) -> Result<String, AwsError> {
        self.put(aws).await
    }

    async fn delete(&self, aws: &Clients, _id: &str) -> Result<(), AwsError> {
        match aws.cloudwatch.delete_alarms().alarm_names(&self.name).send().await {
            Ok(_) => Ok(()),
            Err(e) => {
                let err = AwsError::sdk("cloudwatch:DeleteAlarms", e);
                if err.is_not_found() {
                    Ok(())
                } else {
                    Err(err)
                }
            }
        }
    }
}
