//! CloudWatch metric alarm. Its id is the alarm name (unique per account
//! and region; PutMetricAlarm and DeleteAlarms take names).

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_cloudwatch::types::{
    ComparisonOperator, Dimension, Metric, MetricAlarm, MetricDataQuery, MetricStat, Tag,
};

use crate::aws::compare::json_differences;
use crate::aws::{tags, Adapter, AwsError, Clients, Found};
use crate::engine::{Observation, Resolved};
use crate::spec::cloudwatch::{MetricAlarmSpec, MetricQuerySpec, MetricStatSpec};

impl MetricAlarmSpec {
    async fn describe(&self, aws: &Clients, name: &str) -> Result<Option<MetricAlarm>, AwsError> {
        described(aws, name.to_string()).await
    }

    fn queries(&self) -> Vec<MetricDataQuery> {
        self.metrics
            .iter()
            .map(|q| {
                let stat = q.metric.as_ref().map(|m| {
                    let mut metric = Metric::builder()
                        .namespace(&m.namespace)
                        .metric_name(&m.metric_name);
                    for (k, v) in &m.dimensions {
                        metric = metric.dimensions(Dimension::builder().name(k).value(v).build());
                    }
                    MetricStat::builder()
                        .metric(metric.build())
                        .period(m.period_seconds)
                        .stat(&m.stat)
                        .build()
                });
                MetricDataQuery::builder()
                    .id(&q.id)
                    .set_label(q.label.clone())
                    .set_expression(q.expression.clone())
                    .set_metric_stat(stat)
                    .return_data(q.return_data)
                    .build()
            })
            .collect()
    }

    async fn put(&self, aws: &Clients, with_tags: bool) -> Result<(), AwsError> {
        let mut request = aws
            .cloudwatch
            .put_metric_alarm()
            .alarm_name(&self.name)
            .alarm_description(&self.description)
            .actions_enabled(true)
            .set_alarm_actions(Some(self.actions.clone()))
            .set_ok_actions(Some(self.actions.clone()))
            .set_metrics(Some(self.queries()))
            .comparison_operator(ComparisonOperator::from(self.comparison_operator.as_str()))
            .threshold(self.threshold)
            .evaluation_periods(self.evaluation_periods)
            .datapoints_to_alarm(self.datapoints_to_alarm)
            .treat_missing_data(&self.treat_missing_data);
        if with_tags {
            // Tags given here only apply when the alarm is new.
            request = request.set_tags(Some(
                self.tags
                    .iter()
                    .map(|(k, v)| Tag::builder().key(k).value(v).build())
                    .collect(),
            ));
        }
        request
            .send()
            .await
            .map_err(|e| AwsError::sdk("cloudwatch:PutMetricAlarm", e))?;
        Ok(())
    }

    /// What AWS reports, in the spec's terms (tags left as wanted; actions
    /// in the wanted order when they are the same set).
    fn as_reported(&self, alarm: &MetricAlarm) -> MetricAlarmSpec {
        let mut found = reported(alarm, self.tags.clone());
        let mut actions = found.actions.clone();
        actions.sort();
        let mut wanted_actions = self.actions.clone();
        wanted_actions.sort();
        if actions == wanted_actions {
            found.actions = self.actions.clone();
        }
        found
    }

    /// How the alarm AWS described differs from this spec, tags aside.
    fn body_differences(&self, alarm: &MetricAlarm) -> Vec<String> {
        let found = serde_json::to_value(self.as_reported(alarm)).unwrap_or_default();
        let wanted = serde_json::to_value(self).unwrap_or_default();
        json_differences("alarm", &found, &wanted)
    }

    /// How the alarm AWS described (`None`: it does not exist) differs from
    /// this spec; reads its tags.
    async fn observed(
        &self,
        aws: &Clients,
        alarm: Option<&MetricAlarm>,
    ) -> Result<Observation, AwsError> {
        let Some(alarm) = alarm else {
            return Ok(Observation::Missing);
        };
        let mut diffs = self.body_differences(alarm);
        if let Some(arn) = alarm.alarm_arn() {
            diffs.extend(tags::differences(
                &self.tags,
                &super::tags_read(aws, arn).await?,
            ));
        }
        Ok(Observation::with_differences(diffs))
    }

    /// Read back many alarms (`(spec, recorded name)`): one DescribeAlarms
    /// per 100 names instead of one per alarm, then their tags, all at once.
    pub async fn observe_many(
        aws: &Clients,
        items: &[(&MetricAlarmSpec, &str)],
        resolved: &Resolved,
    ) -> Vec<Result<Observation, AwsError>> {
        let specs: Vec<MetricAlarmSpec> = items.iter().map(|(s, _)| s.with_ids(resolved)).collect();
        let mut described: BTreeMap<String, MetricAlarm> = BTreeMap::new();
        for chunk in items.chunks(DESCRIBE_ALARMS_MAX_NAMES) {
            let names: Vec<String> = chunk.iter().map(|(_, id)| id.to_string()).collect();
            if let Err(e) = describe_named(aws, names, &mut described).await {
                return items.iter().map(|_| Err(e.clone())).collect();
            }
        }
        futures::future::join_all(
            items
                .iter()
                .zip(&specs)
                .map(|((_, id), spec)| spec.observed(aws, described.get(*id))),
        )
        .await
    }

    /// Read back many alarms by name: one DescribeAlarms per 100 names
    /// instead of one per alarm, then their tags, all at once. One answer
    /// per spec, in order.
    pub async fn read_back_many(
        aws: &Clients,
        specs: &[&MetricAlarmSpec],
    ) -> Result<Vec<Option<Found<MetricAlarmSpec>>>, AwsError> {
        let mut described: BTreeMap<String, MetricAlarm> = BTreeMap::new();
        for chunk in specs.chunks(DESCRIBE_ALARMS_MAX_NAMES) {
            let names = chunk.iter().map(|s| s.name.clone()).collect();
            describe_named(aws, names, &mut described).await?;
        }
        futures::future::try_join_all(specs.iter().map(|spec| {
            let alarm = described.get(&spec.name);
            async move {
                let Some(alarm) = alarm else {
                    return Ok(None);
                };
                let tags = match alarm.alarm_arn() {
                    Some(arn) => super::tags_read(aws, arn).await?,
                    None => BTreeMap::new(),
                };
                Ok(Some(Found::new(reported(alarm, tags), &spec.name)))
            }
        }))
        .await
    }

    /// Read back the alarm of this name (its id).
    pub async fn read_back(
        &self,
        aws: &Clients,
    ) -> Result<Option<Found<MetricAlarmSpec>>, AwsError> {
        let Some(alarm) = self.describe(aws, &self.name).await? else {
            return Ok(None);
        };
        let tags = match alarm.alarm_arn() {
            Some(arn) => super::tags_read(aws, arn).await?,
            None => BTreeMap::new(),
        };
        Ok(Some(Found::new(reported(&alarm, tags), &self.name)))
    }
}

/// DescribeAlarms takes at most 100 alarm names (and returns at most 100
/// alarms a page).
const DESCRIBE_ALARMS_MAX_NAMES: usize = 100;

/// Describe the alarms of these names into `found`, page by page.
async fn describe_named(
    aws: &Clients,
    names: Vec<String>,
    found: &mut BTreeMap<String, MetricAlarm>,
) -> Result<(), AwsError> {
    let mut sorted = names.clone();
    sorted.sort();
    let key = format!("cloudwatch:DescribeAlarms {}", sorted.join(","));
    let described = aws
        .remembered(key, || async {
            let answers =
                futures::future::try_join_all(names.iter().map(|n| described(aws, n.clone())))
                    .await?;
            let described: BTreeMap<String, MetricAlarm> = names
                .into_iter()
                .zip(answers)
                .filter_map(|(name, alarm)| Some((name, alarm?)))
                .collect();
            Ok(described)
        })
        .await?;
    found.extend(described);
    Ok(())
}

/// The alarm of `name`: in a refresh from the process's listing of the
/// alarms the provider owns ([`refresh_listing`]); one it does not name
/// (deleted, its owner tag removed, made a moment ago) and every read
/// outside a refresh asked of AWS, gathered.
async fn described(aws: &Clients, name: String) -> Result<Option<MetricAlarm>, AwsError> {
    if let Some(listing) = refresh_listing(aws).await? {
        if let Some(alarm) = listing.get(&name) {
            return Ok(Some(alarm.clone()));
        }
    }
    gathered(aws, name).await
}

/// In a refresh (a process that only reads, see
/// [`crate::aws::tagging::refresh_listing`]), every alarm of the region
/// that carries the provider's owner key, by name: their names from the
/// process's one tag listing of the owned CloudWatch and Logs objects,
/// described 100 a call, once for the whole process. A plan of N
/// microservices so costs a DescribeAlarms per 100 alarms, where asks
/// gathered within a moment meet only the few refreshes Terraform runs at
/// once. `None` outside a refresh; a listing that fails is not kept.
async fn refresh_listing(
    aws: &Clients,
) -> Result<Option<Arc<BTreeMap<String, MetricAlarm>>>, AwsError> {
    use crate::aws::tagging::{MONITORING_LISTING, MONITORING_TYPES};
    type Listing = tokio::sync::OnceCell<Arc<BTreeMap<String, MetricAlarm>>>;
    let Some(owned) =
        crate::aws::tagging::refresh_listing(aws, MONITORING_LISTING, MONITORING_TYPES).await?
    else {
        return Ok(None);
    };
    let listing = aws
        .gatherers
        .shared::<Listing>("cloudwatch:DescribeAlarms (refresh)")
        .get_or_try_init(|| async {
            let mut names: Vec<String> = owned
                .keys()
                .filter_map(|arn| alarm_name_in(arn, &aws.region))
                .collect();
            names.sort();
            let parts = futures::future::try_join_all(names.chunks(DESCRIBE_ALARMS_MAX_NAMES).map(
                |chunk| async move {
                    let mut found = BTreeMap::new();
                    describe_named_now(aws, chunk.to_vec(), &mut found).await?;
                    Ok::<_, AwsError>(found)
                },
            ))
            .await?;
            Ok::<_, AwsError>(Arc::new(parts.into_iter().flatten().collect()))
        })
        .await?
        .clone();
    Ok(Some(listing))
}

/// The name of the alarm `arn` names
/// (`arn:PARTITION:cloudwatch:REGION:ACCOUNT:alarm:NAME`) in `region`;
/// `None` for any other ARN.
fn alarm_name_in(arn: &str, region: &str) -> Option<String> {
    let parts: Vec<&str> = arn.splitn(7, ':').collect();
    match parts.as_slice() {
        ["arn", _, "cloudwatch", r, _, "alarm", name] if *r == region && !name.is_empty() => {
            Some(name.to_string())
        }
        _ => None,
    }
}

/// The alarm of `name`, described together with the other alarms asked
/// for at the same moment by any resource of this process
/// ([`crate::aws::gatherer`]): one DescribeAlarms per 100 names.
async fn gathered(aws: &Clients, name: String) -> Result<Option<MetricAlarm>, AwsError> {
    let gatherer = aws
        .gatherers
        .of::<MetricAlarm>("cloudwatch:DescribeAlarms", DESCRIBE_ALARMS_MAX_NAMES);
    let aws = aws.clone();
    gatherer
        .ask(name, move |names| async move {
            let mut described = BTreeMap::new();
            describe_named_now(&aws, names, &mut described).await?;
            Ok(described.into_iter().collect())
        })
        .await
}

async fn describe_named_now(
    aws: &Clients,
    names: Vec<String>,
    found: &mut BTreeMap<String, MetricAlarm>,
) -> Result<(), AwsError> {
    let mut next_token = None;
    loop {
        let out = aws
            .cloudwatch
            .describe_alarms()
            .set_alarm_names(Some(names.clone()))
            .max_records(DESCRIBE_ALARMS_MAX_NAMES as i32)
            .set_next_token(next_token)
            .send()
            .await
            .map_err(|e| AwsError::sdk("cloudwatch:DescribeAlarms", e))?;
        for alarm in out.metric_alarms() {
            if let Some(name) = alarm.alarm_name() {
                found.insert(name.to_string(), alarm.clone());
            }
        }
        next_token = out.next_token().map(str::to_string);
        if next_token.is_none() {
            return Ok(());
        }
    }
}

/// An alarm as AWS reports it, in the spec's terms, with `tags`.
fn reported(alarm: &MetricAlarm, tags: crate::spec::Tags) -> MetricAlarmSpec {
    let metrics = alarm
        .metrics()
        .iter()
        .map(|q| MetricQuerySpec {
            id: q.id().unwrap_or_default().to_string(),
            label: q.label().map(str::to_string),
            expression: q.expression().map(str::to_string),
            metric: q.metric_stat().map(|s| {
                let m = s.metric();
                MetricStatSpec {
                    namespace: m
                        .and_then(|m| m.namespace())
                        .unwrap_or_default()
                        .to_string(),
                    metric_name: m
                        .and_then(|m| m.metric_name())
                        .unwrap_or_default()
                        .to_string(),
                    dimensions: m
                        .map(|m| m.dimensions())
                        .unwrap_or_default()
                        .iter()
                        .filter_map(|d| Some((d.name()?.to_string(), d.value()?.to_string())))
                        .collect(),
                    period_seconds: s.period().unwrap_or(0),
                    stat: s.stat().unwrap_or_default().to_string(),
                }
            }),
            // AWS leaves ReturnData out when it is the default (true).
            return_data: q.return_data().unwrap_or(true),
        })
        .collect();
    MetricAlarmSpec {
        name: alarm.alarm_name().unwrap_or_default().to_string(),
        description: alarm.alarm_description().unwrap_or_default().to_string(),
        metrics,
        comparison_operator: alarm
            .comparison_operator()
            .map(|c| c.as_str().to_string())
            .unwrap_or_default(),
        threshold: alarm.threshold().unwrap_or(0.0),
        evaluation_periods: alarm.evaluation_periods().unwrap_or(0),
        datapoints_to_alarm: alarm
            .datapoints_to_alarm()
            .unwrap_or_else(|| alarm.evaluation_periods().unwrap_or(0)),
        treat_missing_data: alarm.treat_missing_data().unwrap_or("missing").to_string(),
        actions: alarm.alarm_actions().to_vec(),
        tags,
    }
}

#[async_trait]
impl Adapter for MetricAlarmSpec {
    async fn observe(
        &self,
        aws: &Clients,
        id: &str,
        resolved: &Resolved,
    ) -> Result<Observation, AwsError> {
        let resolved_self = self.with_ids(resolved);
        let this = &resolved_self;
        // With the account known the ARN is known: the tags are asked at
        // the same time as the alarm, one round instead of two.
        let Some(arn) = crate::aws::arn::alarm(&aws.region, aws.account_id.as_deref(), id) else {
            let alarm = this.describe(aws, id).await?;
            return this.observed(aws, alarm.as_ref()).await;
        };
        let (alarm, found_tags) =
            futures::join!(this.describe(aws, id), super::tags_read(aws, &arn));
        let Some(alarm) = alarm? else {
            // A missing alarm's tag read may fail: it does not matter.
            return Ok(Observation::Missing);
        };
        if alarm.alarm_arn() != Some(arn.as_str()) {
            return this.observed(aws, Some(&alarm)).await;
        }
        let mut diffs = this.body_differences(&alarm);
        diffs.extend(tags::differences(&this.tags, &found_tags?));
        Ok(Observation::with_differences(diffs))
    }

    async fn create(&self, aws: &Clients, resolved: &Resolved) -> Result<String, AwsError> {
        let resolved_self = self.with_ids(resolved);
        let this = &resolved_self;
        // PutMetricAlarm overwrites: check the owner of an existing alarm first.
        if let Some(existing) = this.describe(aws, &this.name).await? {
            let found = match existing.alarm_arn() {
                Some(arn) => super::tags_of(aws, arn).await?,
                None => BTreeMap::new(),
            };
            tags::claim(
                "cloudwatch:PutMetricAlarm",
                "alarm",
                &this.name,
                &this.tags,
                &found,
            )?;
            return this.update(aws, &this.name, resolved).await;
        }
        this.put(aws, true).await?;
        Ok(this.name.clone())
    }

    async fn update(
        &self,
        aws: &Clients,
        id: &str,
        resolved: &Resolved,
    ) -> Result<String, AwsError> {
        let resolved_self = self.with_ids(resolved);
        let this = &resolved_self;
        if id != this.name {
            // Renamed: the old alarm goes, the new one comes.
            this.delete(aws, id).await?;
        }
        this.put(aws, true).await?;
        if let Some(arn) = self
            .describe(aws, &this.name)
            .await?
            .and_then(|a| a.alarm_arn().map(str::to_string))
        {
            super::put_tags(aws, &arn, &this.tags).await?;
        }
        Ok(this.name.clone())
    }

    async fn delete(&self, aws: &Clients, id: &str) -> Result<(), AwsError> {
        // DeleteAlarms succeeds for names that do not exist.
        aws.cloudwatch
            .delete_alarms()
            .alarm_names(id)
            .send()
            .await
            .map_err(|e| AwsError::sdk("cloudwatch:DeleteAlarms", e))?;
        Ok(())
    }
}

#[cfg(test)]
mod gathered_tests {
    use super::*;
    use crate::aws::fake_endpoint::FakeEndpoint;

    fn spec(name: &str) -> MetricAlarmSpec {
        MetricAlarmSpec {
            name: name.to_string(),
            description: String::new(),
            metrics: Vec::new(),
            comparison_operator: "GreaterThanThreshold".into(),
            threshold: 1.0,
            evaluation_periods: 1,
            datapoints_to_alarm: 1,
            treat_missing_data: "notBreaching".into(),
            actions: Vec::new(),
            tags: Default::default(),
        }
    }

    /// Alarms of many resources read at the same moment: one DescribeAlarms
    /// per 100 names, not one per resource or per alarm.
    #[tokio::test]
    async fn concurrent_alarm_reads_of_many_resources_share_describe_alarms() {
        let fake = FakeEndpoint::start(|_, _| (200, serde_json::json!({})));
        let aws = fake.clients();
        let specs: Vec<MetricAlarmSpec> = (0..150).map(|i| spec(&format!("svc-{i}-cpu"))).collect();
        // 30 resources, each reading its 5 alarms: by name, and all of its
        // own with one read_back_many.
        let reads = specs.chunks(5).map(|own| {
            let aws = aws.clone();
            async move {
                let refs: Vec<&MetricAlarmSpec> = own.iter().collect();
                let many = MetricAlarmSpec::read_back_many(&aws, &refs).await.unwrap();
                let one = own[0].read_back(&aws).await.unwrap();
                (many, one)
            }
        });
        let answers = futures::future::join_all(reads).await;
        assert!(answers
            .iter()
            .all(|(many, one)| many.iter().all(Option::is_none) && one.is_none()));
        let calls = fake.calls();
        assert!(calls.iter().all(|c| c == "DescribeAlarms"), "{calls:?}");
        // 150 names in batches of at most 100 (and the by-name reads joined
        // to a batch of their moment): a handful, not 60.
        assert!((2..=4).contains(&calls.len()), "{calls:?}");
    }

    fn owned(name: &str) -> MetricAlarmSpec {
        MetricAlarmSpec {
            tags: [("matbakh:owner".to_string(), "p/s".to_string())].into(),
            ..spec(name)
        }
    }

    fn alarm_arn(name: &str) -> String {
        format!("arn:aws:cloudwatch:eu-central-1:1:alarm:{name}")
    }

    /// CloudWatch and the tagging API with alarms `p-s0-cpu` ..
    /// `p-s{n-1}-cpu` owned and tagged, `p-untagged-cpu` whose owner tag
    /// was removed (GetResources does not name it), and no `p-gone-cpu`.
    fn monitoring(n: usize) -> FakeEndpoint {
        FakeEndpoint::start(move |op, body| match op {
            "GetResources" if body.get("ResourceARNList").is_some() => (
                400,
                serde_json::json!({"__type": "ByArn", "message": "asked by ARN"}),
            ),
            "GetResources" => {
                assert_eq!(
                    body["ResourceTypeFilters"],
                    serde_json::json!(["cloudwatch", "logs:log-group"])
                );
                assert_eq!(
                    body["TagFilters"],
                    serde_json::json!([{"Key": "matbakh:owner"}])
                );
                // 100 a page, another platform's log group and a
                // dashboard among them.
                let all: Vec<String> = (0..n)
                    .map(|i| alarm_arn(&format!("p-s{i}-cpu")))
                    .chain([
                        "arn:aws:logs:eu-central-1:1:log-group:/matbakh/q/x".to_string(),
                        "arn:aws:cloudwatch::1:dashboard/p-s0-eu-central-1".to_string(),
                    ])
                    .collect();
                let start: usize = body["PaginationToken"]
                    .as_str()
                    .map_or(0, |t| t.parse().unwrap());
                let end = (start + 100).min(all.len());
                let page: Vec<_> = all[start..end]
                    .iter()
                    .map(|a| {
                        serde_json::json!({"ResourceARN": a,
                               "Tags": [{"Key": "matbakh:owner", "Value": "p/s"}]})
                    })
                    .collect();
                let token = if end < all.len() {
                    end.to_string()
                } else {
                    String::new()
                };
                (
                    200,
                    serde_json::json!({"ResourceTagMappingList": page, "PaginationToken": token}),
                )
            }
            // The fake does not decode CloudWatch's CBOR requests: every
            // alarm that exists is answered, whatever the names asked.
            "DescribeAlarms" => {
                let alarms: Vec<_> = (0..n)
                    .map(|i| format!("p-s{i}-cpu"))
                    .chain(["p-untagged-cpu".to_string()])
                    .map(|n| {
                        serde_json::json!({"AlarmName": n, "AlarmArn": alarm_arn(&n),
                               "ComparisonOperator": "GreaterThanThreshold",
                               "Threshold": 1.0, "EvaluationPeriods": 1,
                               "DatapointsToAlarm": 1, "TreatMissingData": "notBreaching"})
                    })
                    .collect();
                (200, serde_json::json!({"MetricAlarms": alarms}))
            }
            "ListTagsForResource" => (
                200,
                serde_json::json!({"Tags": [{"Key": "matbakh:owner", "Value": "p/s"}]}),
            ),
            _ => (
                400,
                serde_json::json!({"__type": "Unexpected", "message": op}),
            ),
        })
    }

    /// A refresh of 150 microservices' alarms, each resource with its own
    /// memo: one listing of the owned objects' tags (two pages), their
    /// alarms described 100 names a call, once for the process; the alarm
    /// the listing does not name asked for alone (and its tags of
    /// CloudWatch), the deleted one seen as gone.
    #[tokio::test]
    async fn a_refresh_lists_the_owned_alarms_once_for_the_whole_process() {
        let n = 150;
        let fake = monitoring(n);
        let mut configured = fake.clients();
        configured.account_id = Some("1".into());
        let specs: Vec<MetricAlarmSpec> = (0..n)
            .map(|i| owned(&format!("p-s{i}-cpu")))
            .chain([owned("p-untagged-cpu"), owned("p-gone-cpu")])
            .collect();
        let resolved = Resolved::default();
        let observed = futures::future::join_all(specs.iter().map(|s| {
            let aws = configured.remembering_reads();
            let resolved = &resolved;
            async move { s.observe(&aws, &s.name, resolved).await }
        }))
        .await;
        for (i, o) in observed[..=n].iter().enumerate() {
            assert_eq!(
                o.as_ref().unwrap(),
                &Observation::in_sync(),
                "{i}: {:?}",
                fake.calls()
            );
        }
        assert_eq!(observed[n + 1].as_ref().unwrap(), &Observation::Missing);
        let calls = fake.calls();
        let count = |op: &str| calls.iter().filter(|c| *c == op).count();
        assert_eq!(count("GetResources"), 2, "{calls:?}");
        // 150 listed alarms in two calls; the two unlisted ones in one
        // gathered call (or two, if they miss each other's moment).
        assert!((3..=4).contains(&count("DescribeAlarms")), "{calls:?}");
        // The tags of the two unlisted ones are asked of CloudWatch beside
        // their describe (the gone one's answer is not used).
        assert_eq!(count("ListTagsForResource"), 2, "{calls:?}");
    }

    /// Outside a refresh (an apply), nothing is listed: the alarm is asked
    /// for by name and its tags by ARN.
    #[tokio::test]
    async fn an_apply_asks_for_its_alarms_by_name() {
        let fake = monitoring(3);
        let mut aws = fake.clients();
        aws.account_id = Some("1".into());
        let err = owned("p-s1-cpu")
            .observe(&aws, "p-s1-cpu", &Resolved::default())
            .await;
        // The fake refuses GetResources by ARN: the by-ARN ask was made,
        // not the listing.
        assert!(err.unwrap_err().to_string().contains("asked by ARN"));
        let calls = fake.calls();
        assert!(calls.contains(&"DescribeAlarms".to_string()), "{calls:?}");
    }

    #[test]
    fn only_alarm_arns_of_the_region_name_an_alarm() {
        let region = "eu-central-1";
        assert_eq!(
            alarm_name_in("arn:aws:cloudwatch:eu-central-1:1:alarm:p-a:b-cpu", region).as_deref(),
            Some("p-a:b-cpu")
        );
        for other in [
            "arn:aws:cloudwatch:us-east-1:1:alarm:p-a-cpu",
            "arn:aws:cloudwatch::1:dashboard/p-a-eu-central-1",
            "arn:aws:cloudwatch:eu-central-1:1:insight-rule/r",
            "arn:aws:logs:eu-central-1:1:log-group:/matbakh/p/a",
            "arn:aws:cloudwatch:eu-central-1:1:alarm:",
        ] {
            assert_eq!(alarm_name_in(other, region), None, "{other}");
        }
    }
}
